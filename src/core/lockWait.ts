import { EnvProfilesError, isEnvProfilesError } from './errors';
import { throwIfCancelled, type WorkspaceContext } from './workspaceContext';

/** How long a run of many locked steps waits for another operation before it gives up. */
export const LOCK_WAIT_LIMIT_MS = 30 * 60_000;

/** How often the lock is tried again while another operation holds it. */
const RETRY_EVERY_MS = 200;

/**
 * Runs `step` (which takes the workspace lock), and while another operation holds the lock, waits for
 * it and tries again: for commands that take the lock once per item (verify --all) so that other
 * commands can run in between, and must not then count an item as failed because one did. Says once
 * per holder what it waits for; a cancel stops the wait; after `limitMs` the WORKSPACE_BUSY error is
 * thrown on.
 */
export async function whenLockIsFree<T>(context: Pick<WorkspaceContext, 'logger' | 'progress' | 'signal'>, step: () => Promise<T>, limitMs = LOCK_WAIT_LIMIT_MS): Promise<T> {
  const started = Date.now();
  let announced: string | undefined;
  for (;;) {
    try {
      return await step();
    } catch (error) {
      if (!isEnvProfilesError(error) || error.code !== 'WORKSPACE_BUSY') throw error;
      if (Date.now() - started >= limitMs) throw new EnvProfilesError(error.code, `${error.message} This waited ${waitedText(limitMs)} for it.`, { kind: error.kind, file: error.file, hint: error.hint });
      if (error.message !== announced) {
        announced = error.message;
        context.logger.warn(`${error.message.replace(/\.$/, '')}: waiting for it to finish, then going on.`);
        context.progress?.(`Waiting for another operation to finish`);
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_EVERY_MS));
      throwIfCancelled(context);
    }
  }
}

/** "30 minutes", "1 minute", "5 seconds": how long a wait lasted, as a person says it. */
function waitedText(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes >= 1) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const seconds = Math.max(1, Math.round(ms / 1000));
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}
