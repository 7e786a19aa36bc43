import { deleteProfile } from '../../core/profileDeletion';
import { stringOption } from '../cliArguments';
import type { CliCommand } from '../cliCommand';

export const deleteCommand: CliCommand = {
  name: 'delete',
  summary: 'Delete a profile, only when a verified backup newer than its last change exists',
  usage: 'envprofiles delete <id> [--confirm <id>] [--delete-data]',
  details: [
    'Refused with exit 3 and code NEEDS_BACKUP otherwise. Database files are kept unless --delete-data; backups are always kept.',
    'A backup that failed verification only because of its data (already damaged, or with foreign key violations, when it was backed up) holds that data exactly, so it counts; the output says so.',
  ],
  options: { confirm: { type: 'string' }, 'delete-data': { type: 'boolean' } },
  positionals: [1, 1],
  async run({ context, positionals, options }) {
    const result = await deleteProfile(context, { id: positionals[0], confirmedId: stringOption(options.confirm), deleteData: options['delete-data'] === true });
    const text = [`Deleted profile ${result.id} (covered by verified backup ${result.coveredBy}).`, `  removed: ${result.deletedFiles.join(', ')}`];
    if (result.keptFiles.length) text.push(`  kept: ${result.keptFiles.join(', ')} (use --delete-data to remove them)`);
    if (result.note) text.push(`note: ${result.note}`);
    return { json: result, text };
  },
};
