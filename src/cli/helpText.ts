import type { CliCommand } from './cliCommand';
import { COMMANDS } from './commandTable';
import { wrappedHelp } from './wrappedHelp';

export const GLOBAL_OPTIONS = [
  '  --workspace DIR   the workspace folder (default: the one the current folder is in, searched upwards)',
  '  --json            print one JSON document on stdout',
  '  --wait MINUTES    when another operation holds the workspace, wait up to MINUTES for it (default: refuse at once, exit 3)',
  '  --help, -h        help for a command',
];

/** The general help, wrapped to `width` columns. */
export function generalHelp(version: string, width: number): string {
  const nameWidth = Math.max(...COMMANDS.map((c) => c.name.length));
  return wrappedHelp([
    `envprofiles ${version}: named, validated environment profiles for SQLite-backed applications`,
    '',
    'Usage: envprofiles <command> [arguments] [--workspace DIR] [--json]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(nameWidth)}  ${c.summary}`),
    '',
    'Options:',
    ...GLOBAL_OPTIONS,
    '',
    'Exit codes: 0 success; 1 the operation failed; 2 usage error; 3 refused by a safety rule; 130 stopped by Ctrl+C (143 SIGTERM, 129 SIGHUP).',
    'Run "envprofiles <command> --help" for a command\'s options.',
  ], width).join('\n');
}

/** A command's help, wrapped to `width` columns (each of its details is one paragraph, set off by a blank line). */
export function commandHelp(command: CliCommand, width: number): string {
  return wrappedHelp([`${command.summary}.`, '', ...`Usage: ${command.usage}`.split('\n'), ...(command.details ?? []).flatMap((paragraph) => ['', paragraph]), '', 'Options:', ...GLOBAL_OPTIONS], width).join('\n');
}
