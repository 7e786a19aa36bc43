import * as fs from 'node:fs';

/** The permission bits of a file (read, write, execute for owner, group and others). */
export function permissionsOf(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

/**
 * What chmod says on a file system that keeps no permission bits (FAT or exFAT, through the kernel or
 * FUSE; some network shares): refused or not implemented, for a file this tool has just created.
 */
const NO_PERMISSION_BITS = new Set(['ENOSYS', 'ENOTSUP', 'EOPNOTSUPP', 'EPERM']);

/**
 * Gives `file` (a path, or an open file's descriptor) the permissions `mode`; returns false, instead of
 * failing, on a file system that keeps none (there the mount options decide who may read it). Before,
 * a backup into a folder on a FAT disk failed as "a bug" (ENOSYS, chmod).
 */
export function setPermissions(file: string | number, mode: number): boolean {
  try {
    if (typeof file === 'number') fs.fchmodSync(file, mode);
    else fs.chmodSync(file, mode);
    return true;
  } catch (error) {
    if (NO_PERMISSION_BITS.has((error as NodeJS.ErrnoException).code ?? '')) return false;
    throw error;
  }
}

/**
 * Takes permissions away from `file` so that it has no more than `most`; never adds any. A file this
 * tool creates starts with the default permissions (under the umask), so a file made from another one
 * is never readable by more people than the one it was made from, nor than a new file would be.
 */
export function narrowPermissions(file: string, most: number): void {
  const now = permissionsOf(file);
  if ((now & most) !== now) setPermissions(file, now & most);
}

/** Gives `file` the permissions `like` has (a restored file takes those of the file it replaces). */
export function copyPermissions(like: string, file: string): void {
  setPermissions(file, permissionsOf(like));
}
