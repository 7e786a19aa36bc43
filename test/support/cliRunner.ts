import { spawnSync } from 'node:child_process';
import { NO_TEST_HOOKS } from './steppedRuns';
import { CLI } from './workspaces';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  json?: { ok: boolean; command: string; result?: any; error?: any; recovered?: string[] };
}

/**
 * Runs the built CLI as a separate process, with stdin not a terminal (as in scripts and CI);
 * `timeoutMs`: killed (SIGKILL, status null) after it, for a command that might never end.
 */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; node?: string; cwd?: string; timeoutMs?: number } = {}): CliResult {
  const result = spawnSync(options.node ?? process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    cwd: options.cwd,
    env: { ...process.env, ...NO_TEST_HOOKS, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    input: '',
    ...(options.timeoutMs ? { timeout: options.timeoutMs, killSignal: 'SIGKILL' as const } : {}),
  });
  let json: CliResult['json'];
  if (args.includes('--json')) {
    try {
      json = JSON.parse(result.stdout);
    } catch {
      json = undefined;
    }
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, json };
}
