import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { appendAudit } from '../auditLog';
import { lockedDatabaseError } from '../databaseInUse';
import { isOutOfSpace, outOfSpaceError, requireFreeSpace } from '../diskSpace';
import { createFolder } from '../folderAccess';
import { EnvProfilesError, isEnvProfilesError } from '../errors';
import { fileTooLargeText, isFileTooLarge, typedSystemError } from '../systemErrors';
import { fileSha256 } from '../fileDigest';
import { permissionsOf } from '../filePermissions';
import { pathKind } from '../pathKind';
import { missingFileReason, notAFileProblem } from '../profileFiles';
import { realLocation } from '../pathSafety';
import { readGeneratedEnvFile } from '../envFileFormat';
import { removeJournal, writeJournal, type BackupJournal } from '../operationJournal';
import { progressMeter } from '../progressMeter';
import type { Profile } from '../profileModel';
import { loadProfile } from '../profileStore';
import { damagedDatabaseDetail, DatabaseLockedError } from '../sqlite/sqliteEngine';
import { databaseFileProblem, journalModeOf, readSqliteHeader, walSize } from '../sqlite/sqliteHeader';
import { workspaceConfigFor, type WorkspaceConfig } from '../workspaceConfig';
import { throwIfCancelled, type WorkspaceContext } from '../workspaceContext';
import { requireInitialised } from '../workspaceInit';
import { withWorkspaceLock } from '../workspaceSession';
import { TOOL_VERSION } from '../toolVersion';
import { ArchiveReader } from './archiveReader';
import { ArchiveWriter } from './archiveWriter';
import { checkedBackupReason } from './backupReason';
import { CHUNK_SIZE, RETAINED_CHUNKS, type DeflateSegment } from './zipWriter';
import { readCatalog, readCatalogOrProblem, verificationStatus, writeCatalog, type CatalogEntry, type UnreadableCatalogError } from './backupCatalog';
import { backupsOfEarlierProfile } from './earlierProfile';
import { BackupLayout } from './backupLayout';
import { withCatalogLock } from './catalogLock';
import { currentOrigin, sharingWorkspaceFinder } from './backupOrigin';
import { CONSISTENCY_NOTE, MANIFEST_ENTRY, MANIFEST_FORMAT, MANIFEST_VERSION, MANIFEST_VERSION_WITHOUT_RAW_COPIES, RAW_COPY_FOLDER, databaseRecordOf, keptAsFoundField, leftOutReason, type BackupKind, type BackupManifest, type DatabaseRecord, type FileRecord, type LeftOutRecord, type RawCopy } from './backupManifest';
import { changedPagesAgainst, PAGE_HASH_BYTES } from './pageIndex';
import { collectListedPages, hashAndCollectChangedPages, type ChangedPages } from './changedPages';
import { PageHasher } from './pageHasher';
import { SnapshotHasher } from './snapshotHasher';
import { settledInTurns } from '../settledInTurns';
import { markBackupsFolder } from './backupsFolderMark';
import { vanishedFolderError } from './vanishedFolder';
import { reserveBackupId } from './backupIdReservation';
import { asParentRead, matchingParent, UnreadableParentError } from './unreadableParent';
import { makeFolders } from '../makeFolders';


export type RequestedKind = 'full' | 'incremental' | 'auto';

export interface BackupRequest {
  profileId: string;
  kind?: RequestedKind;
  reason?: string;
  /** See BackupOptions.leaveOutMissing. */
  leaveOutMissing?: boolean;
  /** See BackupOptions.keepDamaged. */
  keepDamaged?: boolean;
}

/** A database a backup could not take, when it was told to save what it can (see BackupOptions). */
export interface LeftOutDatabase {
  logicalName: string;
  originalPath: string;
  /** Why, as the error said it (its code apart), and where the archive keeps its files as found, if it does (raw copies). */
  reason: string;
  code: string;
}

export interface BackupOptions {
  /**
   * A database that cannot be backed up (missing, not a SQLite database, locked, unreadable) is left
   * out, named in the manifest and the result, instead of failing the whole backup: the emergency
   * backup saves what it can. A full disk, a missing backups folder or a cancel still fail it, and so
   * does a profile none of whose databases could be taken.
   */
  saveWhatCan?: boolean;
  /**
   * Only a database that is damaged (DATABASE_INVALID: SQLite calls it malformed, or it is no SQLite
   * database) is left out, and named: a restore's safety backup cannot hold such a file, which the
   * restore keeps beside its target instead. (Before, a damaged database, the very case a restore is
   * for, stopped the restore.) A safety backup of none of the databases then still holds the files.
   */
  leaveOutDamaged?: boolean;
  /**
   * Only a database whose file does not exist is left out (and named): nothing of it can be lost, so
   * such a backup still covers the profile for delete (while the file stays missing).
   */
  leaveOutMissing?: boolean;
  /**
   * Only a database that is damaged (DATABASE_INVALID) is left out of the images, and its file (with a
   * non-empty -wal or -journal) is kept byte for byte as found, as saveWhatCan keeps it: a backup of a
   * profile whose database is damaged, before deleting it, say. Such a backup covers the profile for delete.
   */
  keepDamaged?: boolean;
  /**
   * What the profile file holds, for when the file itself is gone: a restore's safety backup is taken
   * before the restore puts it back, and must still be restorable as a profile.
   */
  profileFileContent?: Buffer;
}

export interface BackupResult {
  entry: CatalogEntry;
  archive: string;
  databases: { name: string; storage: 'image' | 'pages'; pagesStored: number; pageCount: number }[];
  durationMs: number;
  /** Why an incremental request became a full backup, if it did; which databases were left out. */
  note?: string;
  /** Databases left out (only with `saveWhatCan`). */
  leftOut?: LeftOutDatabase[];
  /** Why the backup is not in the catalog (which cannot be read): its archive is kept, and a catalog rebuild lists it. */
  unlisted?: string;
  /** With `unlisted`: what lists it later (a rebuild; for a newer version's catalog, that version). */
  listedBy?: string;
}

/** Backs up one profile under the workspace lock. */
export async function createBackup(context: WorkspaceContext, request: BackupRequest): Promise<BackupResult> {
  requireInitialised(context.layout);
  const reason = checkedBackupReason(request.reason ?? 'manual');
  return withWorkspaceLock(context, `backup of ${request.profileId}`, () => {
    const config = workspaceConfigFor(context);
    const { profile } = loadProfile(context.layout, config, request.profileId);
    return backUpProfile(context, config, profile, request.kind ?? 'auto', reason, { leaveOutMissing: request.leaveOutMissing, keepDamaged: request.keepDamaged });
  });
}

/** Chooses full or incremental: incremental needs a parent, and the chain must be shorter than max_chain. */
function chooseParent(entries: CatalogEntry[], requested: RequestedKind, maxChain: number, backups: BackupLayout, now: Date): { kind: BackupKind; parent?: CatalogEntry; note?: string } {
  if (requested === 'full') return { kind: 'full' };
  const parent = newestPresentParent(entries, backups, now);
  if (!parent) return { kind: 'full', note: requested === 'incremental' ? 'no earlier backup to build on, so this one is full' : undefined };
  // An incremental on a chain that lost an archive could never be restored.
  const lost = parent.chain.find((id) => !fs.existsSync(backups.archiveFile(parent.profileId, id)));
  if (lost) return { kind: 'full', note: `the chain of ${parent.id} lost the archive of ${lost}, so this one is full` };
  // Nor on one with an archive known or seen to be damaged: it failed its last verification, or it is
  // no longer the size the catalog recorded. (A full backup is always sound to take.)
  for (const link of [...parent.chain, parent.id].map((id) => entries.find((e) => e.id === id))) {
    if (!link) continue;
    const where = link.id === parent.id ? '' : ` (in the chain of ${parent.id})`;
    // One that failed only because of its data (orphan rows, say) is an intact archive: the chain goes on.
    if (verificationStatus(link) === 'failed') return { kind: 'full', note: `${link.id}${where} failed its last verification, so this one is full` };
    if (fs.statSync(backups.archiveFile(link.profileId, link.id)).size !== link.sizeBytes) return { kind: 'full', note: `the archive of ${link.id}${where} is not the size the catalog recorded (damaged or replaced), so this one is full` };
  }
  if (parent.chain.length + 1 > maxChain) return { kind: 'full', note: requested === 'incremental' ? `the chain reached max_chain (${maxChain}), so this one is full` : undefined };
  return { kind: 'incremental', parent };
}

/**
 * The newest backup whose archive is there, by its date, unless that date is after now (made while the
 * clock was ahead): that one would stay the newest, and every backup until now passes its date would be
 * a first link on it; then the newest there is. Searched from the newest down, so a catalog of thousands
 * costs a look at a file or two (it was one per backup listed: 9,000 stats, ~55 ms, on every backup).
 */
function newestPresentParent(entries: readonly CatalogEntry[], backups: BackupLayout, now: Date): CatalogEntry | undefined {
  let newestPresent: CatalogEntry | undefined;
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i];
    if (!fs.existsSync(backups.archiveFile(entry.profileId, entry.id))) continue;
    newestPresent ??= entry;
    if (Date.parse(entry.createdAt) <= now.getTime()) return entry;
  }
  return newestPresent;
}

/**
 * Full or incremental, and on which parent, from the catalog as it is now. Its own function so that the
 * catalog it reads (thousands of entries, tens of megabytes of objects) is not held while the backup runs.
 */
function planBackup(context: WorkspaceContext, backups: BackupLayout, profile: Profile, requested: RequestedKind, maxChain: number, now: Date): { choice: ReturnType<typeof chooseParent>; unreadableCatalog?: UnreadableCatalogError } {
  // A catalog that cannot be read does not stop the backup (an emergency one least of all): the data
  // is saved as a full backup, which needs no chain, and the catalog is left as it is for a rebuild.
  const { entries: catalog, unreadable: unreadableCatalog } = readCatalogOrProblem(backups, profile.id);
  // A chain is built on this workspace's own backups, not on another's in a shared folder (whose pages
  // would all differ, and whose prune is not this one's).
  const otherLiveWorkspace = sharingWorkspaceFinder(context.layout, backups);
  const own = catalog.filter((e) => !otherLiveWorkspace(e.origin));
  // Nor on the backups of an earlier profile that had this id (deleted, then the id reused).
  const earlier = backupsOfEarlierProfile(own, profile, now);
  const ofEarlierProfile = new Set(earlier);
  const choice = chooseParent(own.filter((e) => !ofEarlierProfile.has(e)), requested, maxChain, backups, now);
  if (unreadableCatalog) {
    choice.note = `${unreadableCatalog.message} So this backup is full (no chain can be trusted without the catalog) and is not listed in it; its archive is kept, and ${unreadableCatalog.listedBy}`;
  } else if (choice.kind === 'full' && requested !== 'full' && earlier.length > 0 && earlier.length === own.length) {
    choice.note = `the backups under ${profile.id} are of an earlier profile with this id (made before ${profile.createdAt}, when this one was created), so this one is full`;
  }
  return { choice, unreadableCatalog };
}

/**
 * The backup itself (the caller holds the lock): snapshot every database with the backup API into a
 * staging folder, then write the archive (databases or changed pages, page indexes, files, manifest),
 * then add it to the catalog. A journal lets the next command remove a half-written backup.
 */
export async function backUpProfile(context: WorkspaceContext, config: WorkspaceConfig, profile: Profile, requested: RequestedKind, reason: string, options: BackupOptions = {}): Promise<BackupResult> {
  const writing: string[] = [];
  try {
    try {
      return await writeBackup(context, config, profile, requested, reason, options, writing);
    } catch (error) {
      if (!(error instanceof UnreadableParentError)) throw error;
      const full = await writeBackup(context, config, profile, 'full', reason, options, writing);
      return { ...full, note: [error.note, full.note].filter((n) => n !== undefined).join('; ') };
    }
  } catch (error) {
    if (isFileTooLarge(error)) {
      // The archive, in the backups folder (writing[0]): snapshots go to /dev/shm or the temporary folder, or beside it.
      const folder = writing[0];
      throw new EnvProfilesError('IO_ERROR', `The backup of ${profile.id} stopped: ${fileTooLargeText(folder)}. Nothing was kept of it: the partial archive and the snapshots were removed, and the catalog is as it was.`, {
        file: folder,
        cause: error,
        hint: `Set backups.directory in ${context.layout.relative(context.layout.configFile)} to a folder on a disk formatted with exFAT, NTFS or ext4 (or format the stick as exFAT), then back up again. A full backup holds every database whole; an incremental one only the pages that changed.`,
      });
    }
    if (!isOutOfSpace(error)) throw error;
    // Here the partial archive and the snapshots are gone: the free space it names is what is left.
    throw outOfSpaceError(`The backup of ${profile.id}`, writing, error, 'Nothing was kept of it: the partial archive and the snapshots were removed, and the catalog is as it was.', `Free some space on that disk (pruning old backups, "envprofiles prune ${profile.id}", may be enough), or set backups.directory in ${context.layout.relative(context.layout.configFile)} to a folder on a larger disk, then back up again.`);
  }
}

/** backUpProfile's work; `writing` hears the folders it writes to (for the message if a disk fills up). */
async function writeBackup(context: WorkspaceContext, config: WorkspaceConfig, profile: Profile, requested: RequestedKind, reason: string, options: BackupOptions, writing: string[]): Promise<BackupResult> {
  const started = performance.now();
  const { layout } = context;
  const step = (name: string): void => context.onStep?.(name);
  const backups = new BackupLayout(layout, config);
  backups.requireRoot();
  createFolder(backups.profileDir(profile.id), `the backups of ${profile.id}`);
  const now = context.now();
  const { choice, unreadableCatalog } = planBackup(context, backups, profile, requested, config.backups.maxChain, now);
  const sourceBytes = databaseBytes(context, profile, true);
  const stagingDir = chooseStagingDir(backups, profile, sourceBytes);
  writing.push(backups.profileDir(profile.id), path.dirname(stagingDir));
  // The snapshots are at least as large as the database files (a page index adds 1/256): refuse now
  // rather than after copying most of them.
  requireFreeSpace(`Backing up ${profile.id}`, [{ folder: path.dirname(stagingDir), bytes: Math.ceil(databaseBytes(context, profile, false) * (1 + 1 / 256)), what: 'the snapshots of its databases' }]);
  const { backupId, writer } = await reserveBackupId(backups, profile.id, choice.kind, now, config.backups.compression, (message) => context.logger.warn(message));
  const finalPath = writer.finalPath;
  const journal: BackupJournal = { operation: 'backup', startedAt: now.toISOString(), profileId: profile.id, backupId, archiveTemp: writer.tempPath, archiveFinal: finalPath, stagingDir };
  const journalName = `backup-${profile.id}`;
  writeJournal(layout, journalName, journal);
  // The parent archive opens and the hashing worker boots while the first snapshot is taken.
  const parentOpening = choice.parent ? asParentRead(choice.parent.id, matchingParent(profile.id, choice.parent.id, choice.parent.chain, ArchiveReader.open(backups.archiveFile(profile.id, choice.parent.id)))) : Promise.resolve(undefined);
  parentOpening.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
  let parentArchive: ArchiveReader | undefined;
  const incremental = choice.kind === 'incremental';
  const hasher = incremental && usesHashingThread(sourceBytes) ? new SnapshotHasher() : undefined;
  let listed = false;
  // Whether the archive under its final name is ours: before, a file there is another backup's.
  let archived = false;
  // Snapshots are removed in the background (a 100 MB one takes ~17 ms) while the backup goes on.
  const removals: Promise<void>[] = [];
  let parentIndexesStaging: Promise<Map<string, ParentPages>> | undefined;
  try {
    step('journal-written');
    makeFolders(stagingDir, 0o700);
    const records: (DatabaseRecord | FileRecord)[] = [];
    const summary: BackupResult['databases'] = [];
    let databases = Object.entries(profile.databases).map(([logical, written]) => ({ logical, written, source: layout.resolve(written), snapshot: path.join(stagingDir, `${logical}.sqlite3`) }));
    /** Databases left out, and whether each one's files go into the archive as they are (`keptAsFound`, see keepDamaged). */
    const leftOut: { database: (typeof databases)[number]; error: EnvProfilesError; keptAsFound: boolean }[] = [];
    /** With saveWhatCan, a database's own problem leaves it out; so does one missing or damaged when told (leaveOutMissing, leaveOutDamaged, keepDamaged); anything else fails the backup. */
    const leaveOutOrThrow = (database: (typeof databases)[number], error: unknown): void => {
      if (!isEnvProfilesError(error)) throw error;
      const missing = error.code === 'DATABASE_MISSING';
      const damaged = error.code === 'DATABASE_INVALID';
      const keptAsFound = damaged && (options.saveWhatCan === true || options.keepDamaged === true) && pathKind(database.source) === 'file';
      if (!(options.saveWhatCan && isDatabaseProblem(error)) && !(options.leaveOutMissing && missing) && !(options.leaveOutDamaged && damaged) && !(options.keepDamaged && keptAsFound)) throw error;
      leftOut.push({ database, error, keptAsFound });
    };
    for (const database of databases) {
      const { logical, written, source } = database;
      const hint = `Fix the path in the profile, or restore it from an earlier backup ("envprofiles backups ${profile.id}").`;
      if (!fs.existsSync(source)) leaveOutOrThrow(database, new EnvProfilesError('DATABASE_MISSING', `${written} (database "${logical}" of ${profile.id}) does not exist, so it cannot be backed up.`, { file: written, hint: `${hint} To back up the rest: envprofiles backup ${profile.id} --skip-missing.` }));
      else {
        const problem = databaseFileProblem(source);
        if (problem) leaveOutOrThrow(database, new EnvProfilesError('DATABASE_INVALID', `${written} (database "${logical}" of ${profile.id}) ${problem}, so it cannot be backed up.`, { file: written, hint: `${hint} ${keepDamagedHint(profile.id)}`, nextStep: { action: 'backup-keeping-damaged', profileId: profile.id } }));
      }
    }
    databases = databases.filter((d) => !leftOut.some((l) => l.database === d));
    throwIfCancelled(context);
    context.progress?.(`Snapshotting ${databases.map((d) => `${d.logical} (${d.written})`).join(', ')}`);
    parentIndexesStaging = choice.parent ? asParentRead(choice.parent.id, stageParentIndexes(parentOpening, databases, stagingDir)) : undefined;
    parentIndexesStaging?.catch(() => {}); // awaited below, and in `finally` before the staging folder goes
    const snapshots = await takeSnapshots(context, profile.id, databases, step);
    for (const { index, error } of snapshots.failures) leaveOutOrThrow(databases[index], error);
    databases = databases.filter((d) => !leftOut.some((l) => l.database === d));
    // A backup of none of the profile's databases would be no backup of it, unless none of them exists
    // or the damaged ones are kept as found: then its files and those copies are all there is to save.
    const firstNotMissing = leftOut.find((l) => l.error.code !== 'DATABASE_MISSING' && !(options.leaveOutDamaged && l.error.code === 'DATABASE_INVALID') && !l.keptAsFound);
    if (databases.length === 0 && firstNotMissing) throw firstNotMissing.error;
    const leftOutDatabases: LeftOutDatabase[] = leftOut.map(({ database, error }) => ({ logicalName: database.logical, originalPath: database.written, reason: error.message.replace(/\.$/, ''), code: error.code }));
    parentArchive = await parentOpening;
    const parentIndexes = (await parentIndexesStaging) ?? new Map<string, ParentPages>();
    for (const { logical, written, source, snapshot } of databases) {
      const phase = performance.now();
      context.progress?.(`Archiving ${logical}`);
      throwIfCancelled(context);
      const indexFile = path.join(stagingDir, `${logical}.pagehash`);
      const record: DatabaseRecord = { ...(await archiveDatabase(context, writer, logical, written, snapshot, indexFile, parentIndexes.get(logical), hasher)), mode: permissionsOf(source) };
      records.push(record);
      summary.push({ name: logical, storage: record.storage, pagesStored: record.pagesStored, pageCount: record.sqlite.pageCount });
      context.logger.debug(`${logical}: archived (${record.storage}, ${record.pagesStored} pages) in ${(performance.now() - phase).toFixed(0)} ms`);
      removals.push(fs.promises.rm(snapshot, { force: true }), fs.promises.rm(indexFile, { force: true }));
      step(`archived:${logical}`);
    }
    parentArchive = await parentOpening;
    const files = await archiveFiles(context, config, profile, writer, parentArchive, options);
    records.push(...files.records);
    const leftOutRecords: LeftOutRecord[] = [];
    for (const [i, { logicalName, originalPath, reason }] of leftOutDatabases.entries()) {
      // Saving what it can (or told to keep damaged ones), a backup keeps a damaged database's files as they are (not one that is missing, or locked: that is no damage).
      const rawCopies = leftOut[i].keptAsFound ? await archiveRawCopies(context, writer, logicalName, leftOut[i].database.source) : [];
      leftOutRecords.push({ logicalName, originalPath, reason, ...(rawCopies.length > 0 ? { rawCopies } : {}) });
    }
    const anyRawCopy = leftOutRecords.some((l) => l.rawCopies);
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT,
      formatVersion: anyRawCopy ? MANIFEST_VERSION : MANIFEST_VERSION_WITHOUT_RAW_COPIES,
      backupId,
      profileId: profile.id,
      kind: choice.kind,
      parent: choice.parent?.id ?? null,
      chain: choice.parent ? [...choice.parent.chain, choice.parent.id] : [],
      createdAt: now.toISOString(),
      reason,
      toolVersion: TOOL_VERSION,
      consistency: CONSISTENCY_NOTE,
      origin: currentOrigin(layout),
      ...(profile.createdAt !== undefined ? { profileCreatedAt: profile.createdAt } : {}),
      files: records,
      ...(leftOutRecords.length > 0 ? { leftOut: leftOutRecords } : {}),
    };
    await writer.addBuffer(MANIFEST_ENTRY, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    const finishing = performance.now();
    // No one may read the archive who could not read every file in it.
    const permissions = records.reduce((most, r) => most & (r.mode ?? 0o666), 0o666);
    const archive = await writer.seal(permissions);
    // Files only their owner may read, in an archive that anyone who can read that disk can read: say so.
    const exposed = !archive.permissionsKept && (permissions & 0o044) === 0 ? [`the file system of the backups folder keeps no file permissions (FAT or exFAT, say), so this archive could not be made readable by its owner only, as the files in it are: the disk's mount options decide who can read it`] : [];
    context.logger.debug(`archive finished (central directory, fsync) in ${(performance.now() - finishing).toFixed(0)} ms`);
    step('archive-written');
    const entry: CatalogEntry = {
      id: backupId,
      profileId: profile.id,
      file: path.basename(finalPath),
      kind: choice.kind,
      parent: manifest.parent,
      chain: manifest.chain,
      createdAt: manifest.createdAt,
      reason,
      sizeBytes: archive.sizeBytes,
      sha256: archive.sha256,
      databases: databases.map((d) => d.logical),
      ...(leftOutDatabases.length > 0 ? { leftOut: leftOutDatabases.map((l) => l.logicalName) } : {}),
      ...keptAsFoundField(manifest),
      verified: null,
      origin: manifest.origin,
      ...(manifest.profileCreatedAt !== undefined ? { profileCreatedAt: manifest.profileCreatedAt } : {}),
    };
    // The catalog is the commit point: recovery keeps an archive the catalog lists, and removes one it does not.
    // (Not into a catalog that cannot be read: the backup is committed by its archive alone then, and a rebuild lists it.)
    // The archive goes into place under the catalog's lock, with its listing: a prune, rebuild or listing in a
    // workspace that shares the folder never sees it there unlisted (before, a prune then refused, saying the
    // catalog disagreed with the folder, and a rebuild listed it a second time).
    await withCatalogLock(backups, profile.id, `backup ${profile.id}`, () => {
      writer.publish();
      archived = true;
      if (unreadableCatalog) return;
      try {
        const next = [...readCatalog(backups, profile.id).filter((e) => e.id !== entry.id), entry];
        step('catalog-locked');
        writeCatalog(backups, profile.id, next);
      } catch (error) {
        // Not listed: not kept either, and gone before anyone else may look (the lock is still held).
        fs.rmSync(finalPath, { force: true });
        archived = false;
        throw error;
      }
    }, (message) => context.logger.warn(message));
    listed = true;
    try {
      markBackupsFolder(layout, backups, now);
    } catch (error) {
      // The backup is made; only the safeguard for a later unmounted disk is missing (tried again next time).
      context.logger.warn(`The backups folder ${backups.root} could not be marked: ${(error as Error).message}`);
    }
    step('catalog-updated');
    appendAudit(context, { event: 'backup', profile: profile.id, outcome: 'ok', detail: `${backupId} (${choice.kind}, ${reason})` });
    const leftOutNotes = leftOutRecords.map((l) => `${l.logicalName} was left out of this backup: ${leftOutReason(manifest, l.logicalName)}`);
    return {
      entry, archive: finalPath, databases: summary, durationMs: performance.now() - started,
      ...(unreadableCatalog ? { unlisted: unreadableCatalog.message, listedBy: unreadableCatalog.listedBy } : {}),
      note: [choice.note, ...snapshots.notes, ...leftOutNotes, ...files.notes, ...exposed].filter((n) => n !== undefined).join('; ') || undefined,
      // Each reason as the manifest gives it (with where a damaged database's raw copies are).
      ...(leftOutDatabases.length > 0 ? { leftOut: leftOutDatabases.map((l) => ({ ...l, reason: leftOutReason(manifest, l.logicalName) as string })) } : {}),
    };
  } catch (error) {
    if (listed) throw error;
    writer.abort();
    if (archived) fs.rmSync(finalPath, { force: true });
    // Not a failure of the backup: it is taken again, full.
    if (error instanceof UnreadableParentError) throw error;
    appendAudit(context, { event: 'backup', profile: profile.id, outcome: 'failed', detail: (error as Error).message });
    throw vanishedFolderError(`The backup of ${profile.id} could not be finished`, 'while the backup was being written. Nothing of this backup was kept or listed', [{ folder: backups.profileDir(profile.id), what: `the backups folder of ${profile.id}` }, { folder: stagingDir, what: 'the staging folder of its snapshots' }], error) ?? error;
  } finally {
    hasher?.close();
    await parentIndexesStaging?.catch(() => undefined);
    (await parentOpening.catch(() => undefined))?.close();
    await Promise.allSettled(removals);
    fs.rmSync(stagingDir, { recursive: true, force: true });
    // After a failure the catalog was not touched; after success the journal is only a leftover.
    removeJournal(layout, journalName);
  }
}

/** How to back up a profile whose database is damaged anyway (BackupOptions.keepDamaged). */
function keepDamagedHint(profileId: string): string {
  return `To back up the rest now and keep the damaged file as it is: envprofiles backup ${profileId} --keep-damaged.`;
}

/**
 * A snapshot's failure as the user can act on it: typed errors and a full disk stay as they are; what
 * SQLite or the system says otherwise is put in words that name the database (not "a bug").
 */
function snapshotError(profileId: string, { logical, written }: { logical: string; written: string }, error: unknown): unknown {
  if (error instanceof DatabaseLockedError) return lockedDatabaseError(`${written} (database "${logical}" of ${profileId})`, error.file, `the backup of ${profileId}`);
  if (isEnvProfilesError(error) || isOutOfSpace(error)) return error;
  const damage = damagedDatabaseDetail(error);
  if (damage) {
    return new EnvProfilesError('DATABASE_INVALID', `${written} (database "${logical}" of ${profileId}) is damaged (${damage}), so it cannot be backed up.`, {
      file: written,
      cause: error,
      hint: `Restore it from a backup ("envprofiles backups ${profileId}" lists them; "envprofiles restore <backup-id> --db ${logical}" restores only it): the restore keeps the damaged file beside it. "envprofiles validate ${profileId} --full" says what SQLite finds wrong. ${keepDamagedHint(profileId)}`,
      nextStep: { action: 'backup-keeping-damaged', profileId },
    });
  }
  const system = typedSystemError(error);
  if (system) return system;
  return new EnvProfilesError('IO_ERROR', `The snapshot of ${written} (database "${logical}") failed: ${(error as Error)?.message ?? String(error)}.`, {
    file: written,
    cause: error,
    hint: `Check that the file is a readable SQLite database on a working disk ("envprofiles validate ${profileId} --full"), then back up again.`,
    nextStep: { action: 'validate-full', profileId },
  });
}

/**
 * Snapshots every database of the profile together (SNAPSHOTS_AT_ONCE at a time), each with the backup
 * API in one step: the copies are then of (nearly) the same moment, which matters for databases that refer to one another (each is
 * one committed state; SQLite gives no atomicity across files), and several files are copied on both
 * cores. All snapshots end before their failures are returned (in the databases' order, for the
 * caller to throw or to leave those databases out), so that none still writes into the staging folder
 * when it is removed.
 */
async function takeSnapshots(context: WorkspaceContext, profileId: string, databases: { logical: string; written: string; source: string; snapshot: string }[], step: (name: string) => void): Promise<{ notes: string[]; failures: { index: number; error: unknown }[] }> {
  const started = performance.now();
  const notes: string[] = [];
  const outcomes = await settledInTurns(databases, SNAPSHOTS_AT_ONCE, async ({ logical, written, source, snapshot }) => {
    // An empty file is a database with no tables to SQLite, and is backed up as one; a database that was
    // emptied (a program truncated it) would otherwise look like any other backup.
    if (fs.statSync(source, { throwIfNoEntry: false })?.size === 0) notes.push(`${written} (${logical}) is empty (0 bytes): it was backed up as a database with no tables; if it held data, the earlier backups still do ("envprofiles backups ${profileId}")`);
    const { rolledBackJournal } = await context.engine.snapshot(source, snapshot);
    if (rolledBackJournal) {
      notes.push(`${written} had the journal of an unfinished transaction (a program stopped in the middle of writing); it was rolled back to the last committed state before the snapshot, as SQLite does on the next open`);
      context.logger.warn(`${logical}: ${written} had a hot journal; rolled back before the snapshot`);
    }
    context.logger.debug(`${logical}: snapshot in ${(performance.now() - started).toFixed(0)} ms`);
    step(`snapshot:${logical}`);
  });
  const failures = outcomes.flatMap((outcome, index) => (outcome.status === 'rejected' ? [{ index, error: snapshotError(profileId, databases[index], outcome.reason) }] : []));
  return { notes, failures };
}

/**
 * Snapshots in flight at once: Node copies on its thread pool, four threads, so more gain nothing, and each
 * holds its database open (a profile of 300 small databases opened all of them, 1,000 file descriptors,
 * and its backup peaked at 180 MB).
 */
const SNAPSHOTS_AT_ONCE = 4;

/** A failure that is one database's own (the backup can go on without it), not the disk's, the backups folder's, or a cancel. */
function isDatabaseProblem(error: unknown): error is EnvProfilesError {
  return isEnvProfilesError(error) && !isOutOfSpace(error) && !['DISK_FULL', 'CANCELLED', 'BACKUPS_FOLDER_MISSING'].includes(error.code);
}

/** A database's record in the parent backup, and its page index copied into the staging folder. */
interface ParentPages {
  record: DatabaseRecord;
  indexFile: string;
}

/**
 * Copies the parent backup's page index of each database into the staging folder, checked against
 * its SHA-256, while the snapshots are taken (this thread is idle then): the comparison after hashing
 * reads a local file instead of inflating the index out of the parent archive, ~15 ms at 100 MB.
 */
async function stageParentIndexes(parentOpening: Promise<ArchiveReader | undefined>, databases: { logical: string }[], stagingDir: string): Promise<Map<string, ParentPages>> {
  const staged = new Map<string, ParentPages>();
  const parent = await parentOpening;
  if (!parent) return staged;
  for (const { logical } of databases) {
    const record = databaseRecordOf(parent.manifest, logical);
    if (!record) continue;
    const file = path.join(stagingDir, `${logical}.parent.pagehash`);
    const fd = fs.openSync(file, 'wx');
    try {
      for await (const chunk of parent.verifiedChunks(record.pageIndexEntry, record.pageIndexSha256)) fs.writeSync(fd, chunk);
    } finally {
      fs.closeSync(fd);
    }
    staged.set(logical, { record, indexFile: file });
  }
  return staged;
}

/** The size of the profile's databases, with their -wal files (about what the snapshots take) or without. */
function databaseBytes(context: WorkspaceContext, profile: Profile, withWal: boolean): number {
  return Object.values(profile.databases).reduce((sum, written) => {
    const file = context.layout.resolve(written);
    return sum + (fs.existsSync(file) ? fs.statSync(file).size : 0) + (withWal ? walSize(file) : 0);
  }, 0);
}

/**
 * An incremental hashes its pages on this thread alone, and the changed pages are deflated on the
 * thread pool as they are found, unless the databases are large: there hashing is most of the work,
 * and a second hashing thread pays for its start (30–50 ms of CPU). Measured through the CLI: at 20 MB,
 * 181 ms alone against 193 ms with the thread (medians of 15); at 100 MB, hashing and storing the
 * changed pages took 190–215 ms alone against 157–181 ms with it.
 * ENVPROFILES_HASHING_THREAD_FROM_MB moves the bound (tests use it to take each way).
 */
function usesHashingThread(sourceBytes: number): boolean {
  const fromMb = Number(process.env.ENVPROFILES_HASHING_THREAD_FROM_MB ?? 64);
  return sourceBytes >= (Number.isFinite(fromMb) ? fromMb : 64) * 1048576;
}

/**
 * Snapshots are temporary and read right back: when the databases fit comfortably in RAM they go to
 * /dev/shm (tmpfs), which spares the disk a write of their whole size; otherwise beside the archives,
 * unless those are on a file system SQLite cannot count on (FUSE, network): then in the temporary folder.
 * ENVPROFILES_STAGING_DIR overrides the choice.
 */
function chooseStagingDir(backups: BackupLayout, profile: Profile, total: number): string {
  const inBackups = backups.stagingDir(profile.id, 'backup');
  const name = path.basename(inBackups);
  const override = process.env.ENVPROFILES_STAGING_DIR;
  if (override) return path.join(override, `${profile.id}${name}`);
  try {
    const shm = fs.statfsSync('/dev/shm');
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    const free = shm.bavail * shm.bsize;
    if (free > 2 * total + 64 * 1048576 && os.freemem() > 4 * total + 256 * 1048576) return path.join('/dev/shm', `${profile.id}${name}`);
  } catch {
    // No usable tmpfs here.
  }
  return diskStagingDir(backups, profile.id);
}

/** Where snapshots go when not in memory: beside the archives, unless that folder cannot take them (BackupLayout.scratchDir). */
export function diskStagingDir(backups: BackupLayout, profileId: string): string {
  return backups.scratchDir(profileId, 'backup');
}

/**
 * Reads a file in ZIP-writer-sized chunks into a small ring of reused buffers instead of a new buffer per
 * read: a gigabyte read then leaves no gigabyte of garbage, which keeps peak memory flat.
 */
function* pooledChunks(file: string, limit = Number.POSITIVE_INFINITY): Generator<Buffer> {
  const pool = Array.from({ length: RETAINED_CHUNKS + 1 }, () => Buffer.allocUnsafe(CHUNK_SIZE));
  const fd = fs.openSync(file, 'r');
  try {
    let position = 0;
    for (let i = 0; position < limit; i++) {
      const buffer = pool[i % pool.length];
      const read = fs.readSync(fd, buffer, 0, Math.min(CHUNK_SIZE, limit - position), position);
      if (read === 0) return;
      position += read;
      yield buffer.subarray(0, read);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** The manifest keeps an entry's deflate pieces (so restores inflate in parallel); a stored entry has none. */
function segmentsField(segments: DeflateSegment[]): { segments?: DeflateSegment[] } {
  return segments.length > 0 ? { segments } : {};
}

/**
 * Adds one database: the whole image (full, or no usable parent), or only the pages that changed. Its
 * page index is made in `indexFile` (in the staging folder, beside the snapshot), not in memory.
 */
async function archiveDatabase(context: WorkspaceContext, writer: ArchiveWriter, logical: string, written: string, snapshot: string, indexFile: string, parent: ParentPages | undefined, hasher: SnapshotHasher | undefined): Promise<DatabaseRecord> {
  const checkCancelled = (): void => throwIfCancelled(context);
  const header = readSqliteHeader(snapshot);
  if (!header) throw new EnvProfilesError('DATABASE_INVALID', `The snapshot of ${written} is not a SQLite database.`, { file: written, hint: `Run "envprofiles validate" on the profile.` });
  const size = fs.statSync(snapshot).size;
  const pageSize = header.pageSize;
  const pageCount = Math.ceil(size / pageSize);
  const sqlite = { pageSize, pageCount, userVersion: header.userVersion, journalMode: journalModeOf(header) };
  const indexEntry = `index/${logical}.pagehash`;
  const atomicity = 'this file is one committed state; not atomic with the other databases';

  if (!parent || parent.record.sqlite.pageSize !== pageSize) {
    const entryName = `db/${logical}.sqlite3`;
    const imageHasher = new PageHasher(pageSize, pageCount, indexFile);
    const meter = progressMeter(context, `Archiving ${logical}`, size);
    let done = 0;
    try {
      const segments = await writer.addStream(entryName, pooledChunks(snapshot), size, (chunk) => {
        checkCancelled();
        imageHasher.update(chunk);
        meter((done += chunk.length));
      });
      const { sha256, indexSha256 } = imageHasher.finish();
      await writer.addStream(indexEntry, pooledChunks(indexFile), pageCount * PAGE_HASH_BYTES, undefined, true);
      return { role: 'database', logicalName: logical, originalPath: written, storage: 'image', entry: entryName, entrySize: size, entrySha256: sha256, size, sha256, sqlite, pagesStored: pageCount, pageIndexEntry: indexEntry, pageIndexSha256: indexSha256, atomicity, ...segmentsField(segments) };
    } finally {
      imageHasher.close();
    }
  }

  // Incremental: hash every page of the snapshot, compare with the parent's index, store what differs.
  // No whole-file SHA-256: the page index authenticates the image (see DatabaseRecord).
  const meter = progressMeter(context, `Comparing the pages of ${logical}`, pageCount);
  const entryName = `db/${logical}.pages`;
  const recordSize = 4 + pageSize;
  const snapshotPages = { fd: fs.openSync(snapshot, 'r'), pageSize, pageCount };
  const opened: number[] = [snapshotPages.fd];
  try {
    let changed: ChangedPages;
    if (hasher) {
      // Large databases: both threads hash first, then the changed pages are read back and deflated.
      await hasher.hash(snapshot, indexFile, pageSize, pageCount, checkCancelled, meter);
      changed = collectListedPages(snapshotPages, await changedPagesAgainst(indexFile, pageCount, pooledChunks(parent.indexFile)));
    } else {
      const indexFd = fs.openSync(indexFile, 'wx');
      opened.push(indexFd);
      const parentIndexFd = fs.openSync(parent.indexFile, 'r');
      opened.push(parentIndexFd);
      changed = hashAndCollectChangedPages(snapshotPages, indexFd, parentIndexFd, parent.record.sqlite.pageCount, (done) => {
        checkCancelled();
        meter(done);
      });
    }
    const segments = await writer.addStream(entryName, changed.pieces, { atMost: pageCount * recordSize });
    const { pages: pagesStored, sha256: entrySha256 } = changed.result();
    const indexHash = createHash('sha256');
    await writer.addStream(indexEntry, pooledChunks(indexFile), pageCount * PAGE_HASH_BYTES, (chunk) => indexHash.update(chunk), true);
    return {
      role: 'database', logicalName: logical, originalPath: written, storage: 'pages', entry: entryName, entrySize: pagesStored * recordSize,
      entrySha256, size, sqlite, pagesStored, pageIndexEntry: indexEntry, pageIndexSha256: indexHash.digest('hex'), atomicity, ...segmentsField(segments),
    };
  } finally {
    for (const fd of opened) fs.closeSync(fd);
  }
}

/** The profile YAML, its `files:`, and the env file when it was generated for this profile. Unchanged files are referenced, not stored. */
async function archiveFiles(context: WorkspaceContext, config: WorkspaceConfig, profile: Profile, writer: ArchiveWriter, parent: ArchiveReader | undefined, options: BackupOptions): Promise<{ records: FileRecord[]; notes: string[] }> {
  const { layout } = context;
  const candidates: { role: FileRecord['role']; written: string }[] = [{ role: 'profile', written: layout.relative(layout.profileFile(profile.id)) }];
  for (const file of profile.files) candidates.push({ role: 'file', written: file });
  const envText = config.envFile ? readGeneratedEnvFile(layout.resolve(config.envFile)) : undefined;
  if (config.envFile && envText?.includes(`ENVPROFILE_ID='${profile.id}'`)) candidates.push({ role: 'env-file', written: config.envFile });
  const records: FileRecord[] = [];
  const notes: string[] = [];
  // Validation refuses a file listed twice, but a profile that does not validate is still backed up
  // (backup --all): each file goes in once, so the archive never holds an entry name twice.
  const seen = new Set<string>();
  for (const { role, written } of candidates) {
    const absolute = layout.resolve(written);
    const real = realLocation(absolute);
    if (seen.has(real)) continue;
    seen.add(real);
    const state = pathKind(absolute);
    if (state === 'missing' && role === 'profile' && options.profileFileContent) {
      records.push(await archiveFileContent(writer, parent, role, written, options.profileFileContent, 0o644));
      continue;
    }
    if (state === 'missing') {
      notes.push(`${written}${role === 'file' ? ' (in files:)' : ''} ${missingFileReason(written)}, so it is not in this backup`);
      continue;
    }
    if (state !== 'file') {
      const { message, hint } = notAFileProblem(written, state);
      // In an emergency the rest is saved; otherwise the profile is fixed first.
      if (options.saveWhatCan) {
        notes.push(`${message}, so it was left out of this backup`);
        continue;
      }
      throw new EnvProfilesError('PROFILE_INVALID', `${message}, so ${profile.id} cannot be backed up; nothing was written.`, { file: layout.relative(layout.profileFile(profile.id)), hint: `${hint} Then back up again.` });
    }
    records.push(await archiveFileFromDisk(writer, parent, role, written, absolute));
  }
  return { records, notes };
}

/** One file of the environment into the archive, or (unchanged since the parent) a reference to where it is. */
async function archiveFileContent(writer: ArchiveWriter, parent: ArchiveReader | undefined, role: FileRecord['role'], written: string, content: Buffer, mode: number): Promise<FileRecord> {
  const sha256 = createHash('sha256').update(content).digest('hex');
  const previous = parentRecordOf(parent, written);
  if (previous && previous.sha256 === sha256) return referenceTo(parent, previous, { role, originalPath: written, size: content.length, sha256, mode });
  const entry = writer.freeName(fileEntryName(role, written));
  await writer.addBuffer(entry, content);
  return { role, originalPath: written, size: content.length, sha256, mode, entry };
}

/**
 * archiveFileContent for a file on disk, streamed: a `files:` entry may be large (a data file, a log),
 * and memory stays flat however large (before, it was read whole: a 300 MB file took 437 MB). It is
 * read once to compare with the parent's when their sizes agree, then once into the archive, hashing
 * what is archived; a file that grows meanwhile is archived up to the size it had when this began.
 */
async function archiveFileFromDisk(writer: ArchiveWriter, parent: ArchiveReader | undefined, role: FileRecord['role'], written: string, absolute: string): Promise<FileRecord> {
  const mode = permissionsOf(absolute);
  const size = fs.statSync(absolute).size;
  const previous = parentRecordOf(parent, written);
  if (previous && previous.size === size) {
    const sha256 = await fileSha256(absolute);
    if (previous.sha256 === sha256) return referenceTo(parent, previous, { role, originalPath: written, size, sha256, mode });
  }
  const entry = writer.freeName(fileEntryName(role, written));
  return { role, originalPath: written, ...(await streamIntoArchive(writer, entry, absolute, size)), mode, entry };
}

/** `file`'s first `size` bytes into the entry `entry`, streamed and hashed: what was archived (fewer bytes if it shrank meanwhile). */
async function streamIntoArchive(writer: ArchiveWriter, entry: string, file: string, size: number): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let archived = 0;
  await writer.addStream(entry, pooledChunks(file, size), { atMost: size }, (chunk) => {
    hash.update(chunk);
    archived += chunk.length;
  });
  return { size: archived, sha256: hash.digest('hex') };
}

/**
 * A damaged database cannot be backed up as a database, but a backup that saves what it can (the
 * emergency one) keeps its files as they are: the file, and its -wal or -journal, which hold part of its
 * data. It may be all that is left of them, and a tool that mends databases can start from it.
 */
async function archiveRawCopies(context: WorkspaceContext, writer: ArchiveWriter, logical: string, source: string): Promise<RawCopy[]> {
  const copies: RawCopy[] = [];
  for (const suffix of ['', '-wal', '-journal'] as const) {
    const file = `${source}${suffix}`;
    if (pathKind(file) !== 'file') continue;
    const size = fs.statSync(file).size;
    if (suffix !== '' && size === 0) continue;
    context.progress?.(`Keeping ${path.basename(file)} as it is (damaged)`);
    const entry = writer.freeName(`${RAW_COPY_FOLDER}/${logical}/${path.basename(source)}${suffix}`);
    copies.push({ suffix, entry, ...(await streamIntoArchive(writer, entry, file, size)) });
  }
  return copies;
}

function parentRecordOf(parent: ArchiveReader | undefined, written: string): FileRecord | undefined {
  return parent?.manifest.files.find((f): f is FileRecord => f.role !== 'database' && f.originalPath === written);
}

/** A record that holds no copy: the file is the one the parent holds (or refers to in turn). */
function referenceTo(parent: ArchiveReader | undefined, previous: FileRecord, record: Omit<FileRecord, 'entry' | 'sameAs'>): FileRecord {
  return { ...record, entry: null, sameAs: previous.entry ? parent?.manifest.backupId : previous.sameAs };
}

/**
 * The archive entry of a file: its path as written, made a plain relative name (the manifest keeps the
 * path itself). A path outside the workspace (`/srv/app/app.ini`, `C:\\app.ini`, in an allowed
 * directory) goes under `_root_/`; `..` becomes `__`. Before, an absolute path gave "files//srv/…",
 * which the reader refuses, so every such backup failed its verify and restore, and so did the
 * incrementals after it.
 */
export function fileEntryName(role: FileRecord['role'], written: string): string {
  const slashed = written.replace(/\\/g, '/');
  const absolute = slashed.startsWith('/') || /^[A-Za-z]:\//.test(slashed);
  const parts = slashed.replace(/^([A-Za-z]):\//, '$1_/').split('/').filter((part) => part !== '' && part !== '.').map((part) => (part === '..' ? '__' : part));
  return [role === 'profile' ? 'profile' : 'files', ...(absolute ? ['_root_'] : []), ...parts].join('/');
}
