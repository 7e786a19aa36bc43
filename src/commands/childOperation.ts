import { fork } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ToChild, ToParent } from '../cli/parentChannel';
import { EnvProfilesError, type ErrorCode, type ErrorDetails } from '../core/errors';
import { percentDone } from '../core/progressMeter';
import { SMALL_YOUNG_GENERATION_FLAG } from '../core/youngGeneration';
import type { FolderModel } from '../folderModel';
import { LOCK_WAIT_MINUTES } from './commandRunner';
import type { CommandServices } from './commandServices';

/** The CLI, bundled beside the extension in dist/ (and packaged with it). */
const CLI = path.join(__dirname, 'cli.js');

/** How the last operation run in a child process ran: its pid and the CPU priority it ended with. */
export interface ChildProcessRun {
  command: string;
  pid: number;
  priority: number;
}

interface CliJson {
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string } & ErrorDetails;
}

/**
 * Runs a CLI command on a folder in a child process, under a cancellable progress notification, and
 * returns its `--json` result. Backups and verification run this way: the extension host (which every
 * extension shares) keeps its event loop, memory and CPU priority, and a backup lowers its own priority
 * (nice 10) so that the application beside it comes first, as it does from a terminal. Cancelling asks
 * the child to stop at its next safe point; an error comes back typed, as if the core had thrown it.
 */
export async function runInChildProcess<T>(services: CommandServices, folder: FolderModel, title: string, args: string[]): Promise<T> {
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) =>
      new Promise<T>((resolve, reject) => {
        // Another operation holding the workspace (a CLI job, a verification between two backups) is
        // waited for, under this notification (which says so and can cancel), rather than an error.
        const child = fork(CLI, [...args, '--json', '--wait', String(LOCK_WAIT_MINUTES), '--workspace', folder.context.layout.root], {
          // A small young generation: its rebuilds (verify) free zlib's buffers sooner, and take larger ones (see segmentedInflate.ts).
          execArgv: [SMALL_YOUNG_GENERATION_FLAG],
          // In VS Code the extension host's executable is Electron's; this makes it run as Node.
          env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
          stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        });
        let stdout = '';
        child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
          for (const line of chunk.split('\n').filter((l) => l.trim() !== '')) services.log.info(`${args[0]} (pid ${child.pid}): ${line}`);
        });
        child.on('message', (message: ToParent) => {
          if (message.type === 'progress') progress.report({ message: message.share === undefined ? message.message : `${message.message} (${percentDone(message.share)})` });
          else if (message.type === 'finished') services.lastChildProcess = { command: args[0], pid: message.pid, priority: message.priority };
        });
        token.onCancellationRequested(() => {
          if (child.connected) child.send({ type: 'cancel' } satisfies ToChild);
        });
        child.on('error', reject);
        child.on('close', (code, signal) => {
          let json: CliJson;
          try {
            json = JSON.parse(stdout) as CliJson;
          } catch {
            reject(new Error(`The ${args[0]} process ended (${signal ?? `exit code ${code}`}) without a result. See the log.`));
            return;
          }
          if (json.error) reject(typedError(json.error));
          else resolve(json.result as T);
        });
      }),
    );
  } finally {
    folder.refresh();
  }
}

/** The CLI's error as the core would have thrown it (an unexpected one stays a plain error). */
function typedError(error: NonNullable<CliJson['error']>): Error {
  if (error.code === 'INTERNAL') return new Error(error.message);
  const { code, message, ...details } = error;
  return new EnvProfilesError(code as ErrorCode, message, details);
}
