import * as path from 'node:path';
import { EnvProfilesError } from '../errors';
import { databaseNameProblem, profileIdProblem } from '../safeNames';
import { MAX_NAME_BYTES } from '../fittingName';
import { MAX_CHAIN } from './archiveLimits';
import { segmentListProblem } from './segmentedInflate';
import { isBackupId } from './backupLayout';
import type { BackupOrigin } from './backupOrigin';
import type { DeflateSegment } from './zipWriter';
import { isCount, isDateText, isIsoTime, isSha256, shownValue as shown } from '../untrustedValues';
import { counted } from '../counted';
import { STORE_FOLDER } from '../storeFolder';
import { relativePathInStore } from '../pathSafety';

export const MANIFEST_ENTRY = 'manifest.json';
export const MANIFEST_FORMAT = 'envprofiles-backup';
/**
 * 2: an incremental's database record has no whole-file SHA-256 (its image is checked page by page
 * against the page index instead), and entries list their deflate pieces. Version 1 archives still read.
 * 3: a database left out of an emergency backup may come with raw copies of its files (`rawCopies`).
 * Only archives that hold such copies are written as 3: the others stay readable by versions before it.
 */
export const MANIFEST_VERSION = 3;
export const MANIFEST_VERSION_WITHOUT_RAW_COPIES = 2;
const READABLE_VERSIONS = [1, 2, 3];
const READABLE_IN_WORDS = `${READABLE_VERSIONS.slice(0, -1).join(', ')} and ${READABLE_VERSIONS[READABLE_VERSIONS.length - 1]}`;

export type BackupKind = 'full' | 'incremental';

export interface SqliteFacts {
  pageSize: number;
  pageCount: number;
  userVersion: number;
  journalMode: 'wal' | 'delete';
}

/** A database in a backup: a whole image, or (incremental) only the pages that changed since the parent. */
export interface DatabaseRecord {
  role: 'database';
  logicalName: string;
  originalPath: string;
  /** `image`: `entry` holds the whole file; `pages`: `entry` holds [u32 page number][page] records. */
  storage: 'image' | 'pages';
  entry: string;
  entrySize: number;
  entrySha256: string;
  /**
   * Size and SHA-256 of the whole database file this record restores to. An incremental (storage
   * `pages`) has no SHA-256: hashing the whole file would double its work, and the file it rebuilds to
   * is checked page by page against the page index, whose own SHA-256 is below. `verify` computes the
   * whole-file SHA-256 of the rebuilt file and the catalog records it.
   */
  size: number;
  sha256?: string;
  sqlite: SqliteFacts;
  pagesStored: number;
  /** 16 bytes of SHA-256 per page: the next incremental compares against it, and a rebuilt file is checked with it. */
  pageIndexEntry: string;
  pageIndexSha256: string;
  atomicity: string;
  /** The entry's deflate stream as pieces that inflate on their own (absent when stored): restores inflate them in parallel. */
  segments?: DeflateSegment[];
  /** The file's permission bits when it was backed up (archives before this field have none). */
  mode?: number;
}

/** Another file of the environment: the profile YAML, its `files:`, the generated env file. */
export interface FileRecord {
  role: 'profile' | 'file' | 'env-file';
  originalPath: string;
  size: number;
  sha256: string;
  /** The entry holding the content; null when unchanged since the parent (then `sameAs` names where it is). */
  entry: string | null;
  sameAs?: string;
  /** The file's permission bits when it was backed up (archives before this field have none). */
  mode?: number;
}

export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  formatVersion: number;
  backupId: string;
  profileId: string;
  kind: BackupKind;
  parent: string | null;
  /** Ancestors from the full backup to the parent (empty for a full backup). */
  chain: string[];
  createdAt: string;
  reason: string;
  toolVersion: string;
  consistency: string;
  /** Which workspace made it (absent before this field). */
  origin?: BackupOrigin;
  /**
   * The `created_at` of the profile backed up (absent when it had none, and before this field): tells
   * apart the backups of profiles that had the same id one after another.
   */
  profileCreatedAt?: string;
  files: (DatabaseRecord | FileRecord)[];
  /** Databases of the profile this backup could not take (the emergency backup saves what it can); absent when none. */
  leftOut?: LeftOutRecord[];
}

export interface LeftOutRecord {
  logicalName: string;
  originalPath: string;
  reason: string;
  /** Damaged files an emergency backup kept byte for byte instead (format 3); absent when none. */
  rawCopies?: RawCopy[];
}

/**
 * A database file (or its -wal or -journal) that could not be backed up as a database, damaged, kept as
 * it was found: never restored by this tool (it is not a database SQLite can read), but in the archive
 * for whoever can mend it (`unzip -p`). Its entry is checked like any other.
 */
export interface RawCopy {
  suffix: '' | '-wal' | '-journal';
  entry: string;
  size: number;
  sha256: string;
}

/** The folder of the archive that raw copies go in. */
export const RAW_COPY_FOLDER = 'damaged';

/** Every raw copy of a manifest. */
export function rawCopiesOf(manifest: BackupManifest): RawCopy[] {
  return (manifest.leftOut ?? []).flatMap((l) => l.rawCopies ?? []);
}

/** The catalog's record of the left-out databases whose files the archive keeps as found (raw copies), when there are any. */
export function keptAsFoundField(manifest: BackupManifest): { keptAsFound?: string[] } {
  const kept = (manifest.leftOut ?? []).filter((l) => l.rawCopies?.some((c) => c.suffix === '')).map((l) => l.logicalName);
  return kept.length > 0 ? { keptAsFound: kept } : {};
}

/** Why the backup does not hold the database `logicalName`, when it was left out of it (and where its raw copy is, if it has one). */
export function leftOutReason(manifest: BackupManifest, logicalName: string): string | undefined {
  const record = manifest.leftOut?.find((l) => l.logicalName === logicalName);
  if (!record) return undefined;
  const copies = record.rawCopies ?? [];
  return copies.length === 0 ? record.reason : `${record.reason}; its file${copies.length > 1 ? 's are' : ' is'} in the archive as found, byte for byte (${copies.map((c) => c.entry).join(', ')}: "unzip -p <archive> <entry> > <file>" takes one out)`;
}

export const CONSISTENCY_NOTE =
  'Each database is one committed state, copied with the SQLite backup API in one step. SQLite has no ' +
  'transactions across files: the databases were captured one after another, not at one instant.';

/** An archive written by a newer version of Environment Profiles: sound, as far as anyone knows, but not for this version to read. */
export class NewerFormatError extends EnvProfilesError {
  constructor(archive: string, version: number) {
    super('ARCHIVE_INVALID', `${archive} was written by a newer version of Environment Profiles (manifest format version ${version}; this version reads versions ${READABLE_IN_WORDS}).`, { file: archive, hint: 'Update Environment Profiles (the extension and the envprofiles command) to verify or restore it. The archive was not changed.' });
  }
}

function fail(archive: string, message: string): never {
  throw new EnvProfilesError('ARCHIVE_INVALID', `${archive}: manifest.json ${message}.`, { file: archive, hint: 'The archive is damaged or was not written by Environment Profiles; use another backup.' });
}

/** A manifest that would lead a write astray: refused like any other hostile archive. */
function refuse(archive: string, message: string): never {
  throw new EnvProfilesError('ARCHIVE_HOSTILE', `${archive}: manifest.json ${message}; the archive was refused and nothing was written.`, { kind: 'refused', file: archive, hint: 'Do not use this archive. Backups written by Environment Profiles never contain such a manifest.' });
}

/**
 * What is wrong with a manifest's chain, if anything: a full backup has none; an incremental's runs
 * from its full backup to its parent, each backup once, never itself, and no longer than max_chain
 * allows. Before, a chain of one id 20,000 times opened that archive 20,000 times, and the error blamed
 * the sound full backup ("not a readable ZIP archive (EMFILE: too many open files)").
 */
function chainShapeProblem(m: BackupManifest): string | undefined {
  if (m.kind === 'full') return m.chain.length > 0 || (m.parent !== null && m.parent !== undefined) ? 'is a full backup but names a parent or a chain' : undefined;
  if (m.chain.length > MAX_CHAIN) return `has a chain of ${m.chain.length} backups, longer than max_chain allows (${MAX_CHAIN})`;
  if (m.chain[m.chain.length - 1] !== m.parent) return `has a chain that does not end with its parent ${shown(m.parent)}`;
  if (new Set(m.chain).size !== m.chain.length || m.chain.includes(m.backupId)) return 'has a chain that names a backup twice';
  return undefined;
}

/**
 * A name that is a file of its own in a folder (not empty, ".", ".." or a path), short enough for file
 * systems: a restore as a new profile names the database's file after it (a longer one failed there).
 */
function isPlainFileName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name) && Buffer.byteLength(name) <= MAX_NAME_BYTES;
}

/**
 * How many pages a database record's entry holds: an image all of them; a pages entry one per
 * [u32 page number][page] record, counted from its size (what planning a rebuild trusts, not a
 * count the manifest could inflate).
 */
export function storedPageCount(record: DatabaseRecord): number {
  return record.storage === 'image' ? record.sqlite.pageCount : record.entrySize / (4 + record.sqlite.pageSize);
}

/** The database records of a manifest, in its order. */
export function databaseRecordsOf(manifest: BackupManifest): DatabaseRecord[] {
  return manifest.files.filter((f): f is DatabaseRecord => f.role === 'database');
}

/** The record of the database `logicalName` in a manifest, if it has one. */
export function databaseRecordOf(manifest: BackupManifest, logicalName: string): DatabaseRecord | undefined {
  return manifest.files.find((f): f is DatabaseRecord => f.role === 'database' && f.logicalName === logicalName);
}

/** Parses manifest.json from an untrusted archive, checking every field it relies on. */
export function parseManifest(text: string, archive: string): BackupManifest {
  let raw: unknown;
  // JSON.parse would name the mark as the unexpected character, which no terminal shows.
  if (text.startsWith('\ufeff')) fail(archive, 'begins with a byte order mark (U+FEFF), which JSON does not allow (an editor that saves "UTF-8 with BOM" writes one)');
  try {
    raw = JSON.parse(text);
  } catch (error) {
    fail(archive, `is not JSON (${(error as Error).message})`);
  }
  const m = raw as Partial<BackupManifest>;
  if (!m || typeof m !== 'object' || m.format !== MANIFEST_FORMAT) fail(archive, 'is not an Environment Profiles manifest');
  if (typeof m.formatVersion === 'number' && Number.isInteger(m.formatVersion) && m.formatVersion > MANIFEST_VERSION) {
    // Not damaged: the hint that says so would have the user throw away a sound backup.
    throw new NewerFormatError(archive, m.formatVersion);
  }
  if (!READABLE_VERSIONS.includes(m.formatVersion as number)) fail(archive, `has format version ${shown(m.formatVersion)}; this tool reads versions ${READABLE_IN_WORDS}`);
  if (typeof m.backupId !== 'string' || typeof m.profileId !== 'string') fail(archive, 'lacks backupId or profileId');
  // Ids and names become parts of paths (the profile's folders, archive and staging file names): a
  // hostile manifest must not lead a write anywhere else.
  const badProfileId = profileIdProblem(m.profileId);
  if (badProfileId) refuse(archive, `has a profile id that is not a safe name: ${badProfileId}`);
  for (const id of [m.backupId, ...(typeof m.parent === 'string' ? [m.parent] : []), ...(Array.isArray(m.chain) ? m.chain : [])]) {
    if (!isBackupId(id)) refuse(archive, `names a backup ${shown(id)}, which is not a backup id`);
  }
  if (m.kind !== 'full' && m.kind !== 'incremental') fail(archive, 'has an unknown kind');
  if (m.kind === 'incremental' && typeof m.parent !== 'string') fail(archive, 'is incremental but names no parent');
  if (!Array.isArray(m.chain) || m.chain.some((c) => typeof c !== 'string')) fail(archive, 'has no chain');
  const chainProblem = chainShapeProblem(m as BackupManifest);
  if (chainProblem) fail(archive, chainProblem);
  // An id is <profile>.<time>.<full|incr>, and a chain stays within its profile: before, a manifest that
  // named another profile was found sound, and its restore refused over a profile it was never of.
  const notOfProfile = [m.backupId, ...(typeof m.parent === 'string' ? [m.parent] : []), ...(m.chain as string[])].find((id) => !id.startsWith(`${m.profileId}.`));
  if (notOfProfile !== undefined) fail(archive, `says it is a backup of ${m.profileId}, but names the backup ${notOfProfile}, which is not one of its`);
  if (!Array.isArray(m.files)) fail(archive, 'has no file list');
  // Both are written into the catalog by a rebuild, and into a restored profile's name: a record that
  // is not a date made a restore fail as "a bug" and a rebuilt catalog sort and prune by nothing.
  if (!isIsoTime(m.createdAt)) fail(archive, `has a createdAt that is not a time (${shown(m.createdAt)})`);
  if (typeof m.reason !== 'string') fail(archive, `has a reason that is not text (${shown(m.reason)})`);
  if (m.profileCreatedAt !== undefined && !isDateText(m.profileCreatedAt)) fail(archive, 'has a profileCreatedAt that is not a date');
  const databaseVariables = new Map<string, string>();
  // A backup archives each file once, and one profile file and env file at most: two records for one
  // file were both restored onto it (refused only then, as "reached through a symbolic link").
  const filePaths = new Set<string>();
  const singleRoles = new Set<string>();
  for (const file of m.files) {
    if (!file || typeof file.originalPath !== 'string' || !isCount(file.size)) fail(archive, 'has a file record without path or size');
    // Restore refused it ("would write a file at : is empty") where verify had found the archive sound.
    if (file.originalPath === '') fail(archive, `has a record for ${file.role === 'database' ? `database ${shown((file as DatabaseRecord).logicalName)}` : `a file (${shown(file.role)})`} whose path is empty`);
    // A control character in a path would end up in a file name on disk and in every message naming it.
    if (/[\u0000-\u001f\u007f]/.test(file.originalPath)) refuse(archive, `gives ${file.role === 'database' ? `database ${String((file as DatabaseRecord).logicalName)}` : 'a file'} the path ${JSON.stringify(file.originalPath)} (in JSON notation), which holds a control character`);
    const pagesOnly = file.role === 'database' && (file as DatabaseRecord).storage === 'pages';
    if (!isSha256(file.sha256) && !(pagesOnly && file.sha256 === undefined)) fail(archive, `has a record for ${file.originalPath} without a SHA-256`);
    if (file.mode !== undefined && !(Number.isInteger(file.mode) && file.mode >= 0 && file.mode <= 0o777)) fail(archive, `has a record for ${file.originalPath} with permissions that are not permission bits`);
    if (file.role === 'database') {
      const db = file as DatabaseRecord;
      if (typeof db.logicalName !== 'string' || typeof db.entry !== 'string' || !isSha256(db.entrySha256) || !isCount(db.entrySize)) fail(archive, `has an incomplete record for database ${shown(db.logicalName)}`);
      if (typeof db.pageIndexEntry !== 'string' || !isSha256(db.pageIndexSha256)) fail(archive, `has a record for database ${db.logicalName} without its page index or the page index's SHA-256`);
      if (db.pagesStored !== undefined && !isCount(db.pagesStored)) fail(archive, `has a count of stored pages for ${db.logicalName} that is not a count (${shown(db.pagesStored)})`);
      // The profile's own rule: a longer name failed verify on its staging file's name, and restore --as-new on the profile it wrote.
      if (databaseNameProblem(db.logicalName) !== undefined) refuse(archive, `names a database ${shown(db.logicalName)}, which is not a database name`);
      // Listed twice, one database was rebuilt, counted and restored twice (or both onto one file).
      const sameVariable = databaseVariables.get(db.logicalName.toUpperCase());
      if (sameVariable !== undefined) fail(archive, sameVariable === db.logicalName ? `lists the database ${db.logicalName} twice` : `lists the databases ${sameVariable} and ${db.logicalName}, which a profile cannot both have (both would be ENVPROFILE_DB_${db.logicalName.toUpperCase()})`);
      databaseVariables.set(db.logicalName.toUpperCase(), db.logicalName);
      if (!isPlainFileName(path.basename(db.originalPath))) refuse(archive, `gives database ${db.logicalName} the path ${shown(db.originalPath)}, which does not end in a file name (of at most ${MAX_NAME_BYTES} bytes)`);
      if (db.storage !== 'image' && db.storage !== 'pages') fail(archive, `has an unknown storage for ${db.logicalName}`);
      if (!db.sqlite || !Number.isInteger(db.sqlite.pageSize) || !Number.isInteger(db.sqlite.pageCount) || db.sqlite.pageSize < 512 || db.sqlite.pageSize > 65536) fail(archive, `has bad SQLite facts for ${db.logicalName}`);
      // user_version is a signed 32-bit integer (manifests before it was read as signed kept -1 as 4294967295).
      const { userVersion, journalMode } = db.sqlite;
      if (userVersion !== undefined && !(Number.isInteger(userVersion) && userVersion >= -(2 ** 31) && userVersion < 2 ** 32)) fail(archive, `has a user_version for ${db.logicalName} that is not a 32-bit integer (${shown(userVersion)})`);
      if (journalMode !== undefined && journalMode !== 'wal' && journalMode !== 'delete') fail(archive, `has a journal mode for ${db.logicalName} that is neither "wal" nor "delete" (${shown(journalMode)})`);
      if (db.size !== db.sqlite.pageSize * db.sqlite.pageCount) fail(archive, `says ${db.logicalName} is ${db.size} bytes, which is not its page count times its page size`);
      // A pages entry is whole page records, and its count of them says so. (An image's size is checked
      // against its entry by the reader, as hostile.)
      if (db.storage === 'pages') {
        if (!Number.isInteger(storedPageCount(db))) fail(archive, `says the changed pages of ${db.logicalName} take ${db.entrySize} bytes, which is not a whole number of pages of ${db.sqlite.pageSize} bytes (each with its 4-byte page number)`);
        if (db.pagesStored !== undefined && db.pagesStored !== storedPageCount(db)) fail(archive, `says ${counted(db.pagesStored, 'page')} of ${db.logicalName} ${db.pagesStored === 1 ? 'is' : 'are'} stored, but its entry holds ${storedPageCount(db)}`);
      }
      const badSegments = db.segments === undefined ? undefined : segmentListProblem(db.segments, db.entrySize);
      if (badSegments) fail(archive, `has a list of deflate pieces for ${db.logicalName} that ${badSegments}`);
    } else if (file.role !== 'profile' && file.role !== 'file' && file.role !== 'env-file') fail(archive, `has an unknown role ${shown((file as { role: unknown }).role)}`);
    else if (filePaths.has(file.originalPath)) fail(archive, `lists the file ${file.originalPath} twice`);
    else if (file.role !== 'file' && singleRoles.has(file.role)) fail(archive, `lists more than one ${file.role === 'profile' ? 'profile file' : 'env file'} (the second is ${file.originalPath})`);
    else if (file.entry !== null && (typeof file.entry !== 'string' || file.entry === '')) fail(archive, `has a record for ${file.originalPath} whose entry is neither a name nor null (${shown(file.entry)})`);
    // Unchanged since an earlier backup of the chain: that backup must be named (it is looked up in the chain).
    else if (file.entry === null && !isBackupId(file.sameAs)) fail(archive, `has a record for ${file.originalPath} that holds no entry and names no earlier backup that does (${shown(file.sameAs)})`);
    if (file.role !== 'database') {
      // Only the profile file is backed up from the tool's own folder (a profile's files: and its env file
      // are refused there): such a record would have a restore write over config.yaml or a profile. Before,
      // verify found it sound and restore refused it (a manifest that said the profile file was a files: entry).
      if (file.role !== 'profile' && relativePathInStore(file.originalPath)) refuse(archive, `gives ${file.role === 'env-file' ? 'the env file' : 'a file'} the path ${file.originalPath}, inside ${STORE_FOLDER}, where only the profile file is backed up from`);
      filePaths.add(file.originalPath);
      singleRoles.add(file.role);
    }
  }
  if (m.leftOut !== undefined && (!Array.isArray(m.leftOut) || m.leftOut.some((l) => !l || typeof l.logicalName !== 'string' || typeof l.originalPath !== 'string' || typeof l.reason !== 'string'))) fail(archive, 'has a malformed list of databases left out');
  for (const l of m.leftOut ?? []) {
    if (databaseNameProblem(l.logicalName) !== undefined) refuse(archive, `names a database left out ${shown(l.logicalName)}, which is not a database name`);
    if (databaseVariables.has(l.logicalName.toUpperCase())) fail(archive, `lists the database ${l.logicalName} both as backed up and as left out`);
    if (l.rawCopies !== undefined && (!Array.isArray(l.rawCopies) || !l.rawCopies.every(isRawCopy))) fail(archive, `has a malformed list of raw copies of ${l.logicalName}`);
  }
  return m as BackupManifest;
}

function isRawCopy(value: unknown): value is RawCopy {
  const copy = value as Partial<RawCopy> | null;
  return !!copy && ['', '-wal', '-journal'].includes(copy.suffix as string) && typeof copy.entry === 'string' && copy.entry.startsWith(`${RAW_COPY_FOLDER}/`) && isCount(copy.size) && isSha256(copy.sha256);
}

/** Every entry name the manifest accounts for (anything else in the archive is refused). */
export function listedEntries(manifest: BackupManifest): Set<string> {
  const names = new Set<string>([MANIFEST_ENTRY, ...rawCopiesOf(manifest).map((c) => c.entry)]);
  for (const file of manifest.files) {
    if (file.role === 'database') {
      names.add(file.entry);
      names.add(file.pageIndexEntry);
    } else if (file.entry) names.add(file.entry);
  }
  return names;
}
