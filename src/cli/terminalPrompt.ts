import * as readline from 'node:readline/promises';
import { throwIfCancelled } from '../core/workspaceContext';

/**
 * Asks the user to type a value, but only in an interactive terminal; never prompts otherwise. A stop
 * signal (`signal` aborted: Ctrl+C, SIGTERM, SIGHUP) ends the question as CANCELLED, as it stops any
 * operation; Ctrl+C typed at the prompt reaches readline, not the process, so it is passed on.
 */
export async function askToType(question: string, _expected: string, signal?: AbortSignal): Promise<string | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
  try {
    return (await rl.question(question, signal ? { signal } : {})).trim();
  } catch (error) {
    throwIfCancelled({ signal });
    throw error;
  } finally {
    rl.close();
  }
}
