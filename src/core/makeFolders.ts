import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * `mkdir -p`: makes `folder` and its missing parents, one level at a time, and returns the first folder
 * it made (undefined when `folder` was there), as `fs.mkdirSync(folder, { recursive: true })` does.
 * Node's recursive mkdir spins for ever, at full CPU, when a folder that exists refuses a child with
 * ENOENT (under /proc or /sys: `backups.directory: /proc/self` hung every backup); each level's own error
 * is thrown here instead (also EROFS or EACCES, which Node's reports as ENOENT).
 */
export function makeFolders(folder: string, mode = 0o777): string | undefined {
  const missing: string[] = [];
  for (let current = path.resolve(folder); !isThere(current); current = path.dirname(current)) {
    missing.push(current);
    if (path.dirname(current) === current) break;
  }
  // A file where the folder should be: mkdir says EEXIST, as Node's recursive mkdir does.
  if (missing.length === 0 && !isFolder(folder)) fs.mkdirSync(folder, { mode });
  for (const level of missing.reverse()) {
    try {
      fs.mkdirSync(level, { mode });
    } catch (error) {
      // Made meanwhile by another process: as good.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !isFolder(level)) throw error;
    }
  }
  return missing[0];
}

/** Whether something is at `file` (a broken symbolic link counts: it is not missing, mkdir refuses it as EEXIST). */
function isThere(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function isFolder(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}
