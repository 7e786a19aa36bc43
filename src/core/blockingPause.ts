const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks this thread for `ms` milliseconds without spinning. For the few places that must wait inside
 * synchronous code (a lock being taken over, a test hook holding a step); never on the extension's
 * event loop for long.
 */
export function blockingPause(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
