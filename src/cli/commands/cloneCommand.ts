import { cloneProfile } from '../../core/profileClone';
import { choiceOption, stringOption } from '../cliArguments';
import type { CliCommand } from '../cliCommand';

export const cloneCommand: CliCommand = {
  name: 'clone',
  summary: 'Clone a profile; its databases are copied consistently (or created schema-only / empty)',
  usage: 'envprofiles clone <source> <new-id> [--name N] [--type T] [--data copy|schema|empty] [--data-dir DIR]',
  details: ['Databases go to data/<new-id>/ unless --data-dir is given. A copy is one committed state even while the application writes.'],
  options: { name: { type: 'string' }, type: { type: 'string' }, data: { type: 'string' }, 'data-dir': { type: 'string' } },
  positionals: [2, 2],
  async run({ context, positionals, options }) {
    const data = choiceOption(options.data, 'data', ['copy', 'schema', 'empty'] as const);
    const result = await cloneProfile(context, {
      source: positionals[0],
      id: positionals[1],
      name: stringOption(options.name),
      type: stringOption(options.type),
      data,
      dataDir: stringOption(options['data-dir']),
    });
    // What its databases hold, said with them (before, a schema-only clone read like a copy).
    const held = { copy: 'copies of the source\'s', schema: 'the source\'s schema, no rows', empty: 'empty' }[data ?? 'copy'];
    const text = [`Cloned ${positionals[0]} into ${result.profile.id} (${result.profile.type}) in ${(result.durationMs / 1000).toFixed(2)} s; its databases (${held}):`];
    for (const [logical, written] of Object.entries(result.databases)) text.push(`  ${logical}: ${written}`);
    for (const note of result.notes) text.push(`note: ${note}`);
    return { json: { profile: result.profile, file: context.layout.relative(result.file), databases: result.databases, durationMs: result.durationMs, notes: result.notes }, text };
  },
};
