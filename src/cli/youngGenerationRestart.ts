import { hasSmallYoungGeneration, SMALL_YOUNG_GENERATION_FLAG } from '../core/youngGeneration';

/**
 * Commands that rebuild databases out of archives (restore, verify, a backup with --verify): with a
 * small young generation they inflate in larger pieces, faster and in less memory (see
 * youngGeneration.ts; 2026-12-02, a restore of 1 GiB 4.1–4.4 s / 103–105 MB against 5.9–6.7 s /
 * 124–126 MB). V8 takes that size only when a process starts, so the launcher replaces this process
 * with Node started with the flag: process.execve keeps the process id, its standard streams and its
 * terminal, so a kill (-9 too), Ctrl-C and exit codes are the same as without it. A second Node start
 * costs ~50–100 ms, worth it for these commands only. Not where execve is missing (Node before 22.15,
 * Windows), nor in a process with an IPC channel (that would be lost), nor with
 * ENVPROFILES_SMALL_YOUNG_GENERATION=off.
 */
export function rebuildsDatabases(command: string, argv: string[]): boolean {
  return command === 'restore' || command === 'verify' || (command === 'backup' && argv.includes('--verify'));
}

const RESTARTED = 'ENVPROFILES_RESTARTED_FOR_YOUNG_GENERATION';

/** Replaces this process with `script` run by Node with the flag, when it can (see above); otherwise returns. */
export function restartWithSmallYoungGeneration(script: string): void {
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => void }).execve;
  if (typeof execve !== 'function' || process.send !== undefined || hasSmallYoungGeneration()) return;
  if (process.env.ENVPROFILES_SMALL_YOUNG_GENERATION === 'off' || process.env[RESTARTED] !== undefined) return;
  try {
    execve.call(process, process.execPath, [process.execPath, ...process.execArgv, SMALL_YOUNG_GENERATION_FLAG, script, ...process.argv.slice(2)], { ...process.env, [RESTARTED]: '1' });
  } catch {
    // execve(2) failed and this process is unchanged: it runs the command as it is.
  }
}
