import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createBackup } from '../../src/core/backup/backupCreation';
import type { BackupResult } from '../../src/core/backup/backupRequest';
import { restoreBackup } from '../../src/core/backup/backupRestore';
import type { WorkspaceContext } from '../../src/core/workspaceContext';
import { demoWorkspace, engine, listFilesInProfile } from './workspaces';

export const FUZZED_PROFILE = 'dev_environment_001';
export const FUZZED_DATABASES = ['settings', 'strategies', 'market_data'];

/** A demo workspace whose dev profile lists two files, with a full and an incremental backup of it, and what each restores to. */
export interface FuzzedBackups {
  root: string;
  context: WorkspaceContext;
  full: BackupResult;
  incremental: BackupResult;
  /** By archive: each database's bytes as the undamaged backup restores them. */
  databasesOf: Map<string, Map<string, Buffer>>;
  /** By archive: each file of files: as it was backed up. */
  filesOf: Map<string, Map<string, Buffer>>;
  /** With `withEmergency`: a full backup that kept strategies, damaged then, as found (a raw copy, which no restore writes back). */
  emergency?: BackupResult;
}

/** The database the emergency backup keeps as found, and the bytes it was damaged to. */
export const KEPT_AS_FOUND = 'strategies';

/**
 * The backups the randomised tests damage: between the two, market_data changed and one file of
 * `files:` changed (so the incremental holds it) while the other did not (so it refers to the full's).
 */
export async function fuzzedBackups(withEmergency = false): Promise<FuzzedBackups> {
  const { root, context } = await demoWorkspace(400);
  const configFiles = { changed: 'config/app.json', unchanged: 'config/notes.txt' };
  fs.mkdirSync(path.join(root, 'config'));
  fs.writeFileSync(path.join(root, configFiles.changed), JSON.stringify({ mode: 'full', list: Array.from({ length: 300 }, (_, i) => i) }));
  fs.writeFileSync(path.join(root, configFiles.unchanged), 'notes\n'.repeat(2000));
  listFilesInProfile(root, FUZZED_PROFILE, Object.values(configFiles));
  const readFiles = (): Map<string, Buffer> => new Map(Object.values(configFiles).map((file) => [file, fs.readFileSync(path.join(root, file))]));
  const full = await createBackup(context, { profileId: FUZZED_PROFILE, kind: 'full' });
  const filesAtFull = readFiles();
  const connection = (await engine()).open(path.join(root, 'data/dev/market_data.sqlite3'), { readOnly: false });
  connection.exec('UPDATE price_data SET close = close * 1.01 WHERE rowid % 9 = 0');
  connection.close();
  fs.writeFileSync(path.join(root, configFiles.changed), JSON.stringify({ mode: 'incremental', list: Array.from({ length: 300 }, (_, i) => -i) }));
  const incremental = await createBackup(context, { profileId: FUZZED_PROFILE, kind: 'incremental' });
  assert.equal(incremental.entry.kind, 'incremental');
  const filesOf = new Map([[full.archive, filesAtFull], [incremental.archive, readFiles()]]);
  const emergency = withEmergency ? await emergencyBackup(root, context) : undefined;
  if (emergency) filesOf.set(emergency.archive, readFiles());
  const databasesOf = new Map<string, Map<string, Buffer>>();
  for (const [backup, id] of [[full, 'reference_full'], [incremental, 'reference_incremental'], ...(emergency ? [[emergency, 'reference_emergency'] as const] : [])] as const) {
    await restoreBackup(context, { reference: backup.archive, asNew: id });
    const held = FUZZED_DATABASES.filter((name) => backup !== emergency || name !== KEPT_AS_FOUND);
    databasesOf.set(backup.archive, new Map(held.map((name) => [name, fs.readFileSync(path.join(root, 'data', id, `${name}.sqlite3`))])));
  }
  assert.notDeepEqual(databasesOf.get(full.archive)?.get('market_data'), databasesOf.get(incremental.archive)?.get('market_data'), 'the incremental holds other data');
  return { root, context, full, incremental, databasesOf, filesOf, ...(emergency ? { emergency } : {}) };
}

/** What the comparisons of the tree leave out: the backups folder (safety backups go there), SQLite's companions, the audit log. */
export const notCompared = (rel: string): boolean => rel.startsWith(path.join('.envprofiles', 'backups')) || rel.endsWith('-shm') || rel.endsWith('-wal') || rel.endsWith('audit.jsonl');

/**
 * A full backup taken while strategies was damaged (its header scribbled over), kept as found, as the
 * emergency backup does; the database is put back as it was afterwards.
 */
async function emergencyBackup(root: string, context: WorkspaceContext): Promise<BackupResult> {
  const file = path.join(root, 'data/dev', `${KEPT_AS_FOUND}.sqlite3`);
  const sound = fs.readFileSync(file);
  fs.writeFileSync(file, Buffer.concat([Buffer.from('scribbled over!!'), sound.subarray(16)]));
  const emergency = await createBackup(context, { profileId: FUZZED_PROFILE, kind: 'full', reason: 'emergency', keepDamaged: true });
  assert.deepEqual(emergency.entry.leftOut, [KEPT_AS_FOUND]);
  fs.writeFileSync(file, sound);
  return emergency;
}
