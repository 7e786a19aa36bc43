import type { ParseArgsConfig } from 'node:util';
import type { WorkspaceContext } from '../core/workspaceContext';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What a command hands back: the JSON document for `--json`, the lines for people otherwise. */
export interface CommandOutput {
  json: unknown;
  text: string[];
  /** Non-zero when the command ran but its verdict is negative (e.g. validation found errors). */
  exitCode?: number;
}

export interface CommandInput {
  context: WorkspaceContext;
  positionals: string[];
  options: OptionValues;
  /** Asks the user to type `expected` when stdin is a terminal; resolves undefined otherwise. */
  askToType(question: string, expected: string): Promise<string | undefined>;
}

/** One CLI command: its help, its options, its handler. */
export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  details?: string[];
  options: OptionSpec;
  /** Positional arguments: [minimum, maximum]. */
  positionals: [number, number];
  /** Commands that work before `init` (init itself, help). */
  worksUninitialised?: boolean;
  run(input: CommandInput): Promise<CommandOutput>;
}
