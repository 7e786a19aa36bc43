import * as fs from 'node:fs';
import { writeFileAtomic } from '../atomicFile';
import { EnvProfilesError } from '../errors';
import { nonFileInWords, pathKind } from '../pathKind';
import { profileIdProblem } from '../safeNames';
import { readJsonSteadily } from '../steadyRead';
import type { BackupKind } from './backupManifest';
import { backupIdTime, isBackupId, type BackupLayout } from './backupLayout';
import { localTimestamp, localTimeZone } from '../localTime';
import { originFrom, type BackupOrigin } from './backupOrigin';
import { withCatalogLock } from './catalogLock';
import { isCount, isDateText, isIsoTime, isSha256, isTextList, shownValue } from '../untrustedValues';

export interface VerificationRecord {
  at: string;
  ok: boolean;
  detail: string;
  /** SHA-256 of each database file as rebuilt by the verification (an incremental's manifest has none). */
  databaseSha256?: Record<string, string>;
  /**
   * The archive is intact and rebuilds to exactly what was backed up: true when `ok`, and also when it
   * failed only because of the data itself (already damaged, or with foreign key violations, when it
   * was backed up). Absent in catalogs written before this field.
   */
  archiveSound?: boolean;
  /**
   * Failed because an archive (its own, or one it builds on) changed since it was written, though every
   * entry still matched its SHA-256 and every database rebuilt and checked out (see VerificationResult).
   */
  changedOutsideData?: true;
}

/** What verify adds to the last problem when every problem is an archive changed outside its entries' data. */
export const OUTSIDE_DATA_CLAUSE = "; every entry still matches its SHA-256 and every database rebuilds and checks out, so only bytes outside the entries' data (ZIP headers, unused bits) changed, as on a failing disk";

/**
 * Whether the backup's last verification proved that it holds its data exactly as it was backed up:
 * it passed, or it failed only because of problems the data already had then (which it keeps).
 */
export function holdsDataExactly(entry: CatalogEntry): boolean {
  return entry.verified?.ok === true || entry.verified?.archiveSound === true;
}

/** A backup's verification as lists show it: passed, failed only because of its data, failed, or never run. */
export type VerificationStatus = 'passed' | 'data-problems' | 'failed' | 'not-verified';

export function verificationStatus(entry: CatalogEntry): VerificationStatus {
  if (!entry.verified) return 'not-verified';
  if (entry.verified.ok) return 'passed';
  return entry.verified.archiveSound ? 'data-problems' : 'failed';
}

/** How a backup's verification reads in lists (the tree, the pickers, the backup restore chose). */
export const VERIFICATION_TEXT: Record<VerificationStatus, string> = {
  passed: 'verified',
  'data-problems': 'archive intact, its data FAILED checks',
  failed: 'verification FAILED',
  'not-verified': 'not verified',
};

/** One backup as the catalog knows it. */
export interface CatalogEntry {
  id: string;
  profileId: string;
  file: string;
  kind: BackupKind;
  parent: string | null;
  chain: string[];
  createdAt: string;
  reason: string;
  sizeBytes: number;
  /** SHA-256 of the archive file itself. */
  sha256: string;
  databases: string[];
  /** Databases of the profile the backup could not take (an emergency backup saves what it can); absent when none. */
  leftOut?: string[];
  /** Of `leftOut`, the damaged databases whose files the archive keeps as found (raw copies); absent when none. */
  keptAsFound?: string[];
  verified: VerificationRecord | null;
  /** Which workspace made it (absent in catalogs before this field, and in rebuilt entries of older archives). */
  origin?: BackupOrigin;
  /** The backed-up profile's `created_at`, as in the manifest (absent when it had none, and before this field). */
  profileCreatedAt?: string;
}

/** The catalog format this version writes and reads; a newer one is left alone (see NewerCatalogError). */
const CATALOG_VERSION = 1;

interface CatalogFile {
  version: typeof CATALOG_VERSION;
  profileId: string;
  backups: CatalogEntry[];
}

/**
 * Catalog order: creation time, then id. Both are ASCII, so code units order them, the same in every
 * locale; localeCompare would also load ICU's collator on first use, ~7 ms of every backup command.
 */
export function oldestFirst(a: CatalogEntry, b: CatalogEntry): number {
  return compareCodeUnits(a.createdAt, b.createdAt) || compareCodeUnits(a.id, b.id);
}

export function newestFirst(a: CatalogEntry, b: CatalogEntry): number {
  return oldestFirst(b, a);
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * What is wrong with a catalog entry, if anything. Its ids become file names (prune deletes
 * `<id>.zip`), so an id that is not one file name component is refused with the rest.
 */
function entryProblem(entry: Partial<CatalogEntry> | null): string | undefined {
  if (!entry || typeof entry !== 'object') return 'is not an object';
  if (!isBackupId(entry.id)) return `has an id that is not a backup id (${shownValue(entry.id)})`;
  if (entry.profileId !== undefined && typeof entry.profileId !== 'string') return `(${entry.id}) has a profile id that is not text (${shownValue(entry.profileId)})`;
  if (entry.kind !== 'full' && entry.kind !== 'incremental') return `(${entry.id}) has an unknown kind`;
  if (!(entry.parent === null || isBackupId(entry.parent)) || !Array.isArray(entry.chain) || !entry.chain.every(isBackupId)) return `(${entry.id}) names a parent or chain that is not backup ids`;
  // Every field a listing, prune or delete reads is checked for its kind: a time that was not one
  // made them fail as "a bug" ("Invalid time value"), and a reason that was not text showed as [object Object].
  if (!isIsoTime(entry.createdAt)) return `(${entry.id}) has a createdAt that is not a time (${shownValue(entry.createdAt)})`;
  if (!isCount(entry.sizeBytes) || !isSha256(entry.sha256)) return `(${entry.id}) lacks its size or SHA-256, or has one that is not one`;
  if (typeof entry.reason !== 'string') return `(${entry.id}) has a reason that is not text (${shownValue(entry.reason)})`;
  if (!isTextList(entry.databases) || [entry.leftOut, entry.keptAsFound].some((list) => list !== undefined && !isTextList(list))) return `(${entry.id}) has a list of databases that is not a list of names`;
  if (entry.profileCreatedAt !== undefined && !isDateText(entry.profileCreatedAt)) return `(${entry.id}) has a profileCreatedAt that is not a date (${shownValue(entry.profileCreatedAt)})`;
  if (entry.origin !== undefined && originFrom(entry.origin) === undefined) return `(${entry.id}) has an origin that is not a host and a workspace folder (${shownValue(entry.origin)})`;
  const badVerification = verificationProblem(entry.verified);
  return badVerification ? `(${entry.id}) has a verification record that is not one: ${badVerification}` : undefined;
}

/** What is wrong with an entry's record of its verification, if anything (null: never verified). */
function verificationProblem(verified: unknown): string | undefined {
  if (verified === null) return undefined;
  const record = verified as Partial<VerificationRecord> | undefined;
  if (!record || typeof record !== 'object') return `it is ${shownValue(verified)}`;
  if (!isIsoTime(record.at)) return `its time is ${shownValue(record.at)}`;
  if (typeof record.ok !== 'boolean' || typeof record.detail !== 'string') return 'it lacks its result or detail';
  if (record.archiveSound !== undefined && typeof record.archiveSound !== 'boolean') return 'its archiveSound is not true or false';
  if (record.changedOutsideData !== undefined && record.changedOutsideData !== true) return 'its changedOutsideData is not true';
  if (record.databaseSha256 !== undefined && (!record.databaseSha256 || typeof record.databaseSha256 !== 'object' || !Object.values(record.databaseSha256).every((sha) => typeof sha === 'string'))) return 'its database SHA-256 are not texts';
  return undefined;
}

/**
 * The ids a catalog file lists, for recovery (which reads it by its path), or that there is no catalog,
 * or that it cannot be read (recovery then deletes nothing on its word).
 */
export function listedIds(catalogFile: string): Set<string> | 'missing' | 'unreadable' {
  let read: ReturnType<typeof readJsonSteadily>;
  try {
    read = readJsonSteadily(catalogFile);
  } catch {
    return 'unreadable';
  }
  if (!read) return 'missing';
  const listed = (read.value as Partial<CatalogFile> | null | undefined)?.backups;
  return Array.isArray(listed) ? new Set(listed.map((entry) => String((entry as Partial<CatalogEntry> | null)?.id))) : 'unreadable';
}

/** The catalog of one profile's backups, oldest first. Missing means empty. */
export function readCatalog(backups: BackupLayout, profileId: string): CatalogEntry[] {
  const file = backups.catalogFile(profileId);
  const kind = pathKind(file);
  if (kind === 'missing') return [];
  // A folder of that name (a sync tool's conflict copy, say) was "a bug"; a named pipe made every command wait for ever.
  if (kind !== 'file') throw new UnreadableCatalogError(profileId, file, `it is ${nonFileInWords(kind)}, not a file`);
  // Read again while it does not parse (see readSteadily): one read of it on a FAT disk through fusefat
  // that came back cut short refused the backup that was listing itself in it.
  const read = readJsonSteadily(file);
  if (!read) return [];
  try {
    // Its text parsed again only to say why it does not parse.
    const parsed = (read.value === undefined ? JSON.parse(read.text) : read.value) as CatalogFile;
    const version: unknown = parsed?.version;
    // A newer version's catalog may record what this one cannot read back: rewriting it would drop that.
    if (typeof version === 'number' && Number.isInteger(version) && version > CATALOG_VERSION) throw new NewerCatalogError(profileId, file, version);
    if (version !== undefined && version !== CATALOG_VERSION) throw new Error(`it has version ${JSON.stringify(version)}, not ${CATALOG_VERSION}`);
    if (!Array.isArray(parsed.backups)) throw new Error('no backups list');
    parsed.backups.forEach((entry, index) => {
      const problem = entryProblem(entry);
      if (problem) throw new Error(`entry ${index + 1} ${problem}`);
    });
    // One backup listed twice (a hand merge, a sync tool's) was listed, decided by prune and verified twice.
    const ids = new Set<string>();
    for (const entry of parsed.backups) {
      if (ids.has(entry.id)) throw new Error(`it lists ${entry.id} twice`);
      ids.add(entry.id);
    }
    // Another profile's backups, read as this one's, would be built on and pruned by its rules.
    if (parsed.profileId !== undefined && typeof parsed.profileId !== 'string') throw new Error(`its profile id is not text (${shownValue(parsed.profileId)})`);
    const owner = [parsed.profileId, ...parsed.backups.map((e) => e.profileId)].find((id) => id !== undefined && id !== profileId);
    if (owner !== undefined) throw owner.toLowerCase() === profileId.toLowerCase() ? new CaseOnlyCatalogError(profileId, file, owner) : new Error(`it lists backups of the profile ${JSON.stringify(owner)}, not of ${profileId} (a backups folder renamed or copied?)`);
    return parsed.backups.map((entry) => ownedBy(entry, profileId));
  } catch (error) {
    if (error instanceof NewerCatalogError || error instanceof CaseOnlyCatalogError) throw error;
    throw new UnreadableCatalogError(profileId, file, (error as Error).message);
  }
}

/**
 * What a catalog that cannot be read still says, entry by entry: each well-formed entry of this
 * profile, first of its id. For a rebuild, which keeps the verification of an archive that is still
 * the one an entry describes (same SHA-256 and size): before, every backup lost its verification
 * when the catalog had one bad entry, and with it what `delete` needs.
 */
export function salvageCatalogEntries(backups: BackupLayout, profileId: string): CatalogEntry[] {
  let parsed: Partial<CatalogFile> | null;
  try {
    // Anything there that is not a file is thrown (see readSteadily).
    parsed = readJsonSteadily(backups.catalogFile(profileId))?.value as Partial<CatalogFile> | null | undefined ?? null;
  } catch {
    return [];
  }
  if (!parsed || !Array.isArray(parsed.backups)) return [];
  const seen = new Set<string>();
  return parsed.backups.filter((entry) => {
    if (entryProblem(entry) !== undefined || (entry.profileId ?? profileId) !== profileId || seen.has(entry.id)) return false;
    seen.add(entry.id);
    return true;
  }).map((entry) => ownedBy(entry, profileId));
}

/**
 * An entry without its profile id (which a catalog may leave out) belongs to the catalog's profile:
 * filled in on reading, since a backup built on such an entry failed as "a bug" where it used it.
 */
function ownedBy(entry: CatalogEntry, profileId: string): CatalogEntry {
  return entry.profileId === undefined ? { ...entry, profileId } : entry;
}

/** A catalog that exists but cannot be read (damaged, or not a catalog), as the error readCatalog throws for it. */
export class UnreadableCatalogError extends EnvProfilesError {
  /** What lists a backup made while the catalog cannot be read, for a backup's note. */
  readonly listedBy: string;

  /** `why` it cannot be read, or (for a catalog a rebuild is not the answer to) the whole of what to say. */
  constructor(readonly profileId: string, file: string, why: string | { message: string; hint: string; listedBy: string }) {
    const rebuild = `envprofiles backups ${profileId} --rebuild-catalog (the unreadable file is kept aside)`;
    super('CATALOG_MISMATCH', typeof why === 'string' ? `The backup catalog ${file} cannot be read: ${why}.` : why.message, typeof why === 'string' ? { file, hint: `Rebuild it from the archives: ${rebuild}.`, nextStep: { action: 'rebuild-catalog', profileId } } : { file, hint: why.hint });
    this.listedBy = typeof why === 'string' ? `rebuilding the catalog from the archives lists it with the others: ${rebuild}` : why.listedBy;
  }
}

/**
 * The catalog of a profile whose id differs from this one's only in case (`DEV_x` beside `dev_x`), read
 * through a backups folder on a disk that ignores case (FAT, exFAT, and by default macOS and Windows):
 * the two profiles' backups share one folder and one catalog. Before, an incremental of one was built on
 * the other's backups, and a prune of either deleted both profiles' by its rules.
 */
export class CaseOnlyCatalogError extends UnreadableCatalogError {
  constructor(profileId: string, file: string, owner: string) {
    super(profileId, file, {
      message: `The backup catalog ${file} holds backups of ${owner}, not only of ${profileId}: the two profile ids differ only in case, and the backups folder is on a disk that does not tell case apart (FAT, exFAT, macOS, Windows), so both profiles' backups go into one folder and one catalog. It is left as it is.`,
      hint: `Set backups.directory in .envprofiles/config.yaml to a folder on a disk that tells case apart (ext4, say); then, to keep the two apart on any disk, give one profile another id: envprofiles clone ${profileId} <new-id>, back the clone up, and delete ${profileId}. Until then, a backup of either is saved as a full one, not listed.`,
      listedBy: `it is listed once the two profiles no longer share a backups folder (rebuild the catalog then: envprofiles backups ${profileId} --rebuild-catalog)`,
    });
  }
}

/** A catalog written by a newer version of Environment Profiles: read by none of this version's commands, and never rewritten. */
export class NewerCatalogError extends UnreadableCatalogError {
  constructor(profileId: string, file: string, readonly version: number) {
    super(profileId, file, {
      message: `The backup catalog ${file} was written by a newer version of Environment Profiles (catalog version ${version}; this version reads version ${CATALOG_VERSION}), so it is left as it is.`,
      hint: `Update Environment Profiles (the extension and the envprofiles command) to list, verify, restore or prune the backups of ${profileId}. Rebuilding the catalog with this version would drop what the newer one recorded.`,
      listedBy: `the newer version lists it with the others once it rebuilds the catalog`,
    });
  }
}

/**
 * A profile's catalog for a search through every profile's (a backup id, an archive's entry): one that
 * cannot be read is given back as its error, so that it does not stop the search for the others (a
 * damaged catalog of the dev profile made every restore of production by id fail).
 */
export function readCatalogOrProblem(backups: BackupLayout, profileId: string): { entries: CatalogEntry[]; unreadable?: UnreadableCatalogError } {
  try {
    return { entries: readCatalog(backups, profileId) };
  } catch (error) {
    if (error instanceof UnreadableCatalogError) return { entries: [], unreadable: error };
    throw error;
  }
}

/**
 * Whether the catalog's text holds an id anywhere (listed, or as a parent or chain link): enough to keep
 * a new id clear of every one it knows, without parsing a catalog of thousands of backups again (the
 * backup has just read it; here it is read again under the lock). One that cannot be read mentions
 * nothing; the archives there still take their ids.
 */
export function catalogMentions(backups: BackupLayout, profileId: string): (id: string) => boolean {
  const file = backups.catalogFile(profileId);
  // Its bytes, searched as they are: decoding 10 MB of text took ~100 ms here, the search takes a few.
  let bytes = Buffer.alloc(0);
  try {
    if (pathKind(file) === 'file') bytes = fs.readFileSync(file);
  } catch {
    // Gone or unreadable meanwhile: it mentions nothing.
  }
  return (id) => bytes.includes(JSON.stringify(id), 0, 'utf8');
}

/** Replaces the catalog atomically. */
export function writeCatalog(backups: BackupLayout, profileId: string, entries: CatalogEntry[]): void {
  const sorted = [...entries].sort(oldestFirst);
  const content: CatalogFile = { version: CATALOG_VERSION, profileId, backups: sorted };
  writeFileAtomic(backups.catalogFile(profileId), `${JSON.stringify(content, null, 2)}\n`);
}

/**
 * Applies `change` to the catalog as it is now, under the catalog's lock (another workspace sharing the
 * backups folder may change it at the same moment). `onWait` hears what it waits for, if it must.
 */
export async function updateCatalog(backups: BackupLayout, profileId: string, operation: string, change: (entries: CatalogEntry[]) => CatalogEntry[], onWait?: (message: string) => void): Promise<CatalogEntry[]> {
  return withCatalogLock(backups, profileId, operation, () => {
    const next = change(readCatalog(backups, profileId));
    writeCatalog(backups, profileId, next);
    return next;
  }, onWait);
}

/** Every profile that has a backup folder. */
export function profilesWithBackups(backups: BackupLayout): string[] {
  try {
    // Only folders named as a profile can be: a disk's own (lost+found) or a user's are none of ours.
    return fs.readdirSync(backups.root, { withFileTypes: true }).filter((d) => d.isDirectory() && !profileIdProblem(d.name)).map((d) => d.name).sort();
  } catch {
    return [];
  }
}

/**
 * For each listed backup that cannot be restored now, the archives it needs that are not in the folder:
 * its own, or one of its chain's (a full or incremental it builds on). Backups with every archive there
 * are not in the map. One directory listing, however long the catalog.
 */
export function missingArchives(backups: BackupLayout, profileId: string, entries: CatalogEntry[]): Map<string, string[]> {
  let names: Set<string>;
  try {
    names = new Set(fs.readdirSync(backups.profileDir(profileId)));
  } catch {
    names = new Set();
  }
  const missing = new Map<string, string[]>();
  for (const entry of entries) {
    const gone = [...entry.chain, entry.id].filter((id) => !names.has(`${id}.zip`));
    if (gone.length > 0) missing.set(entry.id, gone);
  }
  return missing;
}

/** How much later than its time a backup's id may be stamped: one millisecond for each backup of the profile that took the one before (see reserveBackupId). */
const MAX_ID_BUMP_MS = 100;

/** Lists where the catalog and the archives on disk disagree. */
export function catalogDisagreements(backups: BackupLayout, profileId: string, entries: CatalogEntry[]): string[] {
  const problems: string[] = [];
  const dir = backups.profileDir(profileId);
  for (const entry of entries) {
    const file = backups.archiveFile(profileId, entry.id);
    if (!fs.existsSync(file)) problems.push(`the catalog lists ${entry.id} but ${file} is missing`);
    else if (fs.statSync(file).size !== entry.sizeBytes) problems.push(`${file} is ${fs.statSync(file).size} bytes, the catalog says ${entry.sizeBytes}`);
    const stamped = backupIdTime(entry.id);
    // A backup's id is stamped with the time it was taken (a millisecond or a few later when another took
    // that one): a catalog that gives it another time was edited, and prune would keep or delete by it.
    const idAfter = stamped === undefined ? 0 : stamped - Date.parse(entry.createdAt);
    if (stamped !== undefined && (idAfter < 0 || idAfter > MAX_ID_BUMP_MS)) {
      const zone = localTimeZone();
      const [said, stamp] = [localTimestamp(entry.createdAt, zone), localTimestamp(new Date(stamped).toISOString(), zone)];
      problems.push(`the catalog says ${entry.id} was taken at ${said}, but its id says ${stamp} (${zone} time${said === stamp ? `; ${Math.abs(idAfter)} ms apart` : ''})`);
    }
  }
  const listed = new Set(entries.map((e) => `${e.id}.zip`));
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    names = [];
  }
  // Hidden files (an operating system's, such as macOS's "._x.zip") are no backups, as for the rebuild.
  for (const name of names) if (name.endsWith('.zip') && !name.startsWith('.') && !listed.has(name)) problems.push(`${name} is in ${dir} but not in the catalog`);
  return problems;
}
