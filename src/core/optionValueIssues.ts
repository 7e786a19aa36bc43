import { EnvProfilesError, type Issue } from './errors';

/**
 * Where the values of a profile made from a command's options came from: the options that gave them,
 * the rest from the template (or, for databases, the logical names of the workspace's profiles).
 */
export interface OptionOrigins {
  id: string;
  template: { name: string; source: string };
  databases: readonly string[];
  settings: readonly string[];
  name: boolean;
  description: boolean;
  /** Databases no option or template named: the workspace's logical names, under a folder of the new profile's. */
  takenDatabases: readonly string[];
}

/** A field of the new profile (`profile.databases.app`) as the user gave it: `--db app`, or the template's key. */
function givenAs(field: string, origins: OptionOrigins): { label: string; byOption: boolean } {
  const [, section, key] = /^profile\.([^.]+)(?:\.(.+))?$/.exec(field) ?? [];
  if (section === undefined) return { label: field, byOption: false };
  const option =
    section === 'databases' && key !== undefined && origins.databases.includes(key) ? `--db ${key}`
      : section === 'configurations' && key !== undefined && origins.settings.some((s) => s.toUpperCase() === key.toUpperCase()) ? `--set ${key}`
        : section === 'name' && origins.name ? '--name'
          : section === 'description' && origins.description ? '--description'
            : undefined;
  if (option) return { label: option, byOption: true };
  const written = `${section}${key !== undefined ? `.${key}` : ''}`;
  const from = section === 'databases' && key !== undefined && origins.takenDatabases.includes(key) ? 'taken from the workspace\'s profiles' : `from the template "${origins.template.name}"`;
  return { label: `${written} (${from})`, byOption: false };
}

/**
 * The error for a profile made from options that does not validate: each problem named by the option
 * (or template key) that gave the value. Before, it named the line and column of a file that was never
 * written ("new profile:10:10") and said to fix "the profile file".
 */
export function optionValuesError(issues: Issue[], origins: OptionOrigins): EnvProfilesError {
  const told = issues.map((issue) => ({ ...issue, given: issue.field === undefined ? undefined : givenAs(issue.field, origins) }));
  const first = told[0];
  const more = told.length > 1 ? ` (and ${told.length - 1} more problem${told.length > 2 ? 's' : ''})` : '';
  const fromTemplate = origins.template.source === 'built-in' ? `the built-in template "${origins.template.name}"` : `the template "${origins.template.name}" (${origins.template.source})`;
  return new EnvProfilesError('PROFILE_INVALID', `Cannot create ${origins.id}: ${first.given ? `${first.given.label}: ` : ''}${first.message}${more}`, {
    field: first.field,
    issues: told.map(({ given, message }) => ({ file: `create ${origins.id}`, field: given?.label, message })),
    hint: first.given?.byOption !== false ? 'Give that option another value and run the command again; nothing was changed.' : `Give the value with an option instead (--db NAME=PATH, --set KEY=VALUE, --name, --description), or correct ${fromTemplate}; nothing was changed.`,
  });
}
