import * as fs from 'node:fs';

/** The permission bits of a file (read, write, execute for owner, group and others). */
export function permissionsOf(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

/**
 * Takes permissions away from `file` so that it has no more than `most`; never adds any. A file this
 * tool creates starts with the default permissions (under the umask), so a file made from another one
 * is never readable by more people than the one it was made from, nor than a new file would be.
 */
export function narrowPermissions(file: string, most: number): void {
  const now = permissionsOf(file);
  if ((now & most) !== now) fs.chmodSync(file, now & most);
}

/** Gives `file` the permissions `like` has (a restored file takes those of the file it replaces). */
export function copyPermissions(like: string, file: string): void {
  fs.chmodSync(file, permissionsOf(like));
}
