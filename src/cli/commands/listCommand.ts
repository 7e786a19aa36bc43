import { listProfiles } from '../../core/workspaceStatus';
import type { CliCommand } from '../cliCommand';
import { profileMarker, table, terminalSafe } from '../textFormat';

export const listCommand: CliCommand = {
  name: 'list',
  summary: 'List the profiles (* active, ! protected)',
  usage: 'envprofiles list',
  options: {},
  positionals: [0, 0],
  async run({ context }) {
    const profiles = listProfiles(context);
    if (profiles.length === 0) return { json: { profiles }, text: ['No profiles yet. Create one with: envprofiles create <id> --type DEVELOPMENT'] };
    const rows = [['', 'ID', 'TYPE', 'DATABASES', 'NAME']];
    for (const p of profiles) {
      rows.push([profileMarker(p), p.id, p.type ?? 'INVALID', p.valid ? String(Object.keys(p.databases).length) : '-', p.valid ? (p.name ?? '') : p.issues[0]?.message ?? '']);
    }
    // Usable, so listed as valid; said here so that they are seen without a validate of each.
    const warnings = profiles.flatMap((p) => p.warnings.map((w) => terminalSafe(`warning: ${p.id}: ${w.field ? `${w.field.replace(/^profile\./, '')}: ` : ''}${w.message}`)));
    return { json: { profiles }, text: [...table(rows), ...warnings] };
  },
};
