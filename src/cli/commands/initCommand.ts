import * as path from 'node:path';
import { enclosingWorkspace } from '../../core/workspaceDiscovery';
import { initialiseWorkspace } from '../../core/workspaceInit';
import type { CliCommand } from '../cliCommand';
import { profileFileIds } from '../../core/profileStore';
import { counted } from '../../core/counted';
import { sqliteDatabasesIn } from '../../core/databaseDiscovery';
import { namedFew } from '../../core/namedFew';
import { shellArgument } from '../../core/shellArgument';

/** How many found databases the suggested create names: more is a list to edit, not a suggestion. */
const SUGGESTED_DATABASES = 8;

export const initCommand: CliCommand = {
  name: 'init',
  summary: 'Create .envprofiles/ (config.yaml, profiles/, templates/, .gitignore) in the workspace',
  usage: 'envprofiles init [--workspace DIR]',
  options: {},
  positionals: [0, 0],
  worksUninitialised: true,
  async run({ context }) {
    const result = initialiseWorkspace(context);
    const text = result.created.length > 0 ? [`Initialised ${context.layout.storeDir}`, ...result.created.map((c) => `  created ${c}`)] : [`${context.layout.storeDir} is already initialised; nothing changed.`];
    // Commands run in a folder find the nearest workspace above: one made inside another takes its folders from it.
    const enclosing = enclosingWorkspace(path.dirname(context.layout.root));
    if (result.created.length > 0 && enclosing) text.push(`  note: this folder is inside the workspace ${enclosing}; commands run in it (and below) now act on this new workspace, not on that one`);
    // A workspace that has profiles already needs none created (before: every init said to create one).
    const profiles = profileFileIds(context.layout).length;
    // A workspace without profiles yet: its SQLite databases, found by their header, make the first one.
    const found = profiles > 0 ? [] : sqliteDatabasesIn(context.layout);
    if (profiles > 0) text.push(`It has ${counted(profiles, 'profile')}: envprofiles list shows them.`);
    else if (found.length === 0) text.push('Next: envprofiles create <id> --type DEVELOPMENT --db settings=data/dev/settings.sqlite3');
    else {
      text.push(`Found ${counted(found.length, 'SQLite database')} in the workspace: ${namedFew(found.map((f) => f.path), 5)}.`);
      const some = found.slice(0, SUGGESTED_DATABASES);
      const more = found.length > some.length ? ` (the first ${some.length}; add or leave out --db as you need)` : '';
      text.push(`Next, a profile of ${some.length === 1 ? 'it' : 'them'}${more}: envprofiles create dev --type DEVELOPMENT ${some.map((f) => `--db ${shellArgument(`${f.name}=${f.path}`)}`).join(' ')}`);
    }
    return { json: { workspace: context.layout.root, ...result, ...(enclosing ? { enclosingWorkspace: enclosing } : {}), ...(profiles > 0 ? {} : { foundDatabases: found }) }, text };
  },
};
