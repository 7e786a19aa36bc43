import { initialiseProfileDatabases } from '../../core/profileDatabaseInit';
import { counted } from '../../core/counted';
import { stringOption } from '../cliArguments';
import type { CliCommand } from '../cliCommand';

export const initDbCommand: CliCommand = {
  name: 'init-db',
  summary: "Make a profile's missing database files: empty, or with another profile's schema",
  usage: 'envprofiles init-db <id> [--schema-from <profile>]',
  details: [
    'Only databases whose files do not exist are made; existing ones are never touched.',
    'Without --schema-from they are empty SQLite databases (WAL mode); with it, each gets the tables, indexes, views and triggers of that profile\'s database of the same name, without rows.',
    'All of them are made or, after a failure or an interruption, none.',
  ],
  options: { 'schema-from': { type: 'string' } },
  positionals: [1, 1],
  async run({ context, positionals, options }) {
    const schemaFrom = stringOption(options['schema-from']);
    const result = await initialiseProfileDatabases(context, positionals[0], schemaFrom === undefined ? { kind: 'empty' } : { kind: 'schema-from', profile: schemaFrom });
    const id = result.profileId;
    const text = result.made.length === 0
      ? [`Every database of ${id} exists already; nothing was made.`]
      : [result.schemaFrom === undefined ? `Made ${counted(result.made.length, 'empty database')} for ${id}:` : `Made ${counted(result.made.length, 'database')} for ${id} with the schema of ${result.schemaFrom} (tables, no rows):`];
    for (const [logical, written] of Object.entries(result.databases)) {
      text.push(`  ${logical}: ${written}${result.made.includes(logical) ? ` (made ${result.schemaFrom === undefined ? 'empty' : 'with its schema'})` : ' (exists; left as it was)'}`);
    }
    for (const note of result.notes) text.push(`note: ${note}`);
    if (result.stillInvalid) text.push(`next: ${id} does not validate yet (${result.stillInvalid}); switch refuses it until it does ("envprofiles validate ${id}" says all).`);
    else if (result.made.length > 0) text.push(`next: ${id} can be switched to and backed up now ("envprofiles validate ${id}" checks it).`);
    return { json: result, text };
  },
};
