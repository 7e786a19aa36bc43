import { EnvProfilesError, isEnvProfilesError } from './errors';
import { markWaiting, othersWaiting } from './lockWaiters';
import { throwIfCancelled, type WorkspaceContext } from './workspaceContext';
import type { WorkspaceLayout } from './workspaceLayout';
import { liveLockOwner } from './workspaceLock';

/** How long a run of many locked steps waits for another operation before it gives up. */
export const LOCK_WAIT_LIMIT_MS = 30 * 60_000;

/** How often the lock is tried again while another operation holds it. */
const RETRY_EVERY_MS = 200;

/**
 * Runs `step` (which takes the workspace lock), and while another operation holds the lock, waits for
 * it and tries again: for `--wait`, and for commands that take the lock once per item (verify --all) so
 * that other commands can run in between, and must not then count an item as failed because one did.
 * Says once per holder what it waits for, and marks itself waiting (lockWaiters.ts) so that such a run
 * lets it in; a cancel stops the wait; after `limitMs` the WORKSPACE_BUSY error is thrown on.
 */
export async function whenLockIsFree<T>(context: Pick<WorkspaceContext, 'layout' | 'logger' | 'progress' | 'signal'>, step: () => Promise<T>, limitMs = LOCK_WAIT_LIMIT_MS): Promise<T> {
  const started = Date.now();
  let announced: string | undefined;
  let unmark: (() => void) | undefined;
  try {
    for (;;) {
      try {
        return await step();
      } catch (error) {
        if (!isEnvProfilesError(error) || error.code !== 'WORKSPACE_BUSY') throw error;
        unmark ??= markWaiting(context.layout);
        if (Date.now() - started >= limitMs) throw new EnvProfilesError(error.code, `${error.message} This waited ${waitedText(limitMs)} for it.`, { kind: error.kind, file: error.file, hint: error.hint });
        if (error.message !== announced) {
          announced = error.message;
          context.logger.warn(`${error.message.replace(/\.$/, '')}: waiting for it to finish, then going on.`);
          context.progress?.(`Waiting for another operation to finish`);
        }
        await pause(RETRY_EVERY_MS);
        throwIfCancelled(context);
      }
    }
  } finally {
    unmark?.();
  }
}

/** The longest a run of many locked steps holds back between two of them for a command that waits. */
const LET_IN_AT_MOST_MS = 2_000;

/**
 * Between two items of a run that takes the lock once per item (verify --all): when another command
 * waits for the lock, holds back until it has taken it (it tries every 200 ms), at most two seconds,
 * so that it runs in between instead of waiting for the whole run.
 */
export async function letWaitersIn(layout: WorkspaceLayout): Promise<void> {
  const until = Date.now() + LET_IN_AT_MOST_MS;
  while (Date.now() < until && othersWaiting(layout) && !liveLockOwner(layout)) await pause(25);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** "30 minutes", "1 minute", "5 seconds": how long a wait lasted, as a person says it. */
function waitedText(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes >= 1) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const seconds = Math.max(1, Math.round(ms / 1000));
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}
