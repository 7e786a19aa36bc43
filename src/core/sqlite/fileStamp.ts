import * as fs from 'node:fs';

/**
 * What a file's identity, times and size were. Any write to it changes its modification and change
 * times (on a kernel whose file clock moves finer than the writes come), so two equal stamps taken
 * around a read without locks say that nothing wrote to it meanwhile.
 */
export interface FileStamp {
  ino: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  size: bigint;
}

export function stampOf(file: string): FileStamp {
  const { ino, mtimeNs, ctimeNs, size } = fs.statSync(file, { bigint: true });
  return { ino, mtimeNs, ctimeNs, size };
}

/** The identity (inode) of `file` as text, beside stampOf's; undefined when there is none. */
export function inodeOf(file: string): string | undefined {
  return fs.statSync(file, { bigint: true, throwIfNoEntry: false })?.ino.toString();
}

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.size === b.size;
}

/**
 * What changes when a database is written: its file's identity, modification time and size, and its
 * -wal's while that holds frames (in WAL mode a commit goes to the -wal first). An absent and an empty
 * -wal are the same, since a read-only connection may leave an empty one behind. Readers write to the
 * -shm alone, which is left out; so is the change time, which a chmod moves without writing data.
 */
export function databaseWriteStamp(file: string): string {
  return databaseWriteStampAt(file, `${file}-wal`);
}

/** The same for a database and its -wal under other names (set aside by a restore; undefined: none). */
export function databaseWriteStampAt(file: string | undefined, walFile: string | undefined): string {
  const wal = fileWriteStamp(walFile);
  return `${fileWriteStamp(file) ?? 'none'}|${wal && !wal.endsWith(':0') ? wal : 'empty'}`;
}

/** What changes when a file is written or replaced: its identity, modification time and size (undefined: there is none). */
export function fileWriteStamp(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  const stat = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
  return stat ? writeStampOf(stat) : undefined;
}

/** fileWriteStamp from a stat already taken (of an open file, say). */
export function writeStampOf(stat: fs.BigIntStats): string {
  return `${stat.ino}:${stat.mtimeNs}:${stat.size}`;
}
