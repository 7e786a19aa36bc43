import * as fs from 'node:fs';
import { EnvProfilesError } from '../errors';
import { counted } from '../counted';
import { localTimestampWithZone } from '../localTime';
import type { Profile } from '../profileModel';
import { newestFirst, readCatalog, verificationStatus, type CatalogEntry } from './backupCatalog';
import type { BackupLayout } from './backupLayout';
import { backupsOfEarlierProfile } from './earlierProfile';
import { chainFault } from './verifiedArchives';
import { likelyMeant } from '../nearMiss';

/** Which of a profile's backups to take when none is named: the newest that can be restored, narrowed. */
export interface BackupSelection {
  /** Only one that verification passed (its archive sound and its data's checks passed). */
  verifiedOnly: boolean;
  /** Only one taken at or before this instant. */
  before?: Date;
  /** Only one that holds this database (a restore of one database: --db). */
  database?: string;
}

export interface SelectedBackup {
  entry: CatalogEntry;
  /** Which rule chose it, after "the": "newest verified backup of prod taken at or before …". */
  rule: string;
}

/**
 * The newest backup of `profileId` that a restore can take and that `selection` allows: not of an
 * earlier profile with this id (when the profile exists), not FAILED, its chain complete and sound
 * (see chainFault). When none is, the error counts what kept each one out, newest first.
 */
export function selectBackup(backups: BackupLayout, profileId: string, profile: Pick<Profile, 'createdAt'> | undefined, selection: BackupSelection, now: Date): SelectedBackup {
  const entries = readCatalog(backups, profileId);
  const taken = selection.before ? ` taken at or before ${localTimestampWithZone(selection.before.toISOString())}` : '';
  const restorable = selection.verifiedOnly ? '' : ' that can be restored';
  const kind = selection.verifiedOnly ? 'verified backup' : 'backup';
  const holding = selection.database === undefined ? '' : ` holding ${selection.database}`;
  const rule = `newest ${kind} of ${profileId}${holding}${taken}${restorable}`;
  if (entries.length === 0) {
    throw new EnvProfilesError('BACKUP_NOT_FOUND', profile ? `Profile ${profileId} has no backups yet; nothing was changed.` : `There is no profile ${profileId} and no backup of one; nothing was changed.`, {
      hint: profile ? `Back it up first: envprofiles backup ${profileId} --verify` : 'Check the id: "envprofiles list" names the profiles, "envprofiles backups" every profile\'s backups.',
    });
  }
  if (selection.database !== undefined) requireDatabaseInSomeBackup(profileId, entries, selection.database);
  const earlier = new Set(profile ? backupsOfEarlierProfile(entries, profile, now) : []);
  const listed = new Map(entries.map((e) => [e.id, e]));
  const passedOver = new Map<PassedOver, number>();
  for (const entry of [...entries].sort(newestFirst)) {
    const why = whyPassedOver(backups, entry, selection, earlier, listed);
    if (why === undefined) return { entry, rule };
    passedOver.set(why, (passedOver.get(why) ?? 0) + 1);
  }
  const reasons = [...passedOver].map(([why, n]) => `${n} ${REASON_WORDS[why](n === 1, selection)}`).join('; ');
  const unverified = passedOver.has('not-verified');
  throw new EnvProfilesError('BACKUP_NOT_FOUND', `${profileId} has no ${kind}${holding}${taken}${restorable}: of its ${counted(entries.length, 'backup')}, ${reasons}. Nothing was changed.`, {
    hint: unverified ? `Verify them first (envprofiles verify --unverified ${profileId}), or leave out --verified; "envprofiles backups ${profileId}" lists them all.` : `"envprofiles backups ${profileId}" lists them all; name one by its id to restore it.`,
  });
}

/**
 * `--db NAME` that no backup of the profile holds is a name mistyped (or a database the profile never
 * had): said as the named backup's restore says it, with the names they do hold, not counted as
 * "N backups do not hold it".
 */
function requireDatabaseInSomeBackup(profileId: string, entries: readonly CatalogEntry[], database: string): void {
  if (entries.some((e) => e.databases.includes(database))) return;
  const held = [...new Set([...entries].sort(newestFirst).flatMap((e) => e.databases))];
  const meant = likelyMeant(database, held);
  throw new EnvProfilesError('BACKUP_NOT_FOUND', `No backup of ${profileId} holds a database "${database}"; nothing was changed.`, {
    kind: 'usage',
    hint: held.length > 0 ? `${meant ? `Did you mean ${meant}? ` : ''}Its backups hold: ${held.join(', ')}.` : `${profileId}'s backups hold no database (each left them out); "envprofiles backups ${profileId}" lists them.`,
  });
}

type PassedOver = 'earlier-profile' | 'later' | 'lacks-database' | 'failed' | 'chain-lost' | 'chain-failed' | 'not-verified';

const REASON_WORDS: Record<PassedOver, (one: boolean, selection: BackupSelection) => string> = {
  'earlier-profile': (one) => `${one ? 'was' : 'were'} made of an earlier profile with this id`,
  later: (one, selection) => `${one ? 'was' : 'were'} taken after ${localTimestampWithZone((selection.before as Date).toISOString())}`,
  'lacks-database': (one, selection) => `${one ? 'does' : 'do'} not hold ${selection.database}`,
  failed: () => 'FAILED verification',
  'chain-lost': (one) => `cannot be restored (an archive of ${one ? 'its chain is' : 'their chains is'} missing: "envprofiles backups" marks ${one ? 'it' : 'them'})`,
  'chain-failed': (one) => `cannot be restored (${one ? 'its chain holds' : 'their chains hold'} one that FAILED verification)`,
  'not-verified': (one) => `${one ? 'is not verified, or its' : 'are not verified, or their'} data failed the checks`,
};

/** Why `entry` is not the one to take; undefined when it is. */
function whyPassedOver(backups: BackupLayout, entry: CatalogEntry, selection: BackupSelection, earlier: ReadonlySet<CatalogEntry>, listed: ReadonlyMap<string, CatalogEntry>): PassedOver | undefined {
  if (earlier.has(entry)) return 'earlier-profile';
  if (selection.before && Date.parse(entry.createdAt) > selection.before.getTime()) return 'later';
  if (selection.database !== undefined && !entry.databases.includes(selection.database)) return 'lacks-database';
  const status = verificationStatus(entry);
  if (status === 'failed') return 'failed';
  const fault = chainFault(entry, listed);
  if (fault) return fault.kind === 'lost' ? 'chain-lost' : 'chain-failed';
  if ([entry.id, ...entry.chain].some((id) => !fs.existsSync(backups.archiveFile(entry.profileId, id)))) return 'chain-lost';
  if (selection.verifiedOnly && status !== 'passed') return 'not-verified';
  return undefined;
}
