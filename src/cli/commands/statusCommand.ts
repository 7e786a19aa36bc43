import { workspaceStatus } from '../../core/workspaceStatus';
import type { CliCommand } from '../cliCommand';

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'Show the active profile and whether the outputs on disk match it',
  usage: 'envprofiles status',
  options: {},
  positionals: [0, 0],
  async run({ context }) {
    const status = workspaceStatus(context);
    const text: string[] = [];
    if (!status.active) text.push('No active profile. Switch with: envprofiles switch <id>');
    else text.push(`Active: ${status.active}${status.activeType ? ` (${status.activeType}, "${status.activeName}")` : ''}${status.switchedAt ? `, since ${status.switchedAt}` : ''}`);
    if (status.active) text.push(status.inSync ? 'Outputs: in sync' : `Outputs: out of sync\n${status.drift.map((d) => `  - ${d}`).join('\n')}\n  Run "envprofiles switch ${status.active}" to rewrite them.`);
    text.push(`Busy guard: ${status.guardActive ? 'ACTIVE (the application is live; switching is refused)' : 'clear'}`);
    if (status.operationInProgress) text.push(`Operation in progress: ${status.operationInProgress}`);
    text.push(`SQLite engine: ${status.engine}`);
    return { json: status, text };
  },
};
