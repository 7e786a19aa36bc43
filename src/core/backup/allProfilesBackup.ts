import { EnvProfilesError } from '../errors';
import { invalidProfileError, readAllProfileFiles } from '../profileStore';
import { typedSystemError } from '../systemErrors';
import { workspaceConfigFor } from '../workspaceConfig';
import type { WorkspaceContext } from '../workspaceContext';
import { requireInitialised } from '../workspaceInit';
import { withWorkspaceLock } from '../workspaceSession';
import { backUpProfile, type BackupResult, type RequestedKind } from './backupCreation';
import { checkedBackupReason } from './backupReason';

export interface AllProfilesBackupResult {
  reason: string;
  results: BackupResult[];
  /** Each profile that was not backed up: why (`code` and `hint` when the error says what to do). */
  failures: { profileId: string; message: string; code?: string; hint?: string }[];
}

/**
 * Backs up every valid profile at once (the emergency backup). One failing profile does not stop the
 * others, and a database that cannot be taken does not stop the rest of its profile (its result names
 * it in `leftOut`); every failure is reported.
 */
export async function backUpAllProfiles(context: WorkspaceContext, kind: RequestedKind, requestedReason: string): Promise<AllProfilesBackupResult> {
  requireInitialised(context.layout);
  const reason = checkedBackupReason(requestedReason);
  return withWorkspaceLock(context, `backup of every profile (${reason})`, async () => {
    const config = workspaceConfigFor(context);
    const results: BackupResult[] = [];
    const failures: AllProfilesBackupResult['failures'] = [];
    for (const file of readAllProfileFiles(context.layout, config)) {
      if (!file.profile) {
        const invalid = invalidProfileError(file.issues.length > 0 ? file.issues : [{ file: context.layout.relative(file.file), message: 'is not a valid profile' }]);
        failures.push({ profileId: file.id, message: `not backed up: ${invalid.message}`, code: invalid.code, hint: `Fix the profile file, then back it up: envprofiles backup ${file.id}.` });
        continue;
      }
      try {
        // In an emergency what can be saved is saved: a database that cannot be taken is left out (and named).
        results.push(await backUpProfile(context, config, file.profile, kind, reason, { saveWhatCan: true }));
      } catch (error) {
        if (error instanceof EnvProfilesError && error.code === 'CANCELLED') throw error;
        const typed = error instanceof EnvProfilesError ? error : typedSystemError(error);
        failures.push({ profileId: file.id, message: typed?.message ?? (error as Error).message, ...(typed ? { code: typed.code } : {}), ...(typed?.hint ? { hint: typed.hint } : {}) });
      }
    }
    return { reason, results, failures };
  });
}
