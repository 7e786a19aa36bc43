import { EnvProfilesError } from '../core/errors';

/** Parses repeated `NAME=VALUE` options (`--db`, `--set`) into a record, refusing malformed ones. */
export function parseAssignments(values: string[] | undefined, option: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const item of values ?? []) {
    const at = item.indexOf('=');
    if (at <= 0) {
      throw new EnvProfilesError('USAGE', `--${option} expects NAME=VALUE, got "${item}".`, { kind: 'usage', hint: `Example: --${option} ${option === 'db' ? 'settings=data/dev/settings.sqlite3' : 'LOG_LEVEL=DEBUG'}` });
    }
    result[item.slice(0, at)] = item.slice(at + 1);
  }
  return result;
}

export function stringOption(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Restricts an option to a set of words. */
export function choiceOption<T extends string>(value: unknown, option: string, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !choices.includes(value as T)) {
    throw new EnvProfilesError('USAGE', `--${option} must be one of ${choices.join(', ')}.`, { kind: 'usage' });
  }
  return value as T;
}
