import { EnvProfilesError } from '../errors';
import { typedSystemError } from '../systemErrors';

/** Why one profile of an every-profile operation (backup --all, prune --all) was left as it was. */
export interface ProfileFailure {
  profileId: string;
  message: string;
  code?: string;
  hint?: string;
}

/** A backup of an every-backup operation (verify --all) that could not be handled at all (its archive gone, say). */
export type BackupFailure = ProfileFailure & { backupId: string };

/** The failure `error` makes of `profileId`'s part; a cancel is no one profile's failure and is thrown on. */
export function profileFailure(profileId: string, error: unknown): ProfileFailure {
  if (error instanceof EnvProfilesError && error.code === 'CANCELLED') throw error;
  const typed = error instanceof EnvProfilesError ? error : typedSystemError(error);
  return { profileId, message: typed?.message ?? (error as Error).message, ...(typed ? { code: typed.code } : {}), ...(typed?.hint ? { hint: typed.hint } : {}) };
}
