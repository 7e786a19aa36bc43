import { EnvProfilesError } from '../../core/errors';
import { createProfile, createProfileFromFile, type CreateResult } from '../../core/profileCreation';
import type { InitialiseDatabases } from '../../core/profileDatabaseInit';
import { choiceOption, parseAssignments, stringOption } from '../cliArguments';
import type { CliCommand, OptionValues } from '../cliCommand';

function initialiseOption(options: OptionValues): InitialiseDatabases {
  const empty = choiceOption(options['init-db'], 'init-db', ['empty'] as const);
  const schemaFrom = stringOption(options['schema-from']);
  if (empty && schemaFrom) throw new EnvProfilesError('USAGE', 'Use either --init-db empty or --schema-from <profile>, not both.', { kind: 'usage' });
  if (schemaFrom) return { kind: 'schema-from', profile: schemaFrom };
  return empty ? { kind: 'empty' } : { kind: 'none' };
}

export const createCommand: CliCommand = {
  name: 'create',
  summary: 'Create a profile from a template, from flags, or from a YAML file',
  usage: 'envprofiles create <id> [--type T] [--name N] [--template T] [--description D] [--db NAME=PATH]... [--set KEY=VALUE]... [--init-db empty | --schema-from <profile>]\n       envprofiles create --from-file FILE [--init-db empty | --schema-from <profile>]',
  details: [
    'Templates: development, testing, production, backup (built in) and .envprofiles/templates/<name>.yaml.',
    'Without --db, the new profile gets the logical databases the workspace already uses, under data/<id>/.',
    '--init-db empty creates missing database files empty; --schema-from P creates them with profile P\'s schema.',
  ],
  options: {
    type: { type: 'string' },
    name: { type: 'string' },
    template: { type: 'string' },
    description: { type: 'string' },
    db: { type: 'string', multiple: true },
    set: { type: 'string', multiple: true },
    'from-file': { type: 'string' },
    'init-db': { type: 'string' },
    'schema-from': { type: 'string' },
  },
  positionals: [0, 1],
  async run({ context, positionals, options }) {
    const fromFile = stringOption(options['from-file']);
    const initialise = initialiseOption(options);
    let result: CreateResult;
    if (fromFile) {
      if (positionals.length > 0) throw new EnvProfilesError('USAGE', 'With --from-file the id comes from the file; do not pass one.', { kind: 'usage' });
      result = await createProfileFromFile(context, fromFile, initialise);
    } else {
      const id = positionals[0];
      if (!id) throw new EnvProfilesError('USAGE', 'create needs a profile id (or --from-file FILE).', { kind: 'usage', hint: 'Example: envprofiles create dev_environment_001 --type DEVELOPMENT' });
      result = await createProfile(context, {
        id,
        type: stringOption(options.type),
        name: stringOption(options.name),
        template: stringOption(options.template),
        description: stringOption(options.description),
        databases: parseAssignments(options.db as string[] | undefined, 'db'),
        settings: parseAssignments(options.set as string[] | undefined, 'set'),
        initialise,
      });
    }
    const { profile } = result;
    const text = [`Created profile ${profile.id} (${profile.type}, "${profile.name}") in ${context.layout.relative(result.file)}`];
    for (const [logical, written] of Object.entries(profile.databases)) text.push(`  ${logical}: ${written}${result.initialisedDatabases.includes(logical) ? ' (initialised)' : ''}`);
    for (const note of result.notes) text.push(`note: ${note}`);
    return { json: { profile, file: context.layout.relative(result.file), initialisedDatabases: result.initialisedDatabases, notes: result.notes }, text };
  },
};
