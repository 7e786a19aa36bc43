import * as readline from 'node:readline/promises';

/** Asks the user to type a value, but only in an interactive terminal; never prompts otherwise. */
export async function askToType(question: string, _expected: string): Promise<string | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}
