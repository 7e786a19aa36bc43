import * as fs from 'node:fs';
import { systemErrorCode } from './systemErrorCode';

/**
 * What is at a path, links followed: a regular file, nothing, a folder, or something else that is no
 * file (a named pipe, a socket, a device). Reading a pipe waits for a writer, for ever, and reading a
 * folder fails: a file this tool reads is checked with this first.
 */
export type PathKind = 'file' | 'missing' | 'folder' | 'not-a-file';

export function pathKind(absolute: string): PathKind {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw error;
  }
  return stat.isFile() ? 'file' : stat.isDirectory() ? 'folder' : 'not-a-file';
}

/** A kind that is no file, in words: "a folder", "a pipe, a socket or a device". */
export function nonFileInWords(kind: 'folder' | 'not-a-file'): string {
  return kind === 'folder' ? 'a folder' : 'a pipe, a socket or a device';
}

/**
 * The text of `file` when it is a regular file; undefined when it is missing or something else (for
 * the tool's own small files: state, journals, audit log, marks, where a named pipe would make every
 * command wait for ever and a folder would fail it).
 */
export function readFileIfRegular(file: string): string | undefined {
  return pathKind(file) === 'file' ? fs.readFileSync(file, 'utf8') : undefined;
}

/**
 * Removes `file` if it is there. A path that cannot name a file (through a file, a name too long, a
 * loop of links) holds none: that is "not there" too (before, it failed the rollback, and the journal
 * left behind then failed every command).
 */
export function removeIfThere(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch (error) {
    if (!NO_SUCH_PATH.includes(systemErrorCode(error) ?? '')) throw error;
  }
}

const NO_SUCH_PATH = ['ENOTDIR', 'ENAMETOOLONG', 'ELOOP'];
