import { throwIfCancelled, type WorkspaceContext } from './workspaceContext';

/** A share done (0 to 1) as the adapters show it: whole percent, rounded down ("42 %"). */
export function percentDone(share: number): string {
  return `${Math.floor(share * 100)} %`;
}

/** Reports at most this often: a quick step shows nothing but its name, a slow one shows it moving. */
const REPORT_EVERY_MS = 250;

/**
 * Measures a long step for `context.progress`: call the returned function with how much is done (bytes,
 * pages, any unit out of `total`); it reports the share done when the whole percent grew and `everyMs`
 * (a quarter second) passed since the last report. Without a progress reporter it does nothing.
 */
export function progressMeter(context: Pick<WorkspaceContext, 'progress'>, message: string, total: number, everyMs = REPORT_EVERY_MS): (done: number) => void {
  const report = context.progress;
  if (!report || !(total > 0)) return () => {};
  let lastAt = performance.now();
  let lastPercent = 0;
  return (done) => {
    const percent = Math.min(100, Math.floor((done / total) * 100));
    if (percent <= lastPercent) return;
    const now = performance.now();
    if (now - lastAt < everyMs) return;
    lastAt = now;
    lastPercent = percent;
    report(message, Math.min(1, done / total));
  };
}

/**
 * Announces a step that learns its total only as it starts (rebuilding a database); the returned
 * function stops the operation at that point if it was cancelled, and otherwise reports like
 * progressMeter.
 */
export function watchStep(context: Pick<WorkspaceContext, 'progress' | 'signal'>, message: string): (done: number, total: number) => void {
  context.progress?.(message);
  let meter: ((done: number) => void) | undefined;
  return (done, total) => {
    throwIfCancelled(context);
    (meter ??= progressMeter(context, message, total))(done);
  };
}
