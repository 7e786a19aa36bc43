import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendAudit } from '../auditLog';
import { EnvProfilesError } from '../errors';
import { fileSha256 } from '../fileDigest';
import { workspaceConfigFor } from '../workspaceConfig';
import type { WorkspaceContext } from '../workspaceContext';
import { requireInitialised } from '../workspaceInit';
import { profileNotFoundError } from '../profileStore';
import { withWorkspaceLock } from '../workspaceSession';
import { ArchiveReader } from './archiveReader';
import { oldestFirst, readCatalogOrProblem, salvageCatalogEntries, verificationStatus, writeCatalog, type CatalogEntry } from './backupCatalog';
import { databaseRecordsOf, keptAsFoundField, NewerFormatError } from './backupManifest';
import { BackupLayout } from './backupLayout';
import { originFrom } from './backupOrigin';
import { withCatalogLock } from './catalogLock';
import { sameLineage } from './catalogRecordCheck';

/** What rebuilding a profile's catalog found and (unless a dry run) did. */
export interface CatalogRebuildResult {
  profileId: string;
  catalogFile: string;
  dryRun: boolean;
  /** The catalog's new content, oldest first. */
  entries: CatalogEntry[];
  /** Archives in the folder that the catalog did not list (now listed, not yet verified). */
  added: string[];
  /** Catalog entries whose archive is gone (no longer listed). */
  dropped: string[];
  /** Entries whose archive is not the one the catalog describes (size or SHA-256): re-read, their verification reset. */
  corrected: string[];
  /**
   * Entries whose archive is the one described, but whose record of it (kind, parent, chain, time)
   * differs from what the archive's manifest says: taken from the archive, their verification kept.
   * Before, such a record was "unchanged", and a backup built on a wrong chain was never restorable.
   */
  amended: string[];
  /** Entries confirmed as they were (their verification kept). */
  unchanged: string[];
  /**
   * Entries kept as recorded because a newer version wrote their archives (a backups folder shared
   * with it): this version cannot read them. Before, they were dropped as if their archives were gone.
   */
  newerFormat: string[];
  /** `.zip` files of the folder that are not backups of this profile, and why; left where they are. */
  skipped: { file: string; reason: string }[];
  /** Incrementals that cannot be restored because an archive of their chain is missing. */
  brokenChains: string[];
  /** Where a catalog that could not be read was moved (it is kept, never deleted). */
  unreadableCatalogMovedTo?: string;
}

/**
 * Rebuilds a profile's catalog from the archives in its backup folder: each archive is opened (with
 * every check of a restore: a hostile or damaged archive is skipped, not listed), its manifest read and
 * its SHA-256 computed. Verification results are kept for archives that are still the ones that were
 * verified. For a catalog that was lost, damaged, or that disagrees with the folder (prune refuses then).
 */
export async function rebuildCatalog(context: WorkspaceContext, profileId: string, dryRun: boolean): Promise<CatalogRebuildResult> {
  requireInitialised(context.layout);
  return withWorkspaceLock(context, `rebuild the backup catalog of ${profileId}`, async () => {
    const backups = new BackupLayout(context.layout, workspaceConfigFor(context));
    const dir = backups.profileDir(profileId);
    const catalogFile = backups.catalogFile(profileId);
    if (!fs.existsSync(dir)) throw noBackupFolderError(context, backups, profileId, dir);
    const { entries: readable, unreadable: unreadableCatalog } = readCatalogOrProblem(backups, profileId);
    const unreadable = unreadableCatalog !== undefined;
    const previous = unreadable ? salvageCatalogEntries(backups, profileId) : readable;
    const before = new Map(previous.map((e) => [e.id, e]));
    const result: CatalogRebuildResult = { profileId, catalogFile, dryRun, entries: [], added: [], dropped: [], corrected: [], amended: [], unchanged: [], newerFormat: [], skipped: [], brokenChains: [] };
    const names = fs.readdirSync(dir).filter((name) => name.endsWith('.zip') && !name.startsWith('.')).sort();
    for (const name of names) {
      const file = path.join(dir, name);
      const read = await readArchiveEntry(file, profileId, () => context.onStep?.('catalog-rebuild-archive-opened')).catch((error: unknown) => {
        if (isGone(file)) return { vanished: true as const };
        throw error;
      });
      // Removed while it was read (a prune of a workspace that shares the folder): not there to list.
      if ('vanished' in read) continue;
      if ('reason' in read) {
        const recorded = read.newerFormat ? before.get(name.slice(0, -'.zip'.length)) : undefined;
        if (recorded) {
          result.entries.push(recorded);
          result.newerFormat.push(recorded.id);
        } else result.skipped.push({ file: name, reason: read.newerFormat ? `${read.reason} Update Environment Profiles to list it (the newer version lists it when it rebuilds this catalog).` : read.reason });
        continue;
      }
      const known = before.get(read.entry.id);
      const same = known !== undefined && known.sha256 === read.entry.sha256 && known.sizeBytes === read.entry.sizeBytes;
      // An archive that is not the one written is no longer the one verified; but one recorded as failed
      // stays so (before, a rebuild turned a damaged archive into one never verified, which the next
      // backup could build on).
      const failedBefore = known !== undefined && verificationStatus(known) === 'failed';
      result.entries.push(same || failedBefore ? { ...read.entry, verified: known.verified } : read.entry);
      (known === undefined ? result.added : !same ? result.corrected : sameRecord(known, read.entry) ? result.unchanged : result.amended).push(read.entry.id);
    }
    const found = new Set(result.entries.map((e) => e.id));
    result.dropped = previous.filter((e) => !found.has(e.id)).map((e) => e.id);
    context.onStep?.('catalog-rebuild-read');
    if (!dryRun) {
      // Under the catalog's lock, as every change of it (a workspace may share the backups folder).
      await withCatalogLock(backups, profileId, `rebuild the catalog of ${profileId}`, () => {
        if (!unreadable) takeInChangesSince(backups, profileId, dir, before, result);
        if (unreadable) {
          result.unreadableCatalogMovedTo = `${catalogFile}.unreadable-${context.now().toISOString().replace(/[:.]/g, '-')}`;
          fs.renameSync(catalogFile, result.unreadableCatalogMovedTo);
        }
        writeCatalog(backups, profileId, result.entries);
      }, (message) => context.logger.warn(message));
      appendAudit(context, { event: 'catalog-rebuilt', profile: profileId, outcome: 'ok', detail: `${result.entries.length} listed; added ${result.added.length}, dropped ${result.dropped.length}, corrected ${result.corrected.length}, amended ${result.amended.length}` });
    }
    const listed = new Set(result.entries.map((e) => e.id));
    for (const entry of result.entries) {
      const missing = [...new Set([...entry.chain, ...(entry.parent ? [entry.parent] : [])])].filter((id) => !listed.has(id));
      if (missing.length > 0) result.brokenChains.push(`${entry.id} needs ${missing.join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} missing`);
    }
    result.entries.sort(oldestFirst);
    return result;
  });
}

/**
 * What a workspace sharing the backups folder changed while the archives were read (each change of
 * archive and catalog together, under the catalog's lock, which the caller now holds): a backup it
 * listed meanwhile is taken in as listed, and a backup whose archive it pruned meanwhile is dropped.
 * Before, the first was left out of the rebuilt catalog, or listed twice when its archive was read
 * before it was listed (a catalog that lists a backup twice cannot be read).
 */
function takeInChangesSince(backups: BackupLayout, profileId: string, dir: string, before: Map<string, CatalogEntry>, result: CatalogRebuildResult): void {
  const present = new Set(fs.readdirSync(dir));
  const gone = result.entries.filter((e) => !present.has(`${e.id}.zip`)).map((e) => e.id);
  const without = (ids: string[]): string[] => ids.filter((id) => !gone.includes(id));
  result.entries = result.entries.filter((e) => !gone.includes(e.id));
  Object.assign(result, { added: without(result.added), corrected: without(result.corrected), amended: without(result.amended), unchanged: without(result.unchanged), newerFormat: without(result.newerFormat) });
  result.dropped.push(...gone.filter((id) => before.has(id)));
  const { entries: current } = readCatalogOrProblem(backups, profileId);
  const listed = new Set(result.entries.map((e) => e.id));
  for (const entry of current) {
    if (before.has(entry.id) || listed.has(entry.id) || !present.has(`${entry.id}.zip`)) continue;
    result.entries.push(entry);
    result.added.push(entry.id);
  }
}

/** The catalog entry an archive makes, or why it is not one of this profile's backups. */
async function readArchiveEntry(file: string, profileId: string, onOpened?: () => void): Promise<{ entry: CatalogEntry } | { reason: string; newerFormat?: boolean } | { vanished: true }> {
  let reader: ArchiveReader;
  try {
    reader = await ArchiveReader.open(file);
  } catch (error) {
    if (isGone(file)) return { vanished: true };
    return { reason: (error as Error).message, ...(error instanceof NewerFormatError ? { newerFormat: true } : {}) };
  }
  try {
    onOpened?.();
    const { manifest } = reader;
    if (manifest.profileId !== profileId) return { reason: `it is a backup of "${manifest.profileId}", not of "${profileId}"` };
    if (`${manifest.backupId}.zip` !== path.basename(file)) {
      const named = path.join(path.dirname(file), `${manifest.backupId}.zip`);
      if (!fs.existsSync(named)) return { reason: `its manifest names it ${manifest.backupId}; rename it to ${manifest.backupId}.zip to list it` };
      if ((await fileSha256(named)) === (await fileSha256(file))) return { reason: `it is an identical copy of ${manifest.backupId}.zip, which is in this folder; remove it, or move it out of the folder` };
      // Either may be the damaged one (a replaced archive, a copy kept aside): only a verify tells.
      return { reason: `it holds the backup ${manifest.backupId} too, but is not the same file as ${manifest.backupId}.zip in this folder; verify both ("envprofiles verify <archive path>"), keep the sound one as ${manifest.backupId}.zip, and move the other out of the folder` };
    }
    const sizeBytes = fs.statSync(file).size;
    const sha256 = await fileSha256(file);
    const origin = originFrom(manifest.origin);
    return {
      entry: {
        id: manifest.backupId,
        profileId,
        file: path.basename(file),
        kind: manifest.kind,
        parent: manifest.parent,
        chain: manifest.chain,
        createdAt: manifest.createdAt,
        reason: manifest.reason,
        sizeBytes,
        sha256,
        databases: databaseRecordsOf(manifest).map((f) => f.logicalName),
        ...(manifest.leftOut?.length ? { leftOut: manifest.leftOut.map((l) => l.logicalName) } : {}),
        ...keptAsFoundField(manifest),
        verified: null,
        ...(origin ? { origin } : {}),
        ...(manifest.profileCreatedAt !== undefined ? { profileCreatedAt: manifest.profileCreatedAt } : {}),
      },
    };
  } finally {
    reader.close();
  }
}

/** Whether `file` is no longer in its folder (a link that leads nowhere still is). */
function isGone(file: string): boolean {
  return fs.lstatSync(file, { throwIfNoEntry: false }) === undefined;
}

/** Whether a catalog entry says of its backup what the archive's manifest says (kind, parent, chain, time). */
function sameRecord(known: CatalogEntry, read: CatalogEntry): boolean {
  return sameLineage(known, read) && known.createdAt === read.createdAt;
}

/**
 * Why there is no catalog of `profileId` to rebuild: the backups folder is not there (a disk not
 * mounted), no such profile (before: "check the profile id" also for one that exists), or a profile
 * with no backups yet.
 */
function noBackupFolderError(context: WorkspaceContext, backups: BackupLayout, profileId: string, dir: string): EnvProfilesError {
  const absence = backups.absence();
  if (absence) return new EnvProfilesError('BACKUP_NOT_FOUND', `There is no catalog of ${profileId} to rebuild: ${absence}. Nothing was changed.`, { hint: 'Then run the command again.' });
  if (!fs.existsSync(context.layout.profileFile(profileId))) return profileNotFoundError(context.layout, workspaceConfigFor(context), profileId);
  return new EnvProfilesError('BACKUP_NOT_FOUND', `${profileId} has no backups in ${backups.root} (there is no folder ${dir}), so there is no catalog to rebuild. Nothing was changed.`, {
    file: dir,
    hint: `Back it up: envprofiles backup ${profileId} --verify. If its backups are in another folder, set backups.directory in config.yaml to that folder.`,
  });
}
