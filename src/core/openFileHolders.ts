import * as fs from 'node:fs';
import * as path from 'node:path';

/** A process that has one of the files open. */
export interface FileHolder {
  pid: number;
  /** The program's name, not its command line (which may hold secrets). */
  command: string;
}

/**
 * The other processes that have any of `files` open, as Linux lists them in `/proc/<pid>/fd`; `undefined`
 * where the system has no such list (macOS, Windows). Processes this user may not look into are
 * skipped, so an empty list means "none that we can see". This process is left out: a connection of
 * its own is what SQLite's locks report (see `SqliteEngine.isOpenElsewhere`).
 */
export function processesHolding(files: string[], procRoot = '/proc'): FileHolder[] | undefined {
  if (process.platform !== 'linux' || !fs.existsSync(path.join(procRoot, 'self', 'fd'))) return undefined;
  const wanted = new Set(files.map((file) => realPathOrSelf(file)));
  const holders: FileHolder[] = [];
  for (const name of fs.readdirSync(procRoot)) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const fdDir = path.join(procRoot, name, 'fd');
    let descriptors: string[];
    try {
      descriptors = fs.readdirSync(fdDir);
    } catch {
      continue; // gone meanwhile, or not ours to look into
    }
    const holds = descriptors.some((fd) => {
      try {
        return wanted.has(fs.readlinkSync(path.join(fdDir, fd)));
      } catch {
        return false;
      }
    });
    if (holds) holders.push({ pid: Number(name), command: commandOf(procRoot, name) });
  }
  return holders;
}

function realPathOrSelf(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/** The program's file name (`python3.11`, `node`); the thread name in `comm` where the executable cannot be read (Node names its main thread "MainThread"). */
function commandOf(procRoot: string, pid: string): string {
  try {
    return path.basename(fs.readlinkSync(path.join(procRoot, pid, 'exe')));
  } catch {
    try {
      return fs.readFileSync(path.join(procRoot, pid, 'comm'), 'utf8').trim() || 'unknown';
    } catch {
      return 'unknown';
    }
  }
}
