import { appendAudit } from '../auditLog';
import { salvagedProfile } from '../profileSalvage';
import { invalidProfileError, readAllProfileFiles } from '../profileStore';
import { workspaceConfigFor } from '../workspaceConfig';
import type { WorkspaceContext } from '../workspaceContext';
import { requireInitialised } from '../workspaceInit';
import { withWorkspaceLock } from '../workspaceSession';
import { backUpProfile } from './backupCreation';
import type { BackupResult, RequestedKind } from './backupRequest';
import { checkedBackupReason } from './backupReason';
import { profileFailure, type ProfileFailure } from './profileFailure';

export interface AllProfilesBackupResult {
  reason: string;
  results: BackupResult[];
  /** Each profile that was not backed up: why (`code` and `hint` when the error says what to do). */
  failures: ProfileFailure[];
  /** Profiles backed up although their file does not validate (by its databases: list; their notes say why). */
  brokenProfileFiles: string[];
}

/**
 * Backs up every profile at once (the emergency backup; one whose file does not validate by its
 * databases: list, when that still says where they are). One failing profile does not stop the
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
    const brokenProfileFiles: string[] = [];
    for (const file of readAllProfileFiles(context.layout, config)) {
      let profile = file.profile;
      let brokenFile: string | undefined;
      if (!profile) {
        const invalid = invalidProfileError(file.issues.length > 0 ? file.issues : [{ file: context.layout.relative(file.file), message: 'is not a valid profile' }]);
        // Its databases are saved all the same when its databases: list still says where they are.
        const salvaged = file.document ? salvagedProfile(file.id, file.document, context.layout, config) : undefined;
        profile = salvaged && Object.keys(salvaged.databases).length > 0 ? salvaged : undefined;
        if (!profile) {
          failures.push({ profileId: file.id, message: `not backed up: ${invalid.message}`, code: invalid.code, hint: `Fix the profile file, then back it up: envprofiles backup ${file.id}.` });
          appendAudit(context, { event: 'backup', profile: file.id, outcome: 'failed', detail: `not backed up: ${invalid.message}` });
          continue;
        }
        const saved = `its databases were saved from its databases: list${file.document?.errors.length ? ` as far as it could be read (${Object.keys(profile.databases).join(', ')}; any listed at or after the error may be missing)` : ''}, and the file as it is`;
        brokenFile = `its profile file does not validate (${invalid.message}); ${saved}. Fix the file, then back the profile up again (envprofiles backup ${file.id})`;
      }
      try {
        // In an emergency what can be saved is saved: a database that cannot be taken is left out (and named).
        const result = await backUpProfile(context, config, profile, kind, reason, { saveWhatCan: true });
        results.push(brokenFile ? { ...result, notes: [brokenFile, ...result.notes] } : result);
        if (brokenFile) brokenProfileFiles.push(file.id);
      } catch (error) {
        failures.push(profileFailure(file.id, error));
      }
    }
    return { reason, results, failures, brokenProfileFiles };
  });
}
