import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendAudit, auditingUnfinished } from '../auditLog';
import { isOutOfSpace, outOfSpaceError, requireFreeSpace } from '../diskSpace';
import { createFolder } from '../folderAccess';
import { EnvProfilesError, isEnvProfilesError } from '../errors';
import { fileTooLargeText, isFileTooLarge } from '../systemErrors';
import { permissionsOf } from '../filePermissions';
import { pathKind } from '../pathKind';
import { removeJournal, writeJournal, type BackupJournal } from '../operationJournal';
import type { Profile } from '../profileModel';
import { loadProfile } from '../profileStore';
import { databaseFileProblem } from '../sqlite/sqliteHeader';
import { workspaceConfigFor, type WorkspaceConfig } from '../workspaceConfig';
import { throwIfCancelled, type WorkspaceContext } from '../workspaceContext';
import { requireInitialised } from '../workspaceInit';
import { withWorkspaceLock } from '../workspaceSession';
import { TOOL_VERSION } from '../toolVersion';
import { databaseAtOutputLinkError } from '../outputCollisions';
import { ArchiveReader } from './archiveReader';
import { checkedBackupReason } from './backupReason';
import { readCatalog, writeCatalog, type CatalogEntry } from './backupCatalog';
import { BackupLayout } from './backupLayout';
import { withCatalogLock } from './catalogLock';
import { currentOrigin } from './backupOrigin';
import { CONSISTENCY_NOTE, MANIFEST_ENTRY, MANIFEST_FORMAT, MANIFEST_VERSION, MANIFEST_VERSION_WITHOUT_RAW_COPIES, keptAsFoundField, leftOutReason, type BackupManifest, type DatabaseRecord, type FileRecord, type LeftOutRecord } from './backupManifest';
import { SnapshotHasher } from './snapshotHasher';
import { markBackupsFolder } from './backupsFolderMark';
import { vanishedFolderError } from './vanishedFolder';
import { reserveBackupId } from './backupIdReservation';
import { asParentRead, matchingParent, UnreadableParentError } from './unreadableParent';
import { makeFolders } from '../makeFolders';
import { planBackup } from './backupParentChoice';
import type { BackupOptions, BackupRequest, BackupResult, LeftOutDatabase, RequestedKind } from './backupRequest';
import { type ParentPages, archiveDatabase, stageParentIndexes } from './databaseArchiving';
import { isDatabaseProblem, keepDamagedHint, takeSnapshots } from './databaseSnapshots';
import { archiveFiles, archiveRawCopies, sightEnvironmentFiles } from './fileArchiving';
import { chooseStagingDir, databaseBytes, usesHashingThread } from './snapshotStaging';

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

/**
 * The backup itself (the caller holds the lock): snapshot every database with the backup API into a
 * staging folder, then write the archive (databases or changed pages, page indexes, files, manifest),
 * then add it to the catalog. A journal lets the next command remove a half-written backup.
 */
export async function backUpProfile(context: WorkspaceContext, config: WorkspaceConfig, profile: Profile, requested: RequestedKind, reason: string, options: BackupOptions = {}): Promise<BackupResult> {
  // Refused (a database in use, a folder missing) or failed, at any step, it leaves its line.
  return auditingUnfinished(context, 'backup', () => ({ profile: profile.id }), () => backUpOrSayWhy(context, config, profile, requested, reason, options));
}

/** backUpProfile's work: one backup (taken again full when its parent cannot be read), its disk errors in words. */
async function backUpOrSayWhy(context: WorkspaceContext, config: WorkspaceConfig, profile: Profile, requested: RequestedKind, reason: string, options: BackupOptions): Promise<BackupResult> {
  const writing: string[] = [];
  try {
    try {
      return await writeBackup(context, config, profile, requested, reason, options, writing);
    } catch (error) {
      if (!(error instanceof UnreadableParentError)) throw error;
      const full = await writeBackup(context, config, profile, 'full', reason, options, writing);
      return { ...full, notes: [error.note, ...full.notes] };
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
    // Files of the environment that agree with this when they are read, after the databases, were not being saved then.
    const environmentFiles = sightEnvironmentFiles(context, config, profile);
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
      // Through the link a switch wrote at its path, it is the active profile's database, not this one's.
      const atOutput = databaseAtOutputLinkError(layout, config, profile.id, logical, written, 'backed up', `back up ${profile.id} again`);
      if (atOutput) leaveOutOrThrow(database, atOutput);
      else if (!fs.existsSync(source)) leaveOutOrThrow(database, new EnvProfilesError('DATABASE_MISSING', `${written} (database "${logical}" of ${profile.id}) does not exist, so it cannot be backed up.`, { file: written, hint: `${hint} To back up the rest: envprofiles backup ${profile.id} --skip-missing.` }));
      else {
        const problem = databaseFileProblem(source);
        const kind = pathKind(source);
        // --keep-damaged keeps a file as found; a folder or a pipe there is no file to keep (before, the hint offered it, and it failed the same way).
        const keeping = kind === 'file'
          ? { hint: `${hint} ${keepDamagedHint(profile.id)}`, nextStep: { action: 'backup-keeping-damaged', profileId: profile.id } as const }
          : { hint: `${hint} Or move that ${kind === 'folder' ? 'folder' : 'pipe, socket or device'} out of the way: then "envprofiles backup ${profile.id} --skip-missing" backs up the rest.` };
        if (problem) leaveOutOrThrow(database, new EnvProfilesError('DATABASE_INVALID', `${written} (database "${logical}" of ${profile.id}) ${problem}, so it cannot be backed up.`, { file: written, ...keeping }));
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
    const leftOutDatabases: LeftOutDatabase[] = leftOut.map(({ database, error }) => ({ logicalName: database.logical, originalPath: database.written, reason: leftOutInWords(error.message), code: error.code }));
    parentArchive = await parentOpening;
    const parentIndexes = (await parentIndexesStaging) ?? new Map<string, ParentPages>();
    for (const { logical, written, source, snapshot } of databases) {
      const phase = performance.now();
      context.progress?.(`Archiving ${logical}`);
      throwIfCancelled(context);
      const indexFile = path.join(stagingDir, `${logical}.pagehash`);
      const inParent = parentIndexes.get(logical);
      const record: DatabaseRecord = { ...(await archiveDatabase(context, writer, logical, written, snapshot, indexFile, inParent, hasher)), mode: permissionsOf(source) };
      records.push(record);
      const wholeBecause = choice.parent && record.storage === 'image' ? wholeImageReason(choice.parent.id, inParent?.record, record) : undefined;
      summary.push({ name: logical, storage: record.storage, pagesStored: record.pagesStored, pageCount: record.sqlite.pageCount, ...(wholeBecause ? { wholeBecause } : {}) });
      context.logger.debug(`${logical}: archived (${record.storage}, ${record.pagesStored} pages) in ${(performance.now() - phase).toFixed(0)} ms`);
      removals.push(fs.promises.rm(snapshot, { force: true }), fs.promises.rm(indexFile, { force: true }));
      step(`archived:${logical}`);
    }
    parentArchive = await parentOpening;
    const files = await archiveFiles(context, profile, writer, parentArchive, options, environmentFiles);
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
      files: files.records.map((r) => ({ path: r.originalPath, role: r.role, stored: r.entry !== null })),
      ...(unreadableCatalog ? { unlisted: unreadableCatalog.message, listedBy: unreadableCatalog.listedBy } : {}),
      notes: [choice.note, ...snapshots.notes, ...leftOutNotes, ...files.notes, ...exposed].filter((n) => n !== undefined),
      // Each reason as the manifest gives it (with where a damaged database's raw copies are).
      ...(leftOutDatabases.length > 0 ? { leftOut: leftOutDatabases.map((l) => ({ ...l, reason: leftOutReason(manifest, l.logicalName) as string })) } : {}),
    };
  } catch (error) {
    if (listed) throw error;
    writer.abort();
    if (archived) fs.rmSync(finalPath, { force: true });
    // Not a failure of the backup: it is taken again, full.
    if (error instanceof UnreadableParentError) throw error;
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

/**
 * The error that left a database out, as one clause of the backup's note: its own "Nothing was
 * changed" (said when that error stops a command) would read as if the backup changed nothing.
 */
function leftOutInWords(message: string): string {
  return message.replace(/[;.]?\s*nothing was changed\.?$/i, '').replace(/\.$/, '');
}

/**
 * Why an incremental stored a database whole: its parent holds no database under that name (new to the
 * profile, or renamed: page indexes go by name), or one with another page size (VACUUM after
 * `PRAGMA page_size`). Said so that a large incremental is not a surprise.
 */
function wholeImageReason(parentId: string, inParent: DatabaseRecord | undefined, record: DatabaseRecord): string {
  if (!inParent) return `not in the parent backup ${parentId} under this name (new to the profile, or renamed)`;
  return `its page size changed since the parent backup ${parentId} (${inParent.sqlite.pageSize} → ${record.sqlite.pageSize} bytes)`;
}
