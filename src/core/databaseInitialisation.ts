import * as fs from 'node:fs';
import * as path from 'node:path';
import { commitNewFile, temporaryPathFor } from './atomicFile';
import type { ClaimNewFile } from './newProfileJournal';
import { lockedDatabaseError } from './databaseInUse';
import { EnvProfilesError } from './errors';
import { narrowPermissions, permissionsOf } from './filePermissions';
import { damagedDatabaseDetail, DatabaseLockedError, type SqliteEngine } from './sqlite/sqliteEngine';
import { databaseFileProblem, journalModeOf, readSqliteHeader } from './sqlite/sqliteHeader';
import { makeFolders } from './makeFolders';
import { DATABASE_FILE_SUFFIXES } from './sqlite/companionFiles';

/** How a new profile's databases come to exist (`shown`: the source as messages name it, e.g. as its profile writes it). */
export type DatabaseSeed = { kind: 'empty' } | { kind: 'schema' | 'copy'; from: string; shown?: string; profile?: string };

function removeWithCompanions(file: string): void {
  for (const suffix of DATABASE_FILE_SUFFIXES) fs.rmSync(`${file}${suffix}`, { force: true });
}

/**
 * Creates `target` (which must not exist) from `seed`, under a temporary name first, checking the
 * result before it is renamed into place. A copy uses the SQLite backup API: a committed state of the
 * source even while the application writes to it (`rolledBackJournal`: the source's hot journal was
 * rolled back first, see `SqliteEngine.snapshot`).
 */
export async function createDatabase(engine: SqliteEngine, seed: DatabaseSeed, target: string, label: string, claim?: ClaimNewFile): Promise<{ rolledBackJournal: boolean }> {
  if (fs.existsSync(target)) {
    throw new EnvProfilesError('TARGET_EXISTS', `${label} already exists; it would be overwritten.`, { kind: 'refused', file: label, hint: 'Choose another id or data folder, or move the file away.' });
  }
  if (seed.kind !== 'empty') {
    const exists = fs.existsSync(seed.from);
    const problem = exists ? databaseFileProblem(seed.from) : 'does not exist';
    // Before, the hint said to run "envprofiles validate", which without a profile id is a usage error.
    const source = seed.profile ?? 'the source profile';
    const validate = seed.profile ? ` ("envprofiles validate ${seed.profile}" says ${exists ? 'what is wrong' : 'which backup holds it'})` : '';
    const hint = exists ? `Restore that database from a backup, or fix the path in ${source}${validate}.` : `Fix the path in ${source}, or restore that database from a backup${validate}.`;
    if (problem) throw new EnvProfilesError(exists ? 'DATABASE_INVALID' : 'DATABASE_MISSING', `${seed.shown ?? seed.from} ${problem}, so ${label} cannot be made from it.`, { file: seed.shown ?? seed.from, hint });
  }
  makeFolders(path.dirname(target));
  const temp = temporaryPathFor(target);
  let rolledBackJournal = false;
  try {
    if (seed.kind === 'copy') ({ rolledBackJournal } = await engine.snapshot(seed.from, temp));
    else if (seed.kind === 'schema') copySchema(engine, seed.from, temp);
    else createEmpty(engine, temp, 'wal');
    checkCreated(engine, temp, label);
    // A copy is never readable by more people than its source (a database of credentials stays private).
    if (seed.kind !== 'empty') narrowPermissions(temp, permissionsOf(seed.from));
    claim?.(temp, target);
    // Never over a file made at that path while this one was made (by hand, or an application started with it).
    if (!commitNewFile(temp, target)) throw madeMeanwhileError(label);
  } catch (error) {
    removeWithCompanions(temp);
    if (error instanceof DatabaseLockedError) throw lockedDatabaseError(seed.kind === 'empty' ? label : (seed.shown ?? seed.from), error.file, `making ${label} from it`);
    const damage = damagedDatabaseDetail(error);
    if (damage && seed.kind !== 'empty') throw new EnvProfilesError('DATABASE_INVALID', `${seed.shown ?? seed.from} is damaged (${damage}), so ${label} cannot be made from it; nothing was written.`, { file: seed.shown ?? seed.from, cause: error, hint: `Restore that database from a backup first ("envprofiles backups ${seed.profile ?? '<profile>'}" lists them; "envprofiles restore <backup-id> --db <name>" restores only it), then try again.` });
    throw error;
  }
  return { rolledBackJournal };
}

function createEmpty(engine: SqliteEngine, file: string, journalMode: 'wal' | 'delete', pageSize?: number, userVersion?: number): void {
  const db = engine.open(file, { readOnly: false, create: true });
  try {
    if (pageSize) db.exec(`PRAGMA page_size = ${pageSize}`);
    db.exec(`PRAGMA user_version = ${userVersion ?? 0}`);
    // A table created and dropped makes SQLite write page 1, so the file is a real database, not 0 bytes.
    db.exec('CREATE TABLE envprofiles_init (x); DROP TABLE envprofiles_init;');
    if (journalMode === 'wal' && engine.name === 'node:sqlite') db.exec('PRAGMA journal_mode = WAL');
  } finally {
    db.close();
  }
}

/** Creates an empty database with the same tables, indexes, triggers and views as `source`. */
function copySchema(engine: SqliteEngine, source: string, file: string): void {
  const header = readSqliteHeader(source);
  const src = engine.open(source, { readOnly: true });
  let statements: string[];
  try {
    statements = src
      .all("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid")
      .map((row) => String(row.sql));
  } finally {
    src.close();
  }
  createEmpty(engine, file, header ? journalModeOf(header) : 'delete', header?.pageSize, header?.userVersion);
  const db = engine.open(file, { readOnly: false });
  try {
    db.exec('BEGIN');
    for (const statement of statements) db.exec(statement);
    db.exec('COMMIT');
  } finally {
    db.close();
  }
}

/** Runs quick_check on the new file; opened read-write so that closing it checkpoints and removes its -wal. */
function checkCreated(engine: SqliteEngine, file: string, label: string): void {
  const db = engine.open(file, { readOnly: false });
  try {
    const result = db.all('PRAGMA quick_check');
    const first = String(Object.values(result[0] ?? {})[0]);
    if (first !== 'ok') throw new EnvProfilesError('DATABASE_INVALID', `The new copy of ${label} failed quick_check: ${first}.`, { file: label, hint: 'Check the source database with "envprofiles validate --full".' });
  } finally {
    db.close();
  }
}

/** A file that appeared where a new database was being made: it is someone's, left as it is. */
export function madeMeanwhileError(label: string): EnvProfilesError {
  return new EnvProfilesError('TARGET_EXISTS', `${label} was made by something else while this operation was making it there, so it was left as it is and the operation was undone.`, {
    kind: 'refused',
    file: label,
    hint: 'Find out what made it (an application started with that path?), then choose another id or data folder, or move that file away and try again.',
  });
}
