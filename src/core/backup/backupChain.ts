import * as fs from 'node:fs';
import * as path from 'node:path';
import { EnvProfilesError } from '../errors';
import { likelyMeant } from '../nearMiss';
import { realLocation } from '../pathSafety';
import { profileIdProblem } from '../safeNames';
import { ArchiveReader } from './archiveReader';
import { missingArchives, newestFirst, readCatalog, readCatalogOrProblem, profilesWithBackups, type CatalogEntry, type UnreadableCatalogError } from './backupCatalog';
import type { BackupLayout } from './backupLayout';
import { archiveElsewhere, folderInWords } from './backupsElsewhere';

/** A backup named by id or by the path of its archive. */
export interface LocatedBackup {
  archive: string;
  catalogEntry?: CatalogEntry;
  /** Every entry of the catalog that lists it, as read to find it (set with `catalogEntry`). */
  catalogEntries?: CatalogEntry[];
  /** Set when the archive is in a profile's backups folder whose catalog cannot be read (so it may be listed there, but nothing can be recorded). */
  unreadableCatalog?: UnreadableCatalogError;
}

/**
 * Finds a backup by id (in any profile's catalog) or by archive path. A path to an archive the catalog
 * lists (in the backups folder) finds its catalog entry too, so it is the same as naming it by id.
 */
export function locateBackup(backups: BackupLayout, reference: string, cwd: string): LocatedBackup {
  // An empty argument (a shell variable that was not set) begins every id: said as what it is.
  if (reference.trim() === '') throw new EnvProfilesError('USAGE', `The backup was named by an empty argument ("${reference}"); nothing was changed.`, { kind: 'usage', hint: 'Give a backup id or the path of its .zip file ("envprofiles backups" lists them).' });
  if (reference.endsWith('.zip') || reference.includes('/')) {
    const archive = path.resolve(cwd, reference);
    if (!fs.existsSync(archive)) throw new EnvProfilesError('BACKUP_NOT_FOUND', `There is no archive at ${archive}.`, { file: archive, hint: archiveNameHint(backups, reference, cwd) });
    return { archive, ...listedEntryOf(backups, archive) };
  }
  const profiles = profilesWithBackups(backups);
  const knownIds: string[] = [];
  const unreadable: UnreadableCatalogError[] = [];
  for (const profileId of profiles) {
    const { entries, unreadable: problem } = readCatalogOrProblem(backups, profileId);
    if (problem) unreadable.push(problem);
    const entry = entries.find((e) => e.id === reference);
    if (!entry) {
      knownIds.push(...entries.map((e) => e.id));
      continue;
    }
    const archive = backups.archiveFile(profileId, entry.id);
    if (!fs.existsSync(archive)) {
      throw new EnvProfilesError('BACKUP_NOT_FOUND', `Backup ${entry.id} is in the catalog, but its archive ${archive} is missing (moved or deleted). Nothing was changed.`, {
        file: archive,
        hint: `Put the archive back; or, if it is gone for good, drop it from the catalog: envprofiles backups ${profileId} --rebuild-catalog (--dry-run first shows what it would change).`,
        nextStep: { action: 'rebuild-catalog', profileId },
      });
    }
    return { archive, catalogEntry: entry, catalogEntries: entries };
  }
  // A backup's id begins with its profile's: when that profile's catalog cannot be read, it is what to fix.
  const ownCatalog = unreadable.find((problem) => reference.startsWith(`${problem.profileId}.`));
  if (ownCatalog) throw ownCatalog;
  const absence = backups.absence();
  if (absence) throw new EnvProfilesError('BACKUP_NOT_FOUND', `No backup with id "${reference}": ${absence}.`, { hint: 'Then run the command again.' });
  // In the folder used before backups.directory changed: said, with the path that takes it from there.
  const there = archiveElsewhere(backups, reference);
  if (there) {
    throw new EnvProfilesError('BACKUP_NOT_FOUND', `No backup with id "${reference}" in the backups folder ${backups.root}; it is in ${there.elsewhere.folder}, ${folderInWords(there.elsewhere.was)}, which backups.directory no longer sets. Nothing was changed.`, {
      file: there.archive,
      hint: `Name it by its archive's path: ${there.archive} (or move that profile's backups into ${backups.root}: "envprofiles backups" says how).`,
    });
  }
  throw new EnvProfilesError('BACKUP_NOT_FOUND', `No backup with id "${reference}".`, { hint: unknownBackupHint(backups, reference, profiles, knownIds) });
}

/**
 * What to do about an archive path that leads nowhere: a bare archive name ("<id>.zip", as the backups
 * listing shows it) of a backup in the backups folder is said to be that backup, named both ways.
 */
function archiveNameHint(backups: BackupLayout, reference: string, cwd: string): string {
  const id = reference.slice(0, -'.zip'.length);
  if (reference.endsWith('.zip') && !reference.includes('/') && id !== '') {
    try {
      const listed = locateBackup(backups, id, cwd);
      return `That is the archive name of backup ${id}, which is in the backups folder: name it by its id, ${id}, or by its archive's path, ${listed.archive}.`;
    } catch {
      // Not a backup's archive name either: the general hint.
    }
  }
  return 'Check the path, or name the backup by its id ("envprofiles backups").';
}

/**
 * What to do about a backup id that is not there: a profile's id given for a backup's gets that
 * profile's newest backups (or how to make one); the beginning of several ids, how many; a misspelt
 * id, the one it most likely meant. `profiles` and `ids` are those the search went through.
 */
function unknownBackupHint(backups: BackupLayout, reference: string, profiles: string[], ids: string[]): string {
  if (profiles.includes(reference)) {
    const newest = restorableInstead(backups, reference, '');
    return newest.length > 0
      ? `"${reference}" is a profile; name one of its backups by id. Its newest: ${newest.join(', ')} (all of them: envprofiles backups ${reference}).`
      : `"${reference}" is a profile, and it has no backup that can be used: envprofiles backups ${reference} shows what there is.`;
  }
  if (backups.isWorkspaceProfile(reference)) return `"${reference}" is a profile, and it has no backups yet. Make one: envprofiles backup ${reference} --full --verify`;
  const beginning = ids.filter((id) => id.startsWith(reference));
  if (beginning.length > 1) return `${beginning.length} backups begin with it, such as ${beginning.slice(-3).join(', ')}; give the whole id (envprofiles backups lists them).`;
  const meant = likelyMeant(reference, ids);
  return meant ? `Did you mean ${meant}? (envprofiles backups lists them all.)` : 'List them with "envprofiles backups [<profile>]".';
}

/** The catalog entry whose archive is `archive` (the same file, however the path is written), if any. */
function listedEntryOf(backups: BackupLayout, archive: string): Pick<LocatedBackup, 'catalogEntry' | 'catalogEntries' | 'unreadableCatalog'> {
  const id = path.basename(archive, '.zip');
  const real = fs.realpathSync(archive);
  let unreadableCatalog: UnreadableCatalogError | undefined;
  for (const profileId of profilesWithBackups(backups)) {
    const { entries, unreadable } = readCatalogOrProblem(backups, profileId);
    if (unreadable && path.dirname(real) === realLocation(backups.profileDir(profileId))) unreadableCatalog = unreadable;
    const entry = entries.find((e) => e.id === id);
    const listed = entry && backups.archiveFile(profileId, entry.id);
    if (listed && fs.existsSync(listed) && fs.realpathSync(listed) === real) return { catalogEntry: entry, catalogEntries: entries };
  }
  return unreadableCatalog ? { unreadableCatalog } : {};
}

/**
 * The backups of `profileId` a restore could use instead of `unusable` (whose chain is broken): those
 * whose archive and every archive of its chain are there, and that did not fail verification for a
 * damaged archive; newest first, verified ones named as such. At most `limit`.
 */
export function restorableInstead(backups: BackupLayout, profileId: string, unusable: string, limit = 3): string[] {
  const entries = readCatalog(backups, profileId);
  const missing = missingArchives(backups, profileId, entries);
  const damaged = new Set(entries.filter((e) => e.verified?.ok === false && !e.verified.archiveSound).map((e) => e.id));
  return [...entries]
    .sort(newestFirst)
    .filter((e) => e.id !== unusable && !missing.has(e.id) && [e.id, ...e.chain].every((id) => !damaged.has(id)))
    .slice(0, limit)
    .map((e) => `${e.id}${e.verified?.ok ? ' (verified)' : ''}`);
}

/** An incremental whose chain lacks an archive (`parentId`): the archive itself may be sound. */
export class MissingParentError extends EnvProfilesError {
  constructor(archive: string, readonly parentId: string, placesLookedIn: string[]) {
    super('VERIFY_FAILED', `${archive} depends on backup ${parentId}, whose archive ${parentId}.zip is missing (looked in ${placesLookedIn.join(' and in ')}).`, {
      file: archive,
      field: parentId,
      hint: `An incremental backup needs every archive of its chain: put ${parentId}.zip beside it, or restore an older full backup instead.`,
    });
  }
}

/**
 * Opens a backup and every archive it depends on (full first); see `openParentsOf`.
 */
export async function openChain(archive: string, backups?: BackupLayout): Promise<ArchiveReader[]> {
  const last = await ArchiveReader.open(archive);
  try {
    return await openParentsOf(last, backups);
  } catch (error) {
    last.close();
    throw error;
  }
}

/**
 * The chain that ends with `last` (already open), full first. Each parent is looked for by id beside
 * `last`'s archive, then in `backups` (the workspace's backups folder of the profile `last` belongs to):
 * an incremental copied out of that folder, or given by its path, still finds its parents there. Each
 * parent must hold the backup its name says; the rebuild then checks every page against `last`'s index.
 * A missing parent is reported by name, with the places looked in. On failure the parents opened here
 * are closed again (`last` is the caller's).
 */
export async function openParentsOf(last: ArchiveReader, backups?: BackupLayout): Promise<ArchiveReader[]> {
  const archive = last.file;
  const opened: ArchiveReader[] = [last];
  const ownProfile = last.manifest.profileId;
  try {
    for (const id of [...last.manifest.chain].reverse()) {
      if (profileIdProblem(id.split('.')[0]) || id.includes('/') || id.includes('..')) throw new EnvProfilesError('ARCHIVE_INVALID', `${archive}: manifest.json names an unsafe parent id "${id}".`, { file: archive });
      const candidates = [path.join(path.dirname(archive), `${id}.zip`)];
      if (backups && !profileIdProblem(ownProfile)) candidates.push(backups.archiveFile(ownProfile, id));
      const parentFile = candidates.find((file) => fs.existsSync(file));
      if (!parentFile) {
        const places = [...new Set(candidates.map((file) => path.dirname(file)))];
        throw new MissingParentError(archive, id, places);
      }
      const parent = await ArchiveReader.open(parentFile);
      opened.unshift(parent);
      if (parent.manifest.backupId !== id) throw new EnvProfilesError('VERIFY_FAILED', `${parentFile} holds backup ${parent.manifest.backupId}, not ${id}.`, { file: parentFile });
    }
    if (opened[0].manifest.kind !== 'full') throw new EnvProfilesError('VERIFY_FAILED', `The chain of ${archive} does not start with a full backup.`, { file: archive });
    return opened;
  } catch (error) {
    for (const reader of opened) if (reader !== last) reader.close();
    throw error;
  }
}

export function closeChain(chain: ArchiveReader[]): void {
  for (const reader of chain) reader.close();
}
