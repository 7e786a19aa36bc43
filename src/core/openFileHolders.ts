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
  const byFile = holdersByFile([files], procRoot);
  return byFile?.[0];
}

/**
 * For each group of files, the other processes that have one of them open (see `processesHolding`),
 * from one pass over `/proc`: one listing of every process's open files, however many groups.
 */
export function holdersByFile(groups: string[][], procRoot = '/proc'): FileHolder[][] | undefined {
  if (process.platform !== 'linux' || !fs.existsSync(path.join(procRoot, 'self', 'fd'))) return undefined;
  const groupOf = new Map<string, number>();
  groups.forEach((files, group) => files.forEach((file) => groupOf.set(realPathOrSelf(file), group)));
  const holders: FileHolder[][] = groups.map(() => []);
  for (const name of fs.readdirSync(procRoot)) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const fdDir = path.join(procRoot, name, 'fd');
    let descriptors: string[];
    try {
      descriptors = fs.readdirSync(fdDir);
    } catch {
      continue; // gone meanwhile, or not ours to look into
    }
    const held = new Set<number>();
    for (const fd of descriptors) {
      try {
        const group = groupOf.get(fs.readlinkSync(path.join(fdDir, fd)));
        if (group !== undefined) held.add(group);
      } catch {
        // closed meanwhile
      }
    }
    if (held.size === 0) continue;
    const holder = { pid: Number(name), command: commandOf(procRoot, name) };
    for (const group of held) holders[group].push(holder);
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
