import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_PROFILE_DATABASES, MAX_PROFILE_FILES } from './backup/archiveLimits';
import type { Document, LineCounter } from 'yaml';
import type { Issue } from './errors';
import { resolveWritten } from './homePath';
import { checkProfilePath, realLocation } from './pathSafety';
import { PROFILE_TYPES, type ConfigValue, type Profile, type ProfileType } from './profileModel';
import { databaseNameProblem, isEnvironmentVariableName, profileIdProblem, profileNameProblem } from './safeNames';
import { isSqliteDatabaseFile } from './sqlite/sqliteHeader';
import { likelyMeant, unknownKeyMessage } from './nearMiss';
import { keyPositionOf, plainData, positionOf } from './yamlPositions';
import { writtenAsText } from './quotedScalar';
import { yamlValueInWords } from './untrustedValues';

export interface ProfileValidationContext {
  workspaceRoot: string;
  allowedDirectories: readonly string[];
  /** When the profile comes from `profiles/<id>.yaml`, the id in the file must match. */
  expectedId?: string;
  /** What config.yaml has this tool write on every switch (env_file, links), which `files:` may not list. */
  outputs?: { written: string; setting: string }[];
  /** Where the backups go (backups.directory, absolute), which no database or file of a profile may be in. */
  backupsFolder?: string;
  /** The ids of the workspace's profile files, to warn of one that differs from this one's only in case. */
  profileIds?: readonly string[];
}

/**
 * What the folder `folder` (where it really is) is among the backups, or undefined: the backups
 * folder's top, or a profile's folder there, which is named by the profile's id (`profileId`'s or
 * another of `profileIds`, whether or not it has a backup yet: the first backup would make a path
 * there wrong after the fact) or holds a catalog.json (another workspace's profile). No file of a
 * profile may be there: a restore would put an old copy of this tool's own files (a catalog) back over
 * the one in use. Only those folders: a backups folder may be a broad one (/srv) that also holds the
 * application's data.
 */
export function backupsFolderRole(folder: string, backupsFolder: string, profileIds: readonly string[], profileId?: string): string | undefined {
  const root = realLocation(backupsFolder);
  if (folder === root) return `the backups folder (${folder}, backups.directory in .envprofiles/config.yaml)`;
  if (path.dirname(folder) !== root) return undefined;
  const owner = path.basename(folder);
  const profileFolder = owner === profileId || profileIds.includes(owner);
  if (!profileFolder && !fs.existsSync(path.join(folder, 'catalog.json'))) return undefined;
  return `${folder}, ${profileFolder ? `the folder where the backups of ${owner} go` : 'a profile\'s folder of backups'} (backups.directory in .envprofiles/config.yaml, then a folder per profile id)`;
}

/** Why a path of a profile may not be where it leads (`verdict`) because that is among the backups, or undefined. */
function inBackupsFolder(written: string, verdict: { absolute: string; real: string }, context: ProfileValidationContext, profileId: string | undefined): string | undefined {
  if (!context.backupsFolder) return undefined;
  const role = backupsFolderRole(path.dirname(verdict.real), context.backupsFolder, context.profileIds ?? [], profileId);
  return role && `"${written}" is in ${role}, where this tool keeps the archives and their catalogs: a restore would put an old copy back over the one in use; keep it elsewhere`;
}

const FREQUENCIES = ['HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY'];
const KEEP_RULES = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'];
const BACKUP_SCHEDULE_KEYS = ['frequency', 'time', 'retention_days', 'keep', 'before_switch'];

/**
 * What is wrong with each key of `backup_schedule` this version does not know. Such a key is kept and
 * ignored, not refused (a later version may know it), but a misspelt `retention_days` would silently
 * turn retention off, so validate and prune say so.
 */
/**
 * What in a `backup_schedule` does not do what it seems to (a misspelt key, a `keep:` of zeros): shown
 * by validate, prune and the Problems panel, since it could turn retention off without a word.
 */
export function backupScheduleWarnings(schedule: Record<string, unknown> | undefined): { key: string; message: string }[] {
  const unknown = Object.keys(schedule ?? {}).filter((key) => !BACKUP_SCHEDULE_KEYS.includes(key)).map((key) => ({
    key,
    message: ['cron', 'interval'].includes(key)
      ? `scheduled backups (cron, interval) are not in this version yet, so "${key}" is ignored; back up with "envprofiles backup" meanwhile`
      : unknownKeyMessage(key, 'a backup_schedule key', BACKUP_SCHEDULE_KEYS),
  }));
  const zeros = keepsNothing(schedule) ? [{ key: 'keep', message: 'every rule is 0, which counts as no rule (as in restic), so prune keeps every backup; to keep only the newest, write last: 1 (or more)' }] : [];
  return [...unknown, ...zeros];
}

/** A `keep:` mapping with rules, all of them 0 (and no retention_days): read as no rule, which its writer may not expect. */
function keepsNothing(schedule: Record<string, unknown> | undefined): boolean {
  const keep = schedule?.keep;
  if (!isRecord(keep) || schedule?.retention_days !== undefined) return false;
  const counts = Object.values(keep);
  return counts.length > 0 && counts.every((count) => count === 0);
}

/** The keys of `profile:` this version reads or writes. */
const PROFILE_KEYS = ['id', 'name', 'type', 'created_at', 'description', 'protected', 'databases', 'configurations', 'files', 'schema', 'backup_schedule', 'cloned_from', 'restored_from'];

/**
 * Keys of `profile:` that look like a misspelt key of it (`protect: true` protects nothing). Other
 * unknown keys are the user's own and are kept without a word, as the README promises.
 */
function misspeltProfileKeys(raw: Record<string, unknown>): { key: string; message: string }[] {
  return Object.keys(raw)
    .filter((key) => !PROFILE_KEYS.includes(key))
    .map((key) => ({ key, meant: likelyMeant(key, PROFILE_KEYS) }))
    .filter(({ meant }) => meant !== undefined)
    .map(({ key, meant }) => ({ key, message: `is not a profile key, so it is ignored (and kept in the file); did you mean ${meant}?` }));
}

/**
 * Validates a parsed profile document and builds the `Profile`. All problems are collected, each
 * with the field path (`profile.databases.settings`) and its position in the file.
 */
export function validateProfileDocument(
  doc: Document,
  lineCounter: LineCounter,
  file: string,
  context: ProfileValidationContext,
): { profile?: Profile; issues: Issue[]; warnings: Issue[] } {
  const issues: Issue[] = [];
  const report = (fieldPath: (string | number)[], message: string): void => {
    issues.push({ file, field: fieldPath.join('.'), message, ...positionOf(doc, lineCounter, fieldPath) });
  };
  const plain = plainData(doc, lineCounter, file);
  if ('issue' in plain) return { issues: [plain.issue], warnings: [] };
  const root = plain.data;
  if (!isRecord(root) || !isRecord(root.profile)) {
    // What it holds instead (before: the same sentence for a list, a lost "profile:" line and bytes of no text).
    const instead = !isRecord(root) ? `but it holds ${yamlValueInWords(root)}` : !('profile' in root) ? `but it has no "profile:" key${Object.keys(root).length > 0 ? ` (its keys: ${Object.keys(root).slice(0, 5).join(', ')})` : ''}` : `but "profile:" holds ${yamlValueInWords(root.profile)}`;
    report(['profile'], `the file must contain a "profile:" mapping (see the profile template), ${instead}`);
    return { issues, warnings: [] };
  }
  const raw = root.profile;

  const id = stringField(raw, 'id', report, true);
  if (id !== undefined) {
    const problem = profileIdProblem(id);
    if (problem) report(['profile', 'id'], problem);
    else if (context.expectedId !== undefined && id !== context.expectedId) {
      report(['profile', 'id'], `"${id}" does not match the file name (${context.expectedId}.yaml); rename the file or fix the id`);
    }
  }
  const name = stringField(raw, 'name', report, true);
  const nameProblem = name === undefined ? undefined : profileNameProblem(name);
  if (nameProblem) report(['profile', 'name'], nameProblem);
  const typeText = stringField(raw, 'type', report, true);
  let type: ProfileType | undefined;
  if (typeText !== undefined) {
    type = PROFILE_TYPES.find((t) => t === typeText.toUpperCase());
    if (!type) report(['profile', 'type'], `"${typeText}" is not a profile type; use one of ${PROFILE_TYPES.join(', ')}`);
  }
  const createdAt = stringField(raw, 'created_at', report, false);
  if (createdAt !== undefined && Number.isNaN(Date.parse(createdAt))) {
    report(['profile', 'created_at'], `"${createdAt}" is not a date and time (use ISO 8601, e.g. 2025-08-08T20:00:00Z)`);
  }
  const description = stringField(raw, 'description', report, false);
  let isProtectedFlag = false;
  if (raw.protected !== undefined) {
    if (typeof raw.protected !== 'boolean') report(['profile', 'protected'], `must be true or false${writtenAsText(raw.protected, 'boolean')}`);
    else isProtectedFlag = raw.protected;
  }

  const databases = validateDatabases(raw.databases, report, context, id);
  const configurations = validateConfigurations(raw.configurations, report);
  const files = validateFiles(raw.files, databases, report, context, id);
  // Names as listed, valid paths or not: a database whose path is refused is still one of the profile's.
  const requiredTables = validateSchema(raw.schema, isRecord(raw.databases) ? Object.keys(raw.databases) : [], report);
  const backupSchedule = validateBackupSchedule(raw.backup_schedule, report);

  // Problems that leave the profile usable: shown (Problems panel, validate, prune), never refused.
  const warning = (fieldPath: string[], message: string): Issue => ({ file, field: fieldPath.join('.'), message, ...keyPositionOf(doc, lineCounter, fieldPath) });
  const warnings = [
    ...misspeltProfileKeys(raw).map(({ key, message }) => warning(['profile', key], message)),
    ...backupScheduleWarnings(backupSchedule).map(({ key, message }) => warning(['profile', 'backup_schedule', key], message)),
    // A database in files: is copied byte for byte, not snapshotted: whole only while nothing writes it.
    ...files.flatMap((written, index) => (isSqliteDatabaseFile(realLocation(resolveWritten(context.workspaceRoot, written)))
      ? [warning(['profile', 'files', String(index)], `"${written}" is a SQLite database: as a file it is copied byte for byte, which is a consistent copy only while nothing writes it; list it under databases: to have it snapshotted as one committed state`)]
      : [])),
    ...caseTwinsOf(id, context.profileIds).map((twin) => warning(['profile', 'id'], `"${id}" differs from the profile "${twin}" only in case: on a disk that does not tell case apart (macOS, Windows, a FAT or exFAT stick) the two are one profile file, and their backups share one folder. Give one of them another id: envprofiles clone ${id} <new-id>, back the clone up, then delete ${id}`)),
  ];
  if (issues.length > 0 || id === undefined || name === undefined || type === undefined) return { issues, warnings };
  return {
    issues,
    warnings,
    profile: {
      id,
      name,
      type,
      createdAt,
      description,
      protected: type === 'PRODUCTION' || isProtectedFlag,
      databases,
      configurations,
      files,
      requiredTables,
      backupSchedule,
    },
  };
}

type Report = (fieldPath: (string | number)[], message: string) => void;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(raw: Record<string, unknown>, key: string, report: Report, required: boolean): string | undefined {
  const value = raw[key];
  if (value === undefined || value === null) {
    if (required) report(['profile', key], `is missing; add "${key}:" under "profile:"`);
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    report(['profile', key], 'must be a non-empty text value');
    return undefined;
  }
  return value;
}

function validateDatabases(value: unknown, report: Report, context: ProfileValidationContext, profileId: string | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (value === undefined || value === null) {
    report(['profile', 'databases'], 'is missing; list at least one database as "name: path/to/file.sqlite3"');
    return result;
  }
  if (!isRecord(value)) {
    report(['profile', 'databases'], 'must be a mapping of logical name to SQLite file path');
    return result;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) report(['profile', 'databases'], 'is empty; list at least one database');
  if (entries.length > MAX_PROFILE_DATABASES) report(['profile', 'databases'], `lists ${entries.length} databases, more than a backup may hold (at most ${MAX_PROFILE_DATABASES}); split them over several profiles`);
  const seenPaths = new Map<string, string>();
  const seenUpper = new Map<string, string>();
  for (const [logical, written] of entries) {
    const field = ['profile', 'databases', logical];
    const nameProblem = databaseNameProblem(logical);
    if (nameProblem) {
      report(field, nameProblem);
      continue;
    }
    const upper = logical.toUpperCase();
    if (seenUpper.has(upper)) report(field, `"${logical}" and "${seenUpper.get(upper)}" would both become ENVPROFILE_DB_${upper}`);
    seenUpper.set(upper, logical);
    if (typeof written !== 'string') {
      report(field, 'must be a file path (text)');
      continue;
    }
    const verdict = checkProfilePath(context.workspaceRoot, written, context.allowedDirectories);
    if (!verdict.ok) {
      report(field, verdict.outside ? `${verdict.reason}; keep databases inside the workspace or allow the directory under "allowed_directories" in .envprofiles/config.yaml` : verdict.reason);
      continue;
    }
    const amongBackups = inBackupsFolder(written, verdict, context, profileId);
    if (amongBackups) {
      report(field, amongBackups);
      continue;
    }
    // By where the path leads: one file under two names (a folder reached through a symbolic link) was
    // snapshotted twice, and a restore then replaced it twice and could not roll the second back.
    const other = seenPaths.get(verdict.real);
    if (other) report(field, `uses the same file as "${other}"${verdict.real !== verdict.absolute ? ` (it leads to ${verdict.real} through a symbolic link)` : ''}`);
    seenPaths.set(verdict.real, logical);
    result[logical] = written;
  }
  return result;
}

function validateConfigurations(value: unknown, report: Report): Record<string, ConfigValue> {
  const result: Record<string, ConfigValue> = {};
  if (value === undefined || value === null) return result;
  if (!isRecord(value)) {
    report(['profile', 'configurations'], 'must be a mapping of KEY: value');
    return result;
  }
  const seenUpper = new Map<string, string>();
  for (const [key, item] of Object.entries(value)) {
    const field = ['profile', 'configurations', key];
    if (!isEnvironmentVariableName(key)) {
      report(field, `"${key}" cannot be an environment variable name: use letters, digits and "_", not starting with a digit`);
      continue;
    }
    const upper = key.toUpperCase();
    if (upper.startsWith('ENVPROFILE_')) report(field, `"${key}" uses the reserved prefix ENVPROFILE_`);
    if (seenUpper.has(upper)) report(field, `"${key}" and "${seenUpper.get(upper)}" would both become ${upper}`);
    seenUpper.set(upper, key);
    if (typeof item === 'string' || typeof item === 'boolean' || (typeof item === 'number' && Number.isFinite(item))) {
      result[key] = item;
    } else {
      report(field, 'must be a text, number or true/false value (not a list, mapping or empty value)');
    }
  }
  return result;
}

/**
 * `files:` entries: paths as for databases, each file once, and none that this tool backs up or writes
 * otherwise. A file listed twice (`app.yaml`, `./app.yaml`), or the generated env file listed too, went
 * into the archive twice under one entry name, and the backup then failed its own verify ("appears
 * twice"); a database listed here would be copied as a plain file, not a consistent snapshot, and put
 * back over the database by a restore.
 */
function validateFiles(value: unknown, databases: Record<string, string>, report: Report, context: ProfileValidationContext, profileId: string | undefined): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    report(['profile', 'files'], 'must be a list of file paths');
    return [];
  }
  if (value.length > MAX_PROFILE_FILES) report(['profile', 'files'], `lists ${value.length} files, more than a backup may hold (at most ${MAX_PROFILE_FILES}); list the configuration files the environment needs, not whole folders of data`);
  const resolve = (written: string): string => resolveWritten(context.workspaceRoot, written);
  const databaseFiles = new Set(Object.values(databases).map((written) => realLocation(resolve(written))));
  const taken = new Map<string, string>();
  for (const [logical, written] of Object.entries(databases)) {
    const database = `the database "${logical}" of this profile, which is backed up as a consistent SQLite snapshot; remove it from files:`;
    taken.set(resolve(written), database);
    taken.set(realLocation(resolve(written)), database);
  }
  for (const { written, setting } of context.outputs ?? []) taken.set(resolve(written), `written by this tool on every switch (${setting} in .envprofiles/config.yaml)${setting === 'outputs.env_file' ? ', and backed up with the profile it was generated for' : ''}; remove it from files:`);
  const result: string[] = [];
  value.forEach((item, index) => {
    if (typeof item !== 'string') {
      report(['profile', 'files', index], 'must be a file path (text)');
      return;
    }
    const verdict = checkProfilePath(context.workspaceRoot, item, context.allowedDirectories);
    if (!verdict.ok) {
      report(['profile', 'files', index], verdict.reason);
      return;
    }
    const amongBackups = inBackupsFolder(item, verdict, context, profileId) ?? sqliteCompanionProblem(item, verdict.real, databaseFiles);
    if (amongBackups) {
      report(['profile', 'files', index], amongBackups);
      return;
    }
    // Also by where it leads: the same file reached through a folder that is a symbolic link.
    const other = taken.get(verdict.absolute) ?? taken.get(verdict.real);
    if (other) {
      report(['profile', 'files', index], `"${item}" is ${other}`);
      return;
    }
    const listed = `listed already (files[${index}] is the same file); list each file once`;
    taken.set(verdict.absolute, listed);
    taken.set(verdict.real, listed);
    result.push(item);
  });
  return result;
}

/**
 * Why a file of `files:` (`real`: where it leads) may not be listed when it is the -wal, -shm or
 * -journal of a SQLite database (one of the profile's, `databaseFiles`, or any database there): SQLite
 * manages it. A backup takes the committed data with the database's snapshot; copied as a plain file
 * and put back by a restore, old frames or an old journal beside a newer database would corrupt it.
 */
function sqliteCompanionProblem(written: string, real: string, databaseFiles: ReadonlySet<string>): string | undefined {
  const companion = /-(wal|shm|journal)$/.exec(real);
  if (!companion) return undefined;
  const database = real.slice(0, -companion[0].length);
  if (!databaseFiles.has(database) && !isSqliteDatabaseFile(database)) return undefined;
  const shown = written.endsWith(companion[0]) ? written.slice(0, -companion[0].length) : database;
  return `"${written}" is the -${companion[1]} file of the SQLite database ${shown}, which SQLite manages (a backup takes its committed data with the database; put back by a restore, it would damage the database); remove it from files:`;
}

function validateSchema(value: unknown, databaseNames: readonly string[], report: Report): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  if (value === undefined || value === null) return result;
  if (!isRecord(value)) {
    report(['profile', 'schema'], 'must be a mapping (e.g. "required_tables:")');
    return result;
  }
  const required = value.required_tables;
  if (required === undefined || required === null) return result;
  if (!isRecord(required)) {
    report(['profile', 'schema', 'required_tables'], 'must map a database name to a list of table names');
    return result;
  }
  for (const [logical, tables] of Object.entries(required)) {
    const field = ['profile', 'schema', 'required_tables', logical];
    if (!databaseNames.includes(logical)) report(field, `"${logical}" is not one of this profile's databases`);
    if (!Array.isArray(tables) || tables.some((t) => typeof t !== 'string')) {
      report(field, 'must be a list of table names');
      continue;
    }
    result[logical] = tables as string[];
  }
  return result;
}

function validateBackupSchedule(value: unknown, report: Report): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) {
    report(['profile', 'backup_schedule'], 'must be a mapping (frequency, time, retention_days)');
    return undefined;
  }
  const field = (key: string): (string | number)[] => ['profile', 'backup_schedule', key];
  if (value.frequency !== undefined && (typeof value.frequency !== 'string' || !FREQUENCIES.includes(value.frequency.toUpperCase()))) {
    report(field('frequency'), `must be one of ${FREQUENCIES.join(', ')}`);
  }
  if (value.time !== undefined && (typeof value.time !== 'string' || !/^([01]\d|2[0-3]):[0-5]\d$/.test(value.time))) {
    report(field('time'), 'must be a time of day as "HH:MM" (24-hour clock), quoted');
  }
  if (value.retention_days !== undefined && (!Number.isInteger(value.retention_days) || (value.retention_days as number) < 1)) {
    report(field('retention_days'), `must be a whole number of days, at least 1${writtenAsText(value.retention_days, 'number')}`);
  }
  if (value.before_switch !== undefined && typeof value.before_switch !== 'boolean') report(field('before_switch'), `must be true or false${writtenAsText(value.before_switch, 'boolean')}`);
  if (value.keep !== undefined) {
    if (!isRecord(value.keep)) report(field('keep'), 'must be a mapping such as {last: 5, daily: 7, weekly: 4}');
    else {
      for (const [rule, count] of Object.entries(value.keep)) {
        if (!KEEP_RULES.includes(rule)) {
          const meant = likelyMeant(rule, KEEP_RULES);
          report(['profile', 'backup_schedule', 'keep', rule], `is not a keep rule; ${meant ? `did you mean ${meant}? The rules are` : 'use'} ${KEEP_RULES.join(', ')}`);
        }
        else if (!Number.isInteger(count) || (count as number) < 0) report(['profile', 'backup_schedule', 'keep', rule], `must be a whole number, 0 or more${writtenAsText(count, 'number')}`);
      }
    }
  }
  return value;
}

/** The other ids among `ids` that differ from `id` only in case (made before create and clone refused them, or by hand). */
function caseTwinsOf(id: string | undefined, ids: readonly string[] | undefined): string[] {
  if (id === undefined || !ids) return [];
  const lower = id.toLowerCase();
  return ids.filter((other) => other !== id && other.toLowerCase() === lower);
}
