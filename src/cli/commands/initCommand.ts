import { initialiseWorkspace } from '../../core/workspaceInit';
import type { CliCommand } from '../cliCommand';

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
    text.push('Next: envprofiles create <id> --type DEVELOPMENT --db settings=data/dev/settings.sqlite3');
    return { json: { workspace: context.layout.root, ...result }, text };
  },
};
