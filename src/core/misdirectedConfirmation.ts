import { shortened } from './shortened';
import { EnvProfilesError } from './errors';

/**
 * A confirmation (`--confirm <id>`) that names another profile than the one an operation changes, when
 * that one is not protected and needs none: the user meant another operation (restore production's
 * backup, switch to production), so nothing is done (before, it went on over the other profile).
 * A protected profile's own check refuses a confirmation that does not name it.
 */
export function refuseMisdirectedConfirmation(confirmedId: string | undefined, profileId: string, operation: string, accepted: readonly string[] = [profileId]): void {
  if (confirmedId === undefined || accepted.includes(confirmedId)) return;
  throw new EnvProfilesError('USAGE', `--confirm names ${confirmedId}, but ${operation} ${profileId}, which is not protected and needs no confirmation; nothing was changed.`, {
    kind: 'usage',
    hint: `Check which profile you meant. For ${profileId}, leave out --confirm.`,
  });
}

/** How much of a confirmation that does not match is repeated in the error (it may be any text). */
const SHOWN_CONFIRMATION = 80;

/**
 * The refusal of an operation on a protected profile whose confirmation (`--confirm`, or the id typed
 * when asked) is missing or does not name it. One that was given but does not match is repeated, so
 * that a mistyped id is not taken for no confirmation at all (before, both read "needs confirmation").
 */
export function confirmationRequiredError(needed: string, profileId: string, confirmedId: string | undefined, hint: string): EnvProfilesError {
  const given = confirmedId?.trim();
  const shown = given && shortened(given, SHOWN_CONFIRMATION);
  const mismatch = shown ? ` The confirmation given, "${shown}", is not its id${given?.toLowerCase() === profileId.toLowerCase() ? ' (ids tell upper and lower case apart)' : ''}; nothing was changed.` : '';
  return new EnvProfilesError('CONFIRMATION_REQUIRED', `${needed}${mismatch}`, { kind: 'refused', hint });
}
