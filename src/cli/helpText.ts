import type { CliCommand } from './cliCommand';
import { COMMANDS } from './commandTable';

export const GLOBAL_OPTIONS = [
  '  --workspace DIR   the workspace folder (default: the one the current folder is in, searched upwards)',
  '  --json            print one JSON document on stdout',
  '  --wait MINUTES    when another operation holds the workspace, wait up to MINUTES for it (default: refuse at once, exit 3)',
  '  --help, -h        help for a command',
];

export function generalHelp(version: string): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `envprofiles ${version}: named, validated environment profiles for SQLite-backed applications`,
    '',
    'Usage: envprofiles <command> [arguments] [--workspace DIR] [--json]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    ...GLOBAL_OPTIONS,
    '',
    'Exit codes: 0 success; 1 the operation failed; 2 usage error; 3 refused by a safety rule; 130 stopped by Ctrl+C (143 SIGTERM, 129 SIGHUP).',
    'Run "envprofiles <command> --help" for a command\'s options.',
  ].join('\n');
}

export function commandHelp(command: CliCommand): string {
  return [`${command.summary}.`, '', `Usage: ${command.usage}`, ...(command.details ? ['', ...command.details] : []), '', 'Options:', ...GLOBAL_OPTIONS].join('\n');
}
