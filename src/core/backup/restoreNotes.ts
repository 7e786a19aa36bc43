import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { DatabaseInPlace } from '../databaseInUse';
import { realLocation } from '../pathSafety';
import type { Profile } from '../profileModel';
import type { WorkspaceContext } from '../workspaceContext';
import type { ArchiveReader } from './archiveReader';
import type { BackupLayout } from './backupLayout';
import { OUTSIDE_DATA_CLAUSE, type CatalogEntry, type VerificationRecord } from './backupCatalog';
import { chainFault } from './verifiedArchives';
import { localTimestamp, localTimeZone } from '../localTime';
import { elsewhereText, originFrom, sharingWorkspaceFinder } from './backupOrigin';
import { leftOutReason, type DatabaseRecord, type FileRecord } from './backupManifest';
import { backupsOfEarlierProfile } from './earlierProfile';
import { profileRecord } from './backedUpFiles';
import { databasesOfOtherProfiles, filesOfOtherProfiles } from '../pathOwners';
import { namedFew } from '../namedFew';
import { shortened } from '../shortened';
import { type Outcome, told } from './restoreRequest';

// What a restore over a profile says once done (or would do): the profile file, databases it does not
// hold, whose data this is, and paths other profiles share.

/**
 * What a restore over a profile says after its swaps (or, `planned`, what it would do): the profile file
 * (put back, or why the backup's copy of it was not: `unusableCopy`), the profile's databases the
 * backup does not hold, whose data this is, and a failed verification.
 */
export function outcomeNotes(context: WorkspaceContext, backups: BackupLayout, chain: ArchiveReader[], records: DatabaseRecord[], renamedTo: ReadonlyMap<string, string>, current: { file: string; profile?: Profile }, database: string | undefined, restoresProfileFile: boolean, unusableCopy: string, safetyBackup: string | undefined, failedVerification: string | undefined, outcome: Outcome): string[] {
  const { layout } = context;
  const manifest = chain[chain.length - 1].manifest;
  const notes: string[] = [];
  if (restoresProfileFile) {
    notes.push(told(outcome, 'the profile file was missing and was restored from the backup', 'the profile file is missing and would be restored from the backup'));
  } else if (!current.profile && !fs.existsSync(current.file) && profileRecord(chain)) {
    // An emergency backup of a profile whose file was broken holds that file as it was.
    notes.push(`the backup's copy of the profile file ${unusableCopy}, so it ${told(outcome, 'was not put back', 'would not be put back')}: the databases ${told(outcome, 'went', 'would go')} where the backup found them, and ${manifest.profileId} has no profile file until you write one (the backup keeps that copy, under profile/ in its archive)`);
  } else if (current.profile && !database) {
    const record = profileRecord(chain);
    if (record && fs.existsSync(current.file) && record.sha256 !== sha256Of(fs.readFileSync(current.file))) notes.push(`the profile file in the backup differs from the current one; the current one ${told(outcome, 'was', 'would be')} kept`);
    // A database added to the profile after this backup: nothing to restore it from, so it is not touched.
    const notInBackup = Object.entries(current.profile.databases).filter(([logical]) => !records.some((r) => r.logicalName === logical || renamedTo.get(r.logicalName) === logical));
    for (const [logical, written] of notInBackup) {
      const why = leftOutReason(manifest, logical);
      notes.push(`${logical} (${written}) is not in this backup (${why ? `it was left out of it: ${why}` : 'it was added to the profile later, or did not exist when the backup was taken'}); it ${told(outcome, 'was', 'would be')} left as it is`);
    }
    // The same for a file of files: (before, it was left as it is without a word, as if restored).
    const backedUpFiles = new Set(manifest.files.filter((f) => f.role === 'file').map((f) => f.originalPath));
    for (const file of current.profile.files.filter((f) => !backedUpFiles.has(f))) {
      notes.push(`${file} (in files:) is not in this backup (it was added to files: later, or did not exist when the backup was taken); it ${told(outcome, 'was', 'would be')} left as it is`);
    }
  }
  const arrives = told(outcome, 'is now in this one', 'would replace this one\'s');
  const origin = originFrom(manifest.origin);
  const madeBy = sharingWorkspaceFinder(layout, backups)(origin);
  const elsewhere = elsewhereText(layout, origin);
  if (madeBy) notes.push(`this backup was made by the workspace at ${madeBy}, which shares the backups folder: that workspace's data ${arrives}`);
  else if (elsewhere) notes.push(`this backup was made by ${elsewhere}, not this one (or before this workspace was moved): that data ${arrives}`);
  if (current.profile && backupsOfEarlierProfile([{ createdAt: manifest.createdAt }], current.profile, context.now()).length > 0) {
    notes.push(`this backup was made of an earlier profile with the id ${manifest.profileId}, before this one was created (${current.profile.createdAt}): that profile's data ${arrives}${safetyBackup ? `; the safety backup ${safetyBackup} holds what was replaced` : ''}`);
  }
  if (failedVerification) notes.push(failedVerification);
  return notes;
}

/**
 * A restored database or file that other profiles use too (a database two profiles share; a clone keeps
 * its source's files:): it is theirs as well, and is replaced for them (before, without a word).
 */
export function sharedPathNotes(context: WorkspaceContext, profileId: string, replaced: DatabaseInPlace[], fileRecords: FileRecord[], fileTargets: string[], outcome: Outcome, safetyBackup: string | undefined): string[] {
  const held = safetyBackup ? `; the safety backup ${safetyBackup} holds what was there` : '';
  const replacedFor = (others: string[], count = 1): string => `${count === 1 ? told(outcome, 'it was replaced for', 'it would be replaced for') : told(outcome, 'they were replaced for', 'they would be replaced for')} ${others.length === 1 ? 'that profile' : 'those profiles'} too${held}`;
  const databaseOwners = replaced.length > 0 ? databasesOfOtherProfiles(context, profileId) : new Map<string, string>();
  const databaseNotes = replaced.flatMap((database) => {
    const other = databaseOwners.get(database.file);
    return other ? [`${database.written} (${database.logicalName}) is also a database of ${other}: ${replacedFor([other])}`] : [];
  });
  if (fileRecords.length === 0) return databaseNotes;
  const listedElsewhere = filesOfOtherProfiles(context, profileId);
  // One note per set of other profiles: a clone of a profile with 1,500 files gave 1,500 notes.
  const sharedWith = new Map<string, { others: string[]; paths: string[] }>();
  fileRecords.forEach((file, i) => {
    const others = listedElsewhere.get(realLocation(fileTargets[i]));
    if (!others) return;
    const key = others.join(', ');
    const group = sharedWith.get(key) ?? { others, paths: [] };
    group.paths.push(file.originalPath);
    sharedWith.set(key, group);
  });
  return [...databaseNotes, ...[...sharedWith.values()].map(({ others, paths }) => (paths.length === 1
    ? `${paths[0]} is also in the files: of ${others.join(', ')}: ${replacedFor(others)}`
    : `${paths.length.toLocaleString('en-US')} files (${namedFew(paths)}) are also in the files: of ${others.join(', ')}: ${replacedFor(others, paths.length)}`))];
}

function sha256Of(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `text` without `suffix` at its end (a path in it may hold any character, so nothing is split). */
function withoutSuffix(text: string, suffix: string): string {
  return text.endsWith(suffix) ? text.slice(0, -suffix.length) : text;
}

/**
 * The note a restore gives when the backup failed its last verification, or builds on one whose
 * archive did (damaged since it was written): the restore checks every entry it reads, so it stops,
 * replacing nothing, where it meets that damage; but the user should know before asking for it.
 * `listed` is the catalog that lists `entry`.
 */
export function failedVerificationNote(entry: CatalogEntry | undefined, listed: CatalogEntry[]): string | undefined {
  const when = (record: VerificationRecord): string => `${localTimestamp(record.at)}, ${localTimeZone()} time`;
  if (entry?.verified?.ok === false && entry.verified.changedOutsideData) return `this backup failed its last verification (${when(entry.verified)}): an archive of it changed on the disk since it was written, though every entry still matched its SHA-256 (${shortened(withoutSuffix(entry.verified.detail, OUTSIDE_DATA_CLAUSE), 400)}); the restore checks every entry again as it reads it`;
  if (entry?.verified?.ok === false) return `this backup failed its last verification (${when(entry.verified)}): ${shortened(entry.verified.detail, 240)}`;
  if (!entry || entry.chain.length === 0) return undefined;
  const byId = new Map(listed.map((e) => [e.id, e]));
  const fault = chainFault(entry, byId);
  const failed = fault?.kind === 'failed' ? byId.get(fault.id)?.verified : undefined;
  if (!fault || !failed) return undefined;
  return `this backup builds on ${fault.id}, which failed its last verification (${when(failed)}): ${shortened(failed.detail, 240)}; the restore checks every entry it reads, and stops before anything is replaced where it meets that damage`;
}
