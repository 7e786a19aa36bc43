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

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.size === b.size;
}
