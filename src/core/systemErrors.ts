import * as path from 'node:path';
import { lockedDatabaseError } from './databaseInUse';
import { pathKind } from './pathKind';
import { EnvProfilesError } from './errors';
import { isOutOfSpace } from './diskSpace';
import { writeRefusal } from './folderProbe';
import { damagedDatabaseDetail, DatabaseDamagedError, DatabaseLockedError } from './sqlite/sqliteEngine';
import { systemErrorCode } from './systemErrorCode';

/**
 * What the operating system refused (a full disk, a permission, a read-only file system) is the user's
 * to fix: the adapters show it as a typed error that names the file and says what to do, never as "a
 * bug in Environment Profiles". Operations that know better (a backup, a restore) say more themselves.
 * So is a database that another program kept locked.
 */
export function typedSystemError(error: unknown): EnvProfilesError | undefined {
  if (error instanceof DatabaseLockedError) return lockedDatabaseError(error.file, error.file, 'the command');
  const damage = damagedDatabaseDetail(error);
  if (damage) {
    const damagedFile = error instanceof DatabaseDamagedError ? error.file : undefined;
    return new EnvProfilesError('DATABASE_INVALID', `A database${damagedFile ? ` (${damagedFile})` : ''} is damaged: ${damage}.`, { file: damagedFile, cause: error, hint: '"envprofiles validate <profile> --full" says which database and what SQLite finds wrong; restore it from a backup ("envprofiles restore <backup-id> --db <name>").' });
  }
  const { path: file } = (error ?? {}) as { path?: unknown };
  const code = systemErrorCode(error);
  const where = typeof file === 'string' ? file : undefined;
  // Node's rm gave some errors no code, only ", Unknown error: <text>": said with the code found.
  const message = ((error as Error)?.message ?? String(error)).replace(/^, Unknown error: /, `${code ?? 'Unknown error'}: `);
  if (isOutOfSpace(error)) {
    return new EnvProfilesError('DISK_FULL', `The disk is full${where ? ` (writing ${where})` : ''}: ${message}.`, { file: where, cause: error, hint: 'Free some space on that disk, then run it again.' });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    // Root passes every permission check: what still refuses it is a file marked immutable or append-only.
    const attributes = code === 'EPERM' && process.getuid?.() === 0 ? ' (run as root, this means the file or its folder is marked immutable or append-only: "lsattr" shows it, "chattr -i" clears it)' : '';
    return new EnvProfilesError('PERMISSION_DENIED', `Permission denied${where ? ` for ${where}` : ''}: ${message}.`, { file: where, cause: error, hint: `Check the owner and permissions of that file and its folder${attributes}, then run it again.` });
  }
  const syscall = (error as { syscall?: unknown })?.syscall;
  if (code === 'ENOENT' && syscall === 'mkdir' && where) {
    // A folder that exists refused a child with ENOENT (a virtual file system such as /proc; Node's own
    // recursive mkdir says so of a read-only disk too): ask the folder that exists.
    const refusal = writeRefusal(path.dirname(where))?.error as NodeJS.ErrnoException | undefined;
    // Said of the folder that was to be made, as the mkdir that failed would have said it.
    const refused = refusal && typedSystemError(Object.assign(new Error(`${refusal.message.split(',')[0]}, mkdir '${where}'`), { code: refusal.code, path: where }));
    if (refused) return refused;
    // Its folder is there and the file system still said "no such file": one that takes no new folders.
    const folder = path.dirname(where);
    if (pathKind(folder) === 'folder') return new EnvProfilesError('IO_ERROR', `A folder could not be made (${where}): ${folder} takes no new folders (a virtual file system, such as /proc or /sys).`, { file: where, cause: error, hint: 'Choose a folder on a disk, then run it again.' });
    return new EnvProfilesError('IO_ERROR', `A folder could not be made (${where}): a folder on its way is a symbolic link that leads nowhere, or was removed meanwhile.`, { file: where, cause: error, hint: 'Check the folders on that path (a broken symbolic link: ls -l), then run it again.' });
  }
  if (code === 'ENAMETOOLONG' || code === 'ELOOP') {
    const [why, hint] = code === 'ELOOP'
      ? ['it goes through symbolic links that lead to each other', 'Fix the symbolic links on it (ls -l shows where each leads), then run it again.']
      : ['a name in it is longer than the file system allows (255 bytes)', 'Use a shorter name on that path, then run it again.'];
    return new EnvProfilesError('IO_ERROR', `The path${where ? ` ${where}` : ''} cannot be used: ${why}.`, { file: where, cause: error, hint });
  }
  if (code === 'ENOTDIR' || (code === 'EEXIST' && syscall === 'mkdir')) {
    return new EnvProfilesError('IO_ERROR', `A file stands where a folder is needed${where ? ` (${where}, or a folder on the way to it)` : ''}: ${message}.`, { file: where, cause: error, hint: 'Check the folders on that path (one of them is a file), then run it again.' });
  }
  if (code === 'EISDIR') {
    // A rename onto a folder names the folder as its destination.
    const dest = (error as { dest?: unknown })?.dest;
    const folder = typeof dest === 'string' ? dest : where;
    return new EnvProfilesError('IO_ERROR', `A folder stands where a file is needed${folder ? ` (${folder})` : ''}: ${message}.`, { file: folder, cause: error, hint: 'Move that folder away (this tool writes a file there), then run it again.' });
  }
  if (code === 'EIO') {
    // What a failing or pulled-out disk (a USB stick, a network disk gone) answers.
    return new EnvProfilesError('IO_ERROR', `The disk reported an input/output error${where ? ` (at ${where})` : ''}: it may be failing, or was disconnected: ${message}.`, { file: where, cause: error, hint: 'Check that the disk is connected and healthy (the system log, "dmesg", says more), then run it again.' });
  }
  if (code === 'EFBIG') {
    return new EnvProfilesError('IO_ERROR', `The write was refused: ${fileTooLargeText(where)}: ${message}.`, { file: where, cause: error, hint: FILE_TOO_LARGE_HINT });
  }
  if (code === 'EROFS') {
    return new EnvProfilesError('PERMISSION_DENIED', `The file system is read-only${where ? ` (writing ${where})` : ''}: ${message}.`, { file: where, cause: error, hint: 'Use a folder on a writable disk, then run it again.' });
  }
  return undefined;
}

/** Whether the system refused a write because the file grew past what its file system takes (EFBIG). */
export function isFileTooLarge(error: unknown): boolean {
  return systemErrorCode(error) === 'EFBIG';
}

/** What EFBIG means, said of the folder written to when known: nearly always a FAT32 disk (a USB stick). */
export function fileTooLargeText(where: string | undefined): string {
  return `a file grew larger than the file system${where ? ` of ${where}` : ''} takes (FAT32, common on USB sticks, takes files of at most 4 GiB)`;
}

export const FILE_TOO_LARGE_HINT = 'Use a disk formatted with exFAT, NTFS or ext4 (or format the stick as exFAT), then run it again.';
