import { readAssignments } from '../core/assignments';
import { EnvProfilesError } from '../core/errors';

/**
 * `--db` / `--set` NAME=VALUE pairs. A name given twice, also in another case (both become one
 * variable: ENVPROFILE_DB_<NAME>, or the configuration's), is refused: before, the last one won
 * without a word, so a mistyped second --db replaced the first database.
 */
export function parseAssignments(values: string[] | undefined, option: 'db' | 'set'): Record<string, string> {
  const { assignments, malformed, twice } = readAssignments(values ?? []);
  if (malformed !== undefined) {
    throw new EnvProfilesError('USAGE', `--${option} expects NAME=VALUE, got "${malformed}".`, { kind: 'usage', hint: `Example: --${option} ${option === 'db' ? 'settings=data/dev/settings.sqlite3' : 'LOG_LEVEL=DEBUG'}` });
  }
  if (twice !== undefined) {
    const inCase = twice.earlier.name !== twice.item.name ? ' (names that differ only in case become the same variable)' : '';
    throw new EnvProfilesError('USAGE', `--${option} gives the same ${option === 'db' ? 'database' : 'setting'} twice: "${twice.earlier.item}" and "${twice.item.item}"${inCase}; nothing was created.`, { kind: 'usage', hint: `Give each ${option === 'db' ? 'database' : 'setting'} once.` });
  }
  return Object.fromEntries(assignments.map((a) => [a.name, a.value]));
}

export function stringOption(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Restricts an option to a set of words, in any case (as --type takes PRODUCTION or production). */
export function choiceOption<T extends string>(value: unknown, option: string, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const chosen = typeof value === 'string' ? choices.find((c) => c.toLowerCase() === value.toLowerCase()) : undefined;
  if (chosen === undefined) {
    const given = typeof value === 'string' ? `, not "${value}"` : '';
    throw new EnvProfilesError('USAGE', `--${option} must be one of ${choices.join(', ')}${given}.`, { kind: 'usage' });
  }
  return chosen;
}
