import { REORDERING_CHARACTERS } from '../reorderingCharacters';
import { EnvProfilesError } from '../errors';

const MAX_REASON_LENGTH = 80;

/**
 * A backup's reason is shown in one column of `backups` and in the audit log, so it must be one short
 * line; an empty one would leave the backup without a why. Returns the reason trimmed.
 */
export function checkedBackupReason(reason: string): string {
  const trimmed = reason.trim();
  const problem = reasonProblem(trimmed);
  if (!problem) return trimmed;
  throw new EnvProfilesError('USAGE', `The backup reason ${problem}; nothing was backed up.`, {
    kind: 'usage',
    field: 'reason',
    hint: 'Give a short one-line reason, such as --reason before-migration, or leave --reason out.',
  });
}

function reasonProblem(trimmed: string): string | undefined {
  if (trimmed === '') return 'is empty';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(trimmed)) return 'holds a line break or another control character';
  // A right-to-left override makes the listing read other than it is.
  if (REORDERING_CHARACTERS.test(trimmed)) return 'holds a character that reorders text (a right-to-left override or isolate)';
  if (trimmed.length > MAX_REASON_LENGTH) return `is ${trimmed.length} characters long (at most ${MAX_REASON_LENGTH})`;
  return undefined;
}
