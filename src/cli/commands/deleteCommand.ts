import { deleteProfile, type DeleteResult } from '../../core/profileDeletion';
import { stringOption } from '../cliArguments';
import type { CliCommand, CommandOutput } from '../cliCommand';

export const deleteCommand: CliCommand = {
  name: 'delete',
  summary: 'Delete a profile, only when a verified backup newer than its last change exists',
  usage: 'envprofiles delete <id> [--confirm <id>] [--delete-data] [--dry-run]',
  details: [
    'Refused with exit 3 and code NEEDS_BACKUP otherwise. Database files are kept unless --delete-data; backups are always kept.',
    'A backup that failed verification only because of its data (already damaged, or with foreign key violations, when it was backed up) holds that data exactly, so it counts; the output says so.',
    '--dry-run shows what would be removed and kept, the backup that covers the profile, and what would refuse the delete now (exit 3 then); nothing is changed.',
  ],
  options: { confirm: { type: 'string' }, 'delete-data': { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
  positionals: [1, 1],
  async run({ context, positionals, options }) {
    const result = await deleteProfile(context, { id: positionals[0], confirmedId: stringOption(options.confirm), deleteData: options['delete-data'] === true, dryRun: options['dry-run'] === true });
    if (result.plan) return dryRunOutput(result, result.plan, options['delete-data'] === true);
    const text = [`Deleted profile ${result.id} (covered by verified backup ${result.coveredBy}).`, `  removed: ${result.deletedFiles.join(', ')}`];
    // With --delete-data, only a file another profile also uses is kept (the note says whose).
    if (result.keptFiles.length) text.push(`  kept: ${result.keptFiles.join(', ')} (${options['delete-data'] ? usedByOthers(result.keptFiles) : `use --delete-data to remove ${itOrThem(result.keptFiles)}`})`);
    for (const note of result.notes) text.push(`note: ${note}`);
    return { json: result, text };
  },
};

function dryRunOutput(result: DeleteResult, plan: NonNullable<DeleteResult['plan']>, deleteData: boolean): CommandOutput {
  const text = [`Dry run: deleting profile ${result.id} would remove ${result.deletedFiles.join(', ')}.`];
  if (result.keptFiles.length) text.push(`  it would keep ${result.keptFiles.join(', ')} (${deleteData ? usedByOthers(result.keptFiles) : `--delete-data removes ${itOrThem(result.keptFiles)}`})`);
  if (result.coveredBy) text.push(`  covered by the verified backup ${result.coveredBy}`);
  if (plan.confirmationNeeded) text.push(`  it needs --confirm ${plan.confirmationNeeded} (a protected profile)`);
  for (const refusal of plan.wouldRefuse) text.push(`  it would be refused now: ${refusal}`);
  for (const note of result.notes) text.push(`  note: ${note}`);
  text.push('Nothing was changed.');
  return { json: result, text, exitCode: plan.wouldRefuse.length > 0 ? 3 : 0 };
}

function itOrThem(files: readonly string[]): string {
  return files.length === 1 ? 'it' : 'them';
}

/** Why --delete-data keeps files: other profiles use them as databases too. */
function usedByOthers(files: readonly string[]): string {
  return files.length === 1 ? 'another profile uses it' : 'each is used by another profile too';
}
