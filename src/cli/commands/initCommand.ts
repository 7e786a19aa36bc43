import * as path from 'node:path';
import { enclosingWorkspace } from '../../core/workspaceDiscovery';
import { initialiseWorkspace } from '../../core/workspaceInit';
import type { CliCommand } from '../cliCommand';
import { profileFileIds } from '../../core/profileStore';
import { counted } from '../../core/counted';

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
    text.push(profiles > 0 ? `It has ${counted(profiles, 'profile')}: envprofiles list shows them.` : 'Next: envprofiles create <id> --type DEVELOPMENT --db settings=data/dev/settings.sqlite3');
    return { json: { workspace: context.layout.root, ...result, ...(enclosing ? { enclosingWorkspace: enclosing } : {}) }, text };
  },
};
