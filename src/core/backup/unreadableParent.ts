import { isOutOfSpace } from '../diskSpace';
import { isEnvProfilesError } from '../errors';
import { NewerFormatError } from './backupManifest';
import { sameChain } from './catalogRecordCheck';

/**
 * The archive an incremental backup builds on could not be read: damaged in a way its size does not
 * show (a flipped bit in its manifest or a page index), or gone meanwhile. Before, every later backup of
 * the profile failed on it, the emergency one too; now the backup is taken again, full.
 */
export class UnreadableParentError extends Error {
  constructor(readonly parentId: string, readonly reason: unknown) {
    super(`the archive of ${parentId} cannot be read`);
  }

  /** Why the backup is full, for its note. */
  get note(): string {
    const why = (this.reason as Error)?.message ?? String(this.reason);
    // Not damaged: this version cannot read it (a backups folder shared with a newer one), nor restore what builds on it.
    if (this.reason instanceof NewerFormatError) return `the archive of ${this.parentId}, which this backup would have built on, was written by a newer version of Environment Profiles, which this one cannot build on, so this one is full; update Environment Profiles to verify or restore ${this.parentId}`;
    if (this.reason instanceof ParentRecordMismatch) return `the catalog's record of ${this.parentId}, which this backup would have built on, disagrees with its archive (${why}), so this one is full; make the catalog match the archives: envprofiles backups ${this.reason.profileId} --rebuild-catalog`;
    return `the archive of ${this.parentId}, which this backup would have built on, cannot be read (${why.replace(/\.$/, '')}), so this one is full; check that one: envprofiles verify ${this.parentId}`;
  }
}

/**
 * `reading` as a read of the parent archive: its failure becomes an UnreadableParentError, unless it is
 * no fault of the archive (a full disk where its page index is staged, a cancel).
 */
export function asParentRead<T>(parentId: string, reading: Promise<T>): Promise<T> {
  return reading.catch((error: unknown) => {
    if (isOutOfSpace(error) || (isEnvProfilesError(error) && error.code === 'CANCELLED')) throw error;
    throw new UnreadableParentError(parentId, error);
  });
}

/**
 * The parent's archive is not what the catalog says of it: another backup under its name, or a chain
 * that differs (a catalog edited or merged by hand). The new backup's chain is the parent's record's
 * plus the parent: built on a record that lost its chain, a backup lacked its full and was never
 * restorable.
 */
export class ParentRecordMismatch extends Error {
  constructor(readonly profileId: string, message: string) {
    super(message);
  }
}

/** `opening`, the parent's archive, checked against what the catalog says of it (`id`, `chain`). */
export async function matchingParent<T extends { manifest: { backupId: string; profileId: string; chain: string[] }; close(): void }>(profileId: string, id: string, chain: string[], opening: Promise<T>): Promise<T> {
  const reader = await opening;
  const { manifest } = reader;
  const problem = manifest.backupId !== id || manifest.profileId !== profileId ? `the archive holds ${manifest.backupId} of ${manifest.profileId}`
    : !sameChain(manifest.chain, chain) ? `its archive builds on ${manifest.chain.length > 0 ? manifest.chain.join(', ') : 'nothing'}, the catalog says on ${chain.length > 0 ? chain.join(', ') : 'nothing'}`
    : undefined;
  if (!problem) return reader;
  reader.close();
  throw new ParentRecordMismatch(profileId, problem);
}
