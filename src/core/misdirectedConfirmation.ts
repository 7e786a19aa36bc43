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
