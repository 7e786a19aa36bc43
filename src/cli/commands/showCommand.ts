import { readActiveState } from '../../core/activeState';
import { isProtected } from '../../core/profileModel';
import { loadProfile } from '../../core/profileStore';
import { workspaceConfigFor } from '../../core/workspaceConfig';
import type { CliCommand } from '../cliCommand';

export const showCommand: CliCommand = {
  name: 'show',
  summary: 'Show one profile',
  usage: 'envprofiles show <id>',
  options: {},
  positionals: [1, 1],
  async run({ context, positionals }) {
    const config = workspaceConfigFor(context);
    const { profile, file } = loadProfile(context.layout, config, positionals[0]);
    const active = readActiveState(context.layout).active === profile.id;
    const text = [
      `${profile.id}  ${profile.type}${isProtected(profile) ? ' (protected)' : ''}${active ? ' (active)' : ''}`,
      `  name: ${profile.name}`,
      ...(profile.description ? [`  description: ${profile.description}`] : []),
      ...(profile.createdAt ? [`  created: ${profile.createdAt}`] : []),
      `  file: ${context.layout.relative(file)}`,
      '  databases:',
      ...Object.entries(profile.databases).map(([k, v]) => `    ${k}: ${v}`),
      '  configurations:',
      ...Object.entries(profile.configurations).map(([k, v]) => `    ${k.toUpperCase()}=${String(v)}`),
    ];
    return { json: { profile, file: context.layout.relative(file), active, protected: isProtected(profile) }, text };
  },
};
