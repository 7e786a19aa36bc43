import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeFolders } from './makeFolders';

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

/** Who owns a file, and its permission bits: what its replacement is given. */
export interface FileAttributes {
  mode: number;
  uid: number;
  gid: number;
}

/** The owner and permissions of `file` when it is a regular file (links followed); undefined otherwise. */
export function fileAttributesOf(file: string): FileAttributes | undefined {
  try {
    const stat = fs.statSync(file);
    return stat.isFile() ? { mode: stat.mode & 0o777, uid: stat.uid, gid: stat.gid } : undefined;
  } catch {
    return undefined;
  }
}

/** What chown says when this process may not give a file away (not root) or the file system keeps no owners. */
const NO_OWNER_CHANGE = new Set(['EPERM', 'EINVAL', 'ENOSYS', 'ENOTSUP', 'EOPNOTSUPP']);

/**
 * Gives `file` (a path or an open descriptor) the owner and permissions of the file it replaces, so a
 * replacement changes content only. Run as root (sudo) for a service's files, a restore or a switch
 * made them root's, and the service could no longer write its database; a private (600) env file
 * became readable by all. The owner is given only where this process may (root, or its own group).
 */
export function giveAttributes(file: string | number, attributes: FileAttributes): void {
  giveOwner(file, attributes);
  setPermissions(file, attributes.mode);
}

/** Gives `file` (a path or an open descriptor) the owner `uid`/`gid` unless it has it, where this process may. */
function giveOwner(file: string | number, { uid, gid }: { uid: number; gid: number }): void {
  const now = typeof file === 'number' ? fs.fstatSync(file) : fs.statSync(file);
  if (now.uid === uid && now.gid === gid) return;
  try {
    if (typeof file === 'number') fs.fchownSync(file, uid, gid);
    else fs.chownSync(file, uid, gid);
  } catch (error) {
    if (!NO_OWNER_CHANGE.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  }
}

/**
 * Gives what this tool has just made (`made`: a restored file with none before it, or a folder made
 * for it) the owner of the folder `within` that holds it, when this process runs as root and that folder
 * is another user's: run with sudo in a service's folder, a restore made root's database (or folder)
 * there, and the service could not write it (nor make its -wal beside it). Otherwise it stays this
 * user's, as any new file.
 */
export function takeOwnerOfFolder(made: string, within: string): void {
  if (process.getuid?.() === 0) giveOwner(made, fs.statSync(within));
}

/** Makes `folder` and its missing parents, each taking the owner of the folder it is made in (see takeOwnerOfFolder). */
export function makeFolderAsItsParent(folder: string): void {
  const first = makeFolders(folder);
  if (first === undefined) return;
  const made = [path.resolve(folder)];
  while (made[made.length - 1] !== first) made.push(path.dirname(made[made.length - 1]));
  for (const dir of made.reverse()) takeOwnerOfFolder(dir, path.dirname(dir));
}
