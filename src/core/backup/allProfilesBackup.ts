import { EnvProfilesError } from '../errors';
import { checkProfilePath } from '../pathSafety';
import { PROFILE_TYPES, type Profile } from '../profileModel';
import { invalidProfileError, readAllProfileFiles, type ProfileFileResult } from '../profileStore';
import { isEnvironmentVariableName } from '../safeNames';
import { typedSystemError } from '../systemErrors';
import { workspaceConfigFor, type WorkspaceConfig } from '../workspaceConfig';
import type { WorkspaceContext } from '../workspaceContext';
import { requireInitialised } from '../workspaceInit';
import type { WorkspaceLayout } from '../workspaceLayout';
import { withWorkspaceLock } from '../workspaceSession';
import { backUpProfile, type BackupResult, type RequestedKind } from './backupCreation';
import { checkedBackupReason } from './backupReason';

export interface AllProfilesBackupResult {
  reason: string;
  results: BackupResult[];
  /** Each profile that was not backed up: why (`code` and `hint` when the error says what to do). */
  failures: { profileId: string; message: string; code?: string; hint?: string }[];
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
        profile = salvagedProfile(context.layout, config, file);
        if (!profile) {
          failures.push({ profileId: file.id, message: `not backed up: ${invalid.message}`, code: invalid.code, hint: `Fix the profile file, then back it up: envprofiles backup ${file.id}.` });
          continue;
        }
        brokenFile = `its profile file does not validate (${invalid.message}); its databases were saved from its databases: list, and the file as it is. Fix the file, then back the profile up again (envprofiles backup ${file.id})`;
      }
      try {
        // In an emergency what can be saved is saved: a database that cannot be taken is left out (and named).
        const result = await backUpProfile(context, config, profile, kind, reason, { saveWhatCan: true });
        results.push(brokenFile ? { ...result, note: [brokenFile, result.note].filter((n) => n !== undefined).join('; ') } : result);
        if (brokenFile) brokenProfileFiles.push(file.id);
      } catch (error) {
        if (error instanceof EnvProfilesError && error.code === 'CANCELLED') throw error;
        const typed = error instanceof EnvProfilesError ? error : typedSystemError(error);
        failures.push({ profileId: file.id, message: typed?.message ?? (error as Error).message, ...(typed ? { code: typed.code } : {}), ...(typed?.hint ? { hint: typed.hint } : {}) });
      }
    }
    return { reason, results, failures, brokenProfileFiles };
  });
}

/**
 * For the emergency backup, a profile whose file does not validate, as far as its databases can still
 * be found: the entries of its `databases:` with a name that can be a variable and a path inside the
 * workspace (or an allowed folder). Undefined when the file does not parse or no entry is usable.
 */
function salvagedProfile(layout: WorkspaceLayout, config: WorkspaceConfig, file: ProfileFileResult): Profile | undefined {
  if (!file.document || file.document.errors.length > 0) return undefined;
  const raw = (file.document.toJS({ maxAliasCount: 100 }) as { profile?: unknown } | null)?.profile;
  if (!isMapping(raw) || !isMapping(raw.databases)) return undefined;
  const databases: Record<string, string> = {};
  for (const [logical, written] of Object.entries(raw.databases)) {
    if (isEnvironmentVariableName(logical) && typeof written === 'string' && checkProfilePath(layout.root, written, config.allowedDirectories).ok) databases[logical] = written;
  }
  if (Object.keys(databases).length === 0) return undefined;
  const type = PROFILE_TYPES.find((t) => t === String(raw.type).toUpperCase()) ?? 'BACKUP';
  const createdAt = typeof raw.created_at === 'string' && !Number.isNaN(Date.parse(raw.created_at)) ? raw.created_at : undefined;
  return { id: file.id, name: typeof raw.name === 'string' ? raw.name : file.id, type, ...(createdAt ? { createdAt } : {}), protected: type === 'PRODUCTION' || raw.protected === true, databases, configurations: {}, files: [], requiredTables: {} };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
