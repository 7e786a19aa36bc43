import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isOutOfSpace, outOfSpaceError } from '../diskSpace';
import { typedSystemError } from '../systemErrors';
import { appendAudit } from '../auditLog';
import { EnvProfilesError, isEnvProfilesError } from '../errors';
import { workspaceConfigFor } from '../workspaceConfig';
import { throwIfCancelled, type WorkspaceContext } from '../workspaceContext';
import { withWorkspaceLock } from '../workspaceSession';
import { ArchiveReader, notABackupHint, NotAnArchiveError } from './archiveReader';
import { OUTSIDE_DATA_CLAUSE, updateCatalog, type CatalogEntry, type VerificationRecord } from './backupCatalog';
import { closeChain, locateBackup, MissingParentError, openParentsOf } from './backupChain';
import { vanishedFolderError, type OwnFolder } from './vanishedFolder';
import { BackupLayout } from './backupLayout';
import { databaseRecordsOf, leftOutReason, NewerFormatError, rawCopiesOf, type FileRecord } from './backupManifest';
import type { DeflateSegment } from './zipWriter';
import { rebuildDatabase } from './databaseReconstruction';
import { checkUnchangedFiles } from './backedUpFiles';
import { foreignKeySampleText, integrityText, type IntegrityReport } from '../sqlite/databaseIntegrity';
import { watchStep } from '../progressMeter';
import { fileSha256 } from '../fileDigest';
import { archiveAgainstCatalog } from './verifiedArchives';
import { writeRefusal } from '../folderProbe';
import { temporaryFolderName } from '../atomicFile';
import { stagingFolderIn } from '../stagingFolder';
import { makeFolders } from '../makeFolders';
import { counted } from '../counted';

export interface VerificationResult {
  backupId: string;
  /** The profile the backup is of (unknown only when the archive could not be read at all). */
  profileId?: string;
  archive: string;
  ok: boolean;
  problems: string[];
  /**
   * Databases that rebuild to exactly what was backed up (the catalog vouches for the archive) but fail
   * integrity_check or foreign_key_check: they were already so in the profile when the backup was taken.
   */
  damagedWhenBackedUp: string[];
  /** Databases of the profile this backup does not hold (a backup that saved what it could left them out), and why; absent when none. */
  leftOut?: { name: string; reason: string }[];
  /** No problem but those of `damagedWhenBackedUp`: the archive itself is sound. */
  archiveSound: boolean;
  databases: { name: string; sha256: string; integrity: string; foreignKeyViolations: number }[];
  /** The profile's other files the backup holds (its YAML, its files:, the env file), as backed up; each checked against its SHA-256 where it is stored. */
  files: { path: string; role: FileRecord['role']; sha256: string }[];
  bytesChecked: number;
  durationMs: number;
  /** The given file is a ZIP archive without a manifest (another program's, or a backup that lost it): what to give instead. */
  notABackup?: string;
  /** The backup of the chain whose archive is missing (nothing could be rebuilt without it). */
  missingParent?: string;
  /**
   * Whether the result was written into the catalog: only for the archive the catalog lists (not for a
   * copy of it elsewhere, or an archive of another workspace), and not while a parent's archive is missing.
   */
  recorded: boolean;
  /**
   * Every problem is an archive (its own, or one it builds on) changed since it was written, though every
   * entry still matches its SHA-256 and every database rebuilt and checked out: the data checked out,
   * but the disk changed the file.
   */
  changedOutsideData?: true;
  /** Backups this one builds on whose archives changed on the disk since they were written: recorded as FAILED too. */
  alsoFailed?: string[];
  /** Why a sound or failed result of a backup was not recorded (a copy, an unreadable catalog, a read-only backups folder), as a sentence. */
  notRecorded?: string;
  /** The archive is in a profile's backups folder whose catalog cannot be read: why nothing was recorded, and what to do. */
  unreadableCatalog?: { message: string; hint?: string };
}

/** Streams every entry of one archive (but those in `alreadyChecked`) and checks it against the manifest's SHA-256. */
async function checkEntries(archive: ArchiveReader, alreadyChecked: Set<string>): Promise<{ problems: string[]; bytes: number }> {
  const problems: string[] = [];
  let bytes = 0;
  const checks: [string, string, DeflateSegment[] | undefined][] = [
    ...archive.manifest.files.flatMap((record): [string, string, DeflateSegment[] | undefined][] =>
      record.role === 'database' ? [[record.entry, record.entrySha256, record.segments], [record.pageIndexEntry, record.pageIndexSha256, undefined]] : record.entry ? [[record.entry, record.sha256, undefined]] : []),
    ...rawCopiesOf(archive.manifest).map((copy): [string, string, undefined] => [copy.entry, copy.sha256, undefined]),
  ];
  for (const [entry, expected, segments] of checks) {
    if (alreadyChecked.has(`${archive.file}\n${entry}`)) continue;
    try {
      const hash = createHash('sha256');
      for await (const chunk of await archive.content(entry, segments)) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
      if (hash.digest('hex') !== expected) problems.push(`${archive.file}: entry "${entry}" does not match its SHA-256 in the manifest`);
    } catch (error) {
      problems.push(isEnvProfilesError(error) ? error.message : `${archive.file}: entry "${entry}" cannot be read: ${(error as Error).message}`);
    }
  }
  return { problems, bytes };
}

/**
 * Verifies a backup: every entry of it and of its chain streams and matches its SHA-256; every
 * database is rebuilt into a temporary file, matches the whole-file SHA-256 (or, an incremental, its
 * page index), and passes
 * integrity_check and foreign_key_check. The result is recorded in the catalog.
 */
export async function verifyBackup(context: WorkspaceContext, reference: string, cwd = process.cwd()): Promise<VerificationResult> {
  return withWorkspaceLock(context, `verify ${reference}`, () => verifyUnlocked(context, reference, cwd));
}

/** Verification for callers that already hold the workspace lock. */
export async function verifyUnlocked(context: WorkspaceContext, reference: string, cwd = process.cwd()): Promise<VerificationResult> {
  const started = performance.now();
  context.onStep?.('verify-started');
  const config = workspaceConfigFor(context);
  const backups = new BackupLayout(context.layout, config);
  const located = locateBackup(backups, reference, cwd);
  const problems: string[] = [];
  const databases: VerificationResult['databases'] = [];
  let files: VerificationResult['files'] = [];
  const damagedWhenBackedUp: string[] = [];
  let dataProblems = 0;
  let leftOut: VerificationResult['leftOut'];
  // The archive is the one the catalog recorded when it was written (false without a catalog entry).
  let vouchedFor = false;
  let bytesChecked = 0;
  let backupId = located.catalogEntry?.id ?? path.basename(located.archive, '.zip');
  let profileId = located.catalogEntry?.profileId;
  let chain: ArchiveReader[] = [];
  let notABackup: string | undefined;
  let missingParent: string | undefined;
  const changedParentIds: string[] = [];
  // The problems that say an archive is no longer the file written (and nothing of its entries).
  const archiveChanged: string[] = [];
  const sayArchiveChanged = (problem: string): void => {
    archiveChanged.push(problem);
    problems.push(problem);
  };
  // The databases are rebuilt beside the archive (its disk has room for backups), unless that folder
  // cannot be written (an archive on a read-only disk, which failed to verify at all) or is on a file
  // system SQLite cannot count on (FUSE, network: see stagingFolder): then in the system's temporary folder.
  const { folder: staging, inPreferred: besideArchive } = stagingFolderIn(path.dirname(located.archive), temporaryFolderName('verify'));
  const ownFolders: OwnFolder[] = [{ folder: path.dirname(located.archive), what: 'the folder of the archive' }, { folder: staging, what: besideArchive ? 'the staging folder beside the archive' : 'the staging folder in the temporary folder' }];
  try {
    // The last archive first, so that a broken chain is still reported under the backup's own id.
    const last = await ArchiveReader.open(located.archive);
    const { manifest } = last;
    files = manifest.files.flatMap((r) => (r.role === 'database' ? [] : [{ path: r.originalPath, role: r.role, sha256: r.sha256 }]));
    if (manifest.leftOut?.length) leftOut = manifest.leftOut.map((l) => ({ name: l.logicalName, reason: leftOutReason(manifest, l.logicalName) as string }));
    chain = [last];
    backupId = last.manifest.backupId;
    profileId = last.manifest.profileId;
    chain = await openParentsOf(last, backups);
    if (located.catalogEntry) {
      const actual = await fileSha256(located.archive);
      if (actual !== located.catalogEntry.sha256) sayArchiveChanged(`${located.archive}: ${ARCHIVE_CHANGED}`);
      // Its manifest then says what the databases were: the whole file's SHA-256, or for an incremental
      // the page index, which covers every page whichever archive of the chain holds it.
      else vouchedFor = true;
    }
    // A file unchanged since an earlier backup must be there, as the manifest says (a restore reads it there).
    try {
      checkUnchangedFiles(chain);
    } catch (error) {
      if (!isEnvProfilesError(error)) throw error;
      problems.push(error.message);
    }
    // The databases first: rebuilding streams their entries and checks each SHA-256, so the pass over
    // every entry afterwards skips those (each entry is read once).
    const alreadyChecked = new Set<string>();
    makeFolders(staging, 0o700);
    for (const record of databaseRecordsOf(last.manifest)) {
      throwIfCancelled(context);
      const target = path.join(staging, `${record.logicalName}.sqlite3`);
      // integrity_check runs on its own thread while this one reads the rebuilt file back to check it.
      let checking: Promise<IntegrityReport> | undefined;
      const whenWritten = (): void => {
        checking = context.engine.checkIntegrity(target, { readOnly: false });
        checking.catch(() => {}); // awaited below, or (after a failed rebuild) before the file goes
      };
      try {
        const rebuilt = await rebuildDatabase(chain, record.logicalName, target, staging, { wholeSha256: true, durable: false, pageIndex: true, watch: watchStep(context, `Rebuilding ${record.logicalName}`), whenWritten });
        for (const checked of rebuilt.entriesChecked) {
          alreadyChecked.add(`${checked.archive}\n${checked.entry}`);
          bytesChecked += checked.bytes;
        }
        context.progress?.(`Checking ${record.logicalName} (integrity_check, foreign_key_check)`);
        const report = await (checking ?? context.engine.checkIntegrity(target, { readOnly: false }));
        const integrity = integrityText(report);
        const { foreignKeyViolations } = report;
        // The rebuilt file matched every SHA-256: it is the database as it was backed up. With an
        // archive the catalog vouches for, a failed check then tells of the profile's database, not the archive.
        const asBackedUp = vouchedFor ? `rebuilds to exactly what was backed up, so ${record.originalPath} was already like this when the backup was taken (the archive is intact), but` : 'rebuilds, but';
        const found = [
          ...(integrity !== 'ok' ? [`${located.archive}: database "${record.logicalName}" ${asBackedUp} integrity_check says: ${integrity}`] : []),
          ...(foreignKeyViolations > 0 ? [`${located.archive}: database "${record.logicalName}" ${asBackedUp} it has ${counted(foreignKeyViolations, 'foreign key violation')}: ${foreignKeySampleText(report)}`] : []),
        ];
        problems.push(...found);
        if (vouchedFor && found.length > 0) {
          damagedWhenBackedUp.push(record.logicalName);
          dataProblems += found.length;
        }
        databases.push({ name: record.logicalName, sha256: rebuilt.sha256 as string, integrity, foreignKeyViolations });
      } catch (error) {
        // A cancelled verify says nothing about the backup, and neither does a full disk or a refused
        // permission (the machine failed, not the backup): nothing is recorded.
        if (isEnvProfilesError(error) && (error.code === 'CANCELLED' || error.code === 'DISK_FULL')) throw error;
        if (isOutOfSpace(error)) throw outOfSpaceError(`Verifying ${backupId}`, [staging], error, 'Nothing was recorded about the backup.');
        const environment = typedSystemError(error) ?? vanishedFolderError(`Verifying ${backupId} could not be finished`, 'while it ran. Nothing was recorded about the backup', ownFolders, error, target);
        if (environment) throw environment;
        problems.push(isEnvProfilesError(error) ? error.message : `${located.archive}: database "${record.logicalName}" cannot be rebuilt: ${(error as Error).message}`);
        // The entry it names has its problem said: the pass over every entry does not say it twice.
        if (isEnvProfilesError(error) && error.file && error.field) alreadyChecked.add(`${error.file}\n${error.field}`);
      } finally {
        // The checking thread must be done with the file before it is removed (Windows refuses otherwise).
        await checking?.catch(() => undefined);
      }
      fs.rmSync(target, { force: true });
    }
    for (const archive of chain) {
      throwIfCancelled(context);
      context.progress?.(`Checking every entry of ${path.basename(archive.file)} (SHA-256)`);
      const result = await checkEntries(archive, alreadyChecked);
      problems.push(...result.problems.filter((p) => !problems.includes(p)));
      bytesChecked += result.bytes;
    }
  } catch (error) {
    if (!isEnvProfilesError(error) || (error.code !== 'VERIFY_FAILED' && error.code !== 'ARCHIVE_INVALID' && error.code !== 'ARCHIVE_HOSTILE')) throw error;
    // Not verified, rather than failed: recorded as failed, a sound backup would be pruned first and built on never.
    if (error instanceof NewerFormatError) throw error;
    // A file given by its path that is no backup (a catalogued one that lost its manifest is a damaged backup).
    const given = error.file === located.archive && !located.catalogEntry ? notABackupHint(error) : undefined;
    // No archive at all (a folder, an empty or non-ZIP file): that is said as a restore says it, not as a failed verification.
    if (given && error instanceof NotAnArchiveError) throw error;
    notABackup = given;
    if (error instanceof MissingParentError) missingParent = error.parentId;
    problems.push(error.message);
  } finally {
    closeChain(chain);
    fs.rmSync(staging, { recursive: true, force: true });
  }
  // The catalog vouches for each archive it builds on as well: one changed since it was written fails its
  // own verification, so it fails this one too (else this one would pass while the list marks its chain FAILED).
  if (located.catalogEntry && !missingParent) {
    for (const [id, file] of await changedParents(backups, located.catalogEntry, located.catalogEntries ?? [])) {
      changedParentIds.push(id);
      // Damage found in it already names it.
      if (!problems.some((p) => p.startsWith(`${file}: `))) sayArchiveChanged(`${file}: ${ARCHIVE_CHANGED} (${backupId} builds on it)`);
    }
  }
  // Archives that changed though every entry still matches (no other problem): only bytes outside the data did.
  const onlyOutsideData = archiveChanged.length > 0 && problems.length === archiveChanged.length;
  if (onlyOutsideData) problems[problems.length - 1] += OUTSIDE_DATA_CLAUSE;
  const ok = problems.length === 0;
  // Every problem, if any, is of the data as it was backed up: the archive holds that data exactly.
  const archiveSound = problems.length === dataProblems;
  // A parent whose archive is missing says nothing of this archive (as its own archive gone says
  // nothing of the backup): nothing is recorded, and the list says "chain broken" while it is missing.
  const listed = profileId !== undefined && located.catalogEntry !== undefined && !missingParent;
  // Backups on a read-only disk (a mounted backup medium) are verified all the same; only the record is left out.
  const unwritable = listed && profileId ? writeRefusal(backups.profileDir(profileId)) : undefined;
  const recorded = listed && !unwritable;
  const alsoFailed: string[] = [];
  if (recorded && profileId) {
    const at = context.now().toISOString();
    const record: VerificationRecord = { at, ok, detail: ok ? `${counted(databases.length, 'database')} rebuilt and checked` : problems[0], archiveSound, ...(onlyOutsideData ? { changedOutsideData: true as const } : {}) };
    if (ok) record.databaseSha256 = Object.fromEntries(databases.map((d) => [d.name, d.sha256]));
    // A failure may lie in an archive the backup builds on, damaged on the disk since it was written:
    // that backup has failed too (its own verification would say so first), and is recorded so, or
    // the list would go on saying "ok" for it.
    const parentRecord = (e: CatalogEntry): VerificationRecord | undefined => {
      // One already recorded as a damaged archive keeps its own verification's words.
      if (!changedParentIds.includes(e.id) || (e.verified && !e.verified.ok && e.verified.archiveSound === false)) return undefined;
      alsoFailed.push(e.id);
      // Every entry of the chain matched (onlyOutsideData): this one's too.
      return { at, ok: false, detail: `${backups.archiveFile(profileId, e.id)}: ${ARCHIVE_CHANGED} (found verifying ${backupId}, which builds on it)`, archiveSound: false, ...(onlyOutsideData ? { changedOutsideData: true as const } : {}) };
    };
    try {
      await updateCatalog(backups, profileId, `verify ${backupId}`, (entries) => entries.map((e) => (e.id === backupId ? { ...e, verified: record } : { ...e, verified: parentRecord(e) ?? e.verified })), (message) => context.logger.warn(message));
    } catch (error) {
      throw vanishedFolderError(`The result of verifying ${backupId} (${ok ? 'sound' : 'failed'}) could not be recorded`, 'while it ran', ownFolders, error) ?? error;
    }
  }
  appendAudit(context, { event: 'verify', profile: profileId, outcome: ok ? 'ok' : 'failed', detail: ok ? backupId : problems[0] });
  const notRecorded = recorded || notABackup || missingParent ? undefined
    : located.unreadableCatalog ? `${located.unreadableCatalog.message} ${located.unreadableCatalog.hint ?? ''} Then verify again to record the result.`
    : unwritable && profileId ? `the result could not be written into the catalog: ${backups.profileDir(profileId)} ${unwritable.readOnly ? 'is on a read-only file system' : `cannot be written (${(unwritable.error as NodeJS.ErrnoException).code ?? 'refused'})`}. The archive was checked all the same; verify again where the folder can be written to record the result.`
    : `${located.archive} is not an archive this workspace's catalog lists (a copy, or one from elsewhere), so the result is not kept; only a listed archive's verification is recorded.`;
  return { backupId, profileId, archive: located.archive, ok, problems, damagedWhenBackedUp, ...(leftOut ? { leftOut } : {}), archiveSound, databases, files, bytesChecked, durationMs: performance.now() - started, recorded, ...(onlyOutsideData ? { changedOutsideData: true as const } : {}), ...(alsoFailed.length > 0 ? { alsoFailed } : {}), ...(notRecorded ? { notRecorded } : {}), ...(notABackup ? { notABackup } : {}), ...(missingParent ? { missingParent } : {}), ...(located.unreadableCatalog ? { unreadableCatalog: { message: located.unreadableCatalog.message, hint: located.unreadableCatalog.hint } } : {}) };
}

const ARCHIVE_CHANGED = "the archive's SHA-256 differs from the one the catalog recorded when it was written";

/** The archives `entry` builds on whose SHA-256 differs from the one the catalog (`listed`) recorded: their ids and files. */
async function changedParents(backups: BackupLayout, entry: CatalogEntry, listed: CatalogEntry[]): Promise<[string, string][]> {
  const changed: [string, string][] = [];
  for (const id of entry.chain) {
    const recorded = listed.find((e) => e.id === id)?.sha256;
    const file = backups.archiveFile(entry.profileId, id);
    // One missing or unreadable is said by the rebuild of the chain, which cannot open it.
    if (recorded !== undefined && (await archiveAgainstCatalog(file, recorded)).kind === 'changed') changed.push([id, file]);
  }
  return changed;
}

/** What to do about a backup that failed verification. */
export function verificationHint(result: VerificationResult): string {
  const profile = result.profileId;
  if (result.notABackup) return `Do not restore from it. ${result.notABackup}`;
  const others = `"envprofiles backups${profile ? ` ${profile}` : ''}" shows the other backups and which of them verified`;
  if (result.changedOutsideData) return `Its data checked out this time (a restore checks every entry again), but the file is no longer the one that was written, and a disk that changes files may change more: copy the backups off that disk and check it; take a new full backup${profile ? ` ("envprofiles backup ${profile} --full --verify")` : ''}; ${others}.`;
  if (result.missingParent) return `Its chain is incomplete: put ${result.missingParent}.zip beside ${path.basename(result.archive)} and verify again, or restore another backup (${others}).`;
  if (result.damagedWhenBackedUp.length > 0 && result.archiveSound) {
    return `Restoring it would bring ${result.damagedWhenBackedUp.join(', ')} back as ${result.damagedWhenBackedUp.length === 1 ? 'it was' : 'they were'} then, problems included. Check the live database now ("envprofiles validate ${profile} --full"); ${others}. It is an exact copy of that data, so "envprofiles delete" accepts it as a verified backup.`;
  }
  return `Do not restore from it. ${others}; take a new full backup${profile ? ` ("envprofiles backup ${profile} --full")` : ''} and verify it.`;
}

/** Throws a typed error when a verification failed (for callers that must not go on). */
export function requireVerified(result: VerificationResult): void {
  if (!result.ok) throw new EnvProfilesError('VERIFY_FAILED', `Backup ${result.backupId} failed verification: ${result.problems[0]}`, { file: result.archive, hint: `Nothing was changed. ${verificationHint(result)}` });
}
