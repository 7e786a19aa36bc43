import { EnvProfilesError } from './errors';
import type { SqliteEngine } from './sqlite/sqliteEngine';
import type { WorkspaceConfig } from './workspaceConfig';
import { WorkspaceLayout } from './workspaceLayout';

/** Who performed an operation, as recorded in the audit log. */
export type Actor = 'cli' | 'vscode';

/** The small logger the core writes to; the CLI and the extension each supply one. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Progress reporting for long operations: one message per step, and for a long step the same message
 * again now and then with the share of it done (0 to 1; see progressMeter).
 */
export type ProgressReporter = (message: string, share?: number) => void;

/**
 * Called at every named step of a transaction. Tests throw from it to inject a failure at that step
 * or pause in it to kill the process there; production code passes nothing.
 */
export type StepHook = (step: string) => void;

/** Everything an operation needs, handed in by the adapter; the core keeps no global state. */
export interface WorkspaceContext {
  layout: WorkspaceLayout;
  engine: SqliteEngine;
  actor: Actor;
  logger: Logger;
  now: () => Date;
  onStep?: StepHook;
  progress?: ProgressReporter;
  /** Cancels a long operation (backup, verify, clone, restore) at its next safe point; it then cleans up. */
  signal?: AbortSignal;
  /** How long an operation waits for the workspace lock while another operation holds it (`--wait`); without it, it is refused at once. */
  lockWaitMs?: number;
  /** Adjusts config.yaml's settings for this adapter (the extension's settings override some of them). */
  configOverrides?: (config: WorkspaceConfig) => WorkspaceConfig;
}

export function createWorkspaceContext(root: string, engine: SqliteEngine, options: Partial<Omit<WorkspaceContext, 'layout' | 'engine'>> = {}): WorkspaceContext {
  return {
    layout: new WorkspaceLayout(root),
    engine,
    actor: options.actor ?? 'cli',
    logger: options.logger ?? silentLogger,
    now: options.now ?? (() => new Date()),
    onStep: options.onStep,
    progress: options.progress,
    signal: options.signal,
    lockWaitMs: options.lockWaitMs,
    configOverrides: options.configOverrides,
  };
}

/** Throws CANCELLED when the operation was asked to stop; callers clean up as after any failure. */
export function throwIfCancelled(context: Pick<WorkspaceContext, 'signal'>): void {
  if (context.signal?.aborted) {
    throw new EnvProfilesError('CANCELLED', 'The operation was cancelled; what it had started was cleaned up and nothing was changed.', { hint: 'Run it again when you are ready.' });
  }
}
