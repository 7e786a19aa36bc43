import * as fs from 'node:fs';
import * as path from 'node:path';
import { isProcessAlive, recordedIdentity, thisProcessIdentity, type ProcessIdentity } from './processAlive';
import type { WorkspaceLayout } from './workspaceLayout';

/**
 * A command that waits for the workspace lock says so with a small file beside the lock
 * (`lock.waiting-<pid>`), so that a command which takes the lock once per item (verify --all) can let
 * it in between two items: otherwise the lock is free only for an instant there, and the waiting
 * command, trying every 200 ms, would wait for the whole run.
 */
function waiterPrefix(layout: WorkspaceLayout): string {
  return `${path.basename(layout.lockFile)}.waiting-`;
}

/** Marks this process as waiting for the lock; the returned function takes the mark away. */
export function markWaiting(layout: WorkspaceLayout): () => void {
  const file = path.join(path.dirname(layout.lockFile), `${waiterPrefix(layout)}${process.pid}`);
  try {
    // What process this is, beyond its id (see ProcessIdentity): a mark left by a waiter killed before a restart is not another's.
    fs.writeFileSync(file, JSON.stringify(thisProcessIdentity()));
  } catch {
    return () => {}; // The mark only speeds the wait up; without it the wait still works.
  }
  return () => fs.rmSync(file, { force: true });
}

/** Whether another running process waits for the lock (marks of killed processes are removed). */
export function othersWaiting(layout: WorkspaceLayout): boolean {
  const prefix = waiterPrefix(layout);
  let names: string[];
  try {
    names = fs.readdirSync(path.dirname(layout.lockFile)).filter((name) => name.startsWith(prefix));
  } catch {
    return false;
  }
  let waiting = false;
  for (const name of names) {
    const pid = Number(name.slice(prefix.length));
    if (pid === process.pid) continue;
    if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid, markedIdentity(path.join(path.dirname(layout.lockFile), name)))) waiting = true;
    else fs.rmSync(path.join(path.dirname(layout.lockFile), name), { force: true });
  }
  return waiting;
}

/** What a mark says of its process beyond the id (nothing, for an earlier version's empty mark). */
function markedIdentity(file: string): ProcessIdentity {
  try {
    const record: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return record && typeof record === 'object' ? recordedIdentity(record) : {};
  } catch {
    return {};
  }
}
