import * as fs from 'node:fs';

/**
 * What tells a process apart from a later one that got its id: the boot of the machine it runs in and
 * the moment it started, as Linux counts them. Process ids are handed out again from the start after a
 * restart: a lock left by a process killed in a power cut, or in a container that was restarted (whose
 * processes get the same small ids every time), named an id that another process, even the very one
 * reading the lock, had now; the lock was held for ever, and with it every command and the recovery of
 * what the killed one left. Where /proc cannot be read (another system) both are unknown, and the id
 * is all there is.
 */
export interface ProcessIdentity {
  /** /proc/sys/kernel/random/boot_id: another one after every boot of the machine. */
  boot?: string;
  /** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks after the boot. */
  started?: number;
}

let ownIdentity: ProcessIdentity | undefined;
let bootId: { value: string | undefined } | undefined;

/** The machine's boot id, read once: it cannot change while this process runs (every lock and temporary name checked asks for it). */
function thisBoot(): string | undefined {
  bootId ??= { value: readText('/proc/sys/kernel/random/boot_id')?.trim() || undefined };
  return bootId.value;
}

/** This process's identity (read once: it does not change). */
export function thisProcessIdentity(): ProcessIdentity {
  ownIdentity ??= identityOf(process.pid);
  return ownIdentity;
}

/** The identity of process `pid` as it is now (nothing known of what cannot be read). */
function identityOf(pid: number): ProcessIdentity {
  const identity: ProcessIdentity = {};
  const boot = thisBoot();
  if (boot) identity.boot = boot;
  const stat = readText(`/proc/${pid}/stat`);
  // The command name, in parentheses, may hold spaces and parentheses: fields are counted after the last one.
  const fields = stat?.slice(stat.lastIndexOf(')') + 1).trim().split(' ');
  const started = Number(fields?.[19]);
  if (Number.isSafeInteger(started)) identity.started = started;
  return identity;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The identity fields of an untrusted record (a lock file's JSON): only those of the right kind. */
export function recordedIdentity(record: { boot?: unknown; started?: unknown }): ProcessIdentity {
  return {
    ...(typeof record.boot === 'string' ? { boot: record.boot } : {}),
    ...(typeof record.started === 'number' && Number.isSafeInteger(record.started) ? { started: record.started } : {}),
  };
}

/**
 * True when the process with this id runs on this machine (one of another user counts: it exists),
 * and, when `recorded` says what it was, it is still that process: not one of a later boot, nor one
 * that started at another moment and got its id again.
 */
export function isProcessAlive(pid: number, recorded: ProcessIdentity = {}): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (recorded.boot === undefined && recorded.started === undefined) return true;
  const now = identityOf(pid);
  if (recorded.boot !== undefined && now.boot !== undefined && recorded.boot !== now.boot) return false;
  return recorded.started === undefined || now.started === undefined || recorded.started === now.started;
}
