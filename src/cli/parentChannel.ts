import * as os from 'node:os';

/** Messages between the extension and a CLI it runs as a child process. */
export type ToParent = { type: 'progress'; message: string; share?: number } | { type: 'finished'; pid: number; priority: number };
export type ToChild = { type: 'cancel' };

export interface ParentChannel {
  /** Progress for the extension's notification (instead of the terminal's progress line). */
  report(message: string, share?: number): void;
  onCancel(listener: () => void): void;
  /** Says how the process ran (its pid and CPU priority), then closes the channel so the process can exit. */
  finish(): Promise<void>;
}

/**
 * The channel to the VS Code extension when it runs this CLI as a child process (forked with an IPC
 * channel), so that a long operation runs outside the extension host, at its own priority. A "cancel"
 * message stops the operation at its next safe point, as Ctrl+C does (a signal does not reach a child
 * on every system). Undefined when the CLI was started any other way.
 */
export function parentChannel(): ParentChannel | undefined {
  const send = process.send?.bind(process);
  if (!send) return undefined;
  const post = (message: ToParent): Promise<void> =>
    new Promise((resolve) => {
      if (!process.connected) return resolve();
      send(message, undefined, {}, () => resolve());
    });
  return {
    report: (message, share) => void post({ type: 'progress', message, share }),
    onCancel: (listener) => {
      process.on('message', (message: ToChild) => {
        if (message?.type === 'cancel') listener();
      });
    },
    finish: async () => {
      await post({ type: 'finished', pid: process.pid, priority: os.getPriority() });
      if (process.connected) process.disconnect();
    },
  };
}
