import { isEnvProfilesError } from '../errors';
import type { WorkspaceContext } from '../workspaceContext';
import type { BackupResult, RequestedKind } from './backupRequest';
import { verifyBackup, type VerificationResult } from './backupVerification';

/** A new backup and its verification; `inPlaceOf` when it is a full one taken because the incremental first made failed. */
export interface VerifiedNewBackup {
  result: BackupResult;
  verification: VerificationResult;
  inPlaceOf?: { id: string; problem: string; alsoFailed?: string[] };
  /** Why no full backup could be taken in place of the failed incremental (`result` is then that incremental). */
  fullNotTaken?: string;
}

/**
 * Verifies a backup just written (`backup --verify`). An incremental the tool chose (`requested` auto)
 * gives its data back only with the archives it builds on, and one of them damaged on the disk since
 * fails it: then `takeFull` makes a full backup of the profile, which needs none of them, and that one
 * is verified in its place, so that the night's backup is one that restores. The failed incremental is
 * kept, its failure recorded. One the user asked for by kind is left as it is.
 */
export async function verifyNewBackup(context: WorkspaceContext, made: BackupResult, requested: RequestedKind, takeFull: () => Promise<BackupResult>): Promise<VerifiedNewBackup> {
  // By its archive: a backup into a catalog that cannot be read is not listed, and is verified all the same.
  const verification = await verifyBackup(context, made.archive);
  if (verification.ok || verification.archiveSound || requested !== 'auto' || made.entry.kind !== 'incremental') return { result: made, verification };
  const problem = verification.problems[0] ?? 'it failed verification';
  context.logger.warn(`the incremental backup ${made.entry.id} failed verification (${problem.replace(/\.$/, '')}); taking a full backup in its place`);
  let full: BackupResult;
  try {
    full = await takeFull();
  } catch (error) {
    if (!isEnvProfilesError(error) || error.code === 'CANCELLED') throw error;
    return { result: made, verification, fullNotTaken: error.message };
  }
  return { result: full, verification: await verifyBackup(context, full.archive), inPlaceOf: { id: made.entry.id, problem, ...(verification.alsoFailed ? { alsoFailed: verification.alsoFailed } : {}) } };
}
