import { isOutOfSpace } from '../diskSpace';
import { isEnvProfilesError } from '../errors';

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
