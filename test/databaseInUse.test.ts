import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCatalog } from '../src/core/backup/backupCatalog';
import { createBackup } from '../src/core/backup/backupCreation';
import { BackupLayout } from '../src/core/backup/backupLayout';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { verifyBackup } from '../src/core/backup/backupVerification';
import { EnvProfilesError } from '../src/core/errors';
import { blockingPause } from '../src/core/blockingPause';
import { BRIEF_OPEN_MS } from '../src/core/databaseInUse';
import { processesHolding } from '../src/core/openFileHolders';
import { cloneProfile } from '../src/core/profileClone';
import { deleteProfile } from '../src/core/profileDeletion';
import { defaultConfig } from '../src/core/workspaceConfig';
import type { SqliteConnection } from '../src/core/sqlite/sqliteEngine';
import type { WorkspaceContext } from '../src/core/workspaceContext';
import { runCli } from './support/cliRunner';
import { demoWorkspace, engine, pastLastWrite, snapshotTree, tempDir, temporaryFiles } from './support/workspaces';

const DEV = 'dev_environment_001';
const MARKET = 'data/dev/market_data.sqlite3';

/**
 * Another process with a connection to `file` (a real `node:sqlite` connection, as the application
 * has): it reads once, then stays idle until it is killed. `inTransaction` keeps a read transaction open;
 * `forMs` closes it then (after a write, with `writeBeforeClosing`) and exits.
 */
function holdOpen(file: string, inTransaction = false, forMs?: number, writeBeforeClosing = false): Promise<ChildProcess> {
  const write = writeBeforeClosing ? "db.exec('CREATE TABLE written_before_closing (x)');" : '';
  const script = `const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(${JSON.stringify(file)});
${inTransaction ? "db.exec('BEGIN');" : ''}
db.prepare('SELECT count(*) FROM sqlite_schema').get();
process.stdout.write('ready\\n');
${forMs === undefined ? 'setInterval(() => {}, 60000);' : `setTimeout(() => { ${write} db.close(); process.exit(0); }, ${forMs});`}`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`the holding process exited early (${code})`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function isInUse(pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof EnvProfilesError, String(error));
    assert.equal(error.code, 'DATABASE_IN_USE');
    assert.equal(error.kind, 'refused');
    assert.match(error.message, pattern);
    return true;
  };
}

function backupCount(context: WorkspaceContext, profileId: string): number {
  return readCatalog(new BackupLayout(context.layout, defaultConfig()), profileId).length;
}

/**
 * The workspace's files and their bytes, without the audit log (a refusal is recorded there), the
 * workspace lock, and the -wal and -shm files that connections create and remove as they come and go.
 */
function workspaceFiles(root: string): Record<string, string> {
  return snapshotTree(root, (rel) => rel === '.envprofiles/lock' || /-(wal|shm)$/.test(rel));
}

/** Which files differ between two `workspaceFiles` (an assertion message that does not print megabytes of content). */
function differingFiles(after: Record<string, string>, before: Record<string, string>): string[] {
  return [...new Set([...Object.keys(after), ...Object.keys(before)])].filter((rel) => after[rel] !== before[rel]);
}

describe('a database another program has open is never replaced or deleted under it', () => {
  it('restore is refused while the application has a WAL database open (idle), and names it; nothing changes, no safety backup is taken', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV });
    const holder = await holdOpen(path.join(root, MARKET));
    try {
      const before = workspaceFiles(root);
      const backups = backupCount(context, DEV);
      await assert.rejects(restoreBackup(context, { reference: backup.entry.id }), isInUse(new RegExp(`market_data \\(${MARKET}\\) is open in another program: node \\(pid ${holder.pid}\\)`)));
      assert.deepEqual(differingFiles(workspaceFiles(root), before), []);
      assert.equal(backupCount(context, DEV), backups, 'no safety backup before the refusal');
      // The CLI: exit 3 (refused), the code, and what to do.
      const cli = runCli(['restore', backup.entry.id, '--workspace', root]);
      assert.equal(cli.status, 3, cli.stderr);
      assert.match(cli.stderr, /error\[DATABASE_IN_USE\][\s\S]*Stop the application/);
    } finally {
      await stop(holder);
    }
    await restoreBackup(context, { reference: backup.entry.id });
    assert.deepEqual(temporaryFiles(root), []);
  });

  it('an idle connection to a rollback-journal database holds no lock: the open files of the process find it (Linux)', async () => {
    const { root, context } = await demoWorkspace();
    const file = path.join(root, MARKET);
    if (process.platform !== 'linux') {
      // Only Linux lists every process's open files; elsewhere only SQLite's locks are seen.
      assert.equal(processesHolding([file]), undefined);
      return;
    }
    const db = (await engine()).open(file, { readOnly: false });
    db.exec('PRAGMA journal_mode = DELETE');
    db.close();
    const backup = await createBackup(context, { profileId: DEV });
    const holder = await holdOpen(file);
    try {
      assert.equal(context.engine.isOpenElsewhere(file), false, "SQLite's locks cannot see this one");
      assert.deepEqual(processesHolding([file]), [{ pid: holder.pid, command: 'node' }]);
      await assert.rejects(restoreBackup(context, { reference: backup.entry.id, database: 'market_data' }), isInUse(new RegExp(`pid ${holder.pid}`)));
    } finally {
      await stop(holder);
    }
    assert.deepEqual(processesHolding([file]), []);
    assert.equal(context.engine.isOpenElsewhere(file), false);
  });

  it("SQLite's locks see a connection of any process: an open transaction in rollback mode, any connection in WAL mode, one in this process", async () => {
    const { root } = await demoWorkspace();
    const sqlite = await engine();
    const wal = path.join(root, MARKET);
    const rollback = path.join(root, 'data/dev/settings.sqlite3');
    const db = sqlite.open(rollback, { readOnly: false });
    db.exec('PRAGMA journal_mode = DELETE');
    db.close();
    assert.equal(sqlite.isOpenElsewhere(wal), false);
    assert.equal(sqlite.isOpenElsewhere(rollback), false);
    assert.equal(sqlite.isOpenElsewhere(path.join(root, 'data/dev/none.sqlite3')), false, 'a missing file');
    assert.ok(!fs.existsSync(path.join(root, 'data/dev/none.sqlite3')), 'the probe creates nothing');
    fs.writeFileSync(path.join(root, 'data/dev/text.sqlite3'), 'not a database '.repeat(100));
    assert.equal(sqlite.isOpenElsewhere(path.join(root, 'data/dev/text.sqlite3')), undefined, 'cannot tell for a file that is not a database');
    const holders = [await holdOpen(wal), await holdOpen(rollback, true)];
    try {
      assert.equal(sqlite.isOpenElsewhere(wal), true);
      assert.equal(sqlite.isOpenElsewhere(rollback), true);
    } finally {
      await Promise.all(holders.map(stop));
    }
    const own = sqlite.open(wal, { readOnly: true });
    own.all('SELECT count(*) FROM sqlite_schema');
    try {
      assert.equal(sqlite.isOpenElsewhere(wal), true, 'a connection of this very process');
    } finally {
      own.close();
    }
    assert.equal((await engine('sql.js')).isOpenElsewhere(wal), undefined, 'sql.js takes no locks, so it cannot tell');
  });

  it('the application started while the backup was being rebuilt: checked again before the swap, rolled back, nothing changed', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV });
    const before = workspaceFiles(root);
    let started: SqliteConnection | undefined;
    const late: WorkspaceContext = {
      ...context,
      onStep: (step) => {
        // A connection of this process: the open-files scan leaves it out, SQLite's locks see it.
        if (step === 'rebuilt:market_data' && !started) {
          started = context.engine.open(path.join(root, MARKET), { readOnly: false });
          started.all('SELECT count(*) FROM price_data');
        }
      },
    };
    try {
      await assert.rejects(restoreBackup(late, { reference: backup.entry.id }), isInUse(/market_data \(data\/dev\/market_data\.sqlite3\) is open in another connection \(SQLite reports it locked\)/));
    } finally {
      started?.close();
    }
    const after = workspaceFiles(root);
    // The safety backup was taken before the application started; everything else is as it was.
    const added = Object.keys(after).filter((rel) => !(rel in before));
    assert.ok(added.every((rel) => rel.startsWith(`.envprofiles/backups/${DEV}/`)), added.join(', '));
    assert.deepEqual(differingFiles(after, before).filter((rel) => !rel.startsWith('.envprofiles/backups/')), []);
    assert.deepEqual(temporaryFiles(root), []);
    assert.ok(!fs.existsSync(path.join(root, '.envprofiles/journal/restore-dev_environment_001.json')));
  });

  it('a restore over a WAL database that nothing has open leaves no -wal of the old file beside the new one', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV });
    // A writer that stopped without closing leaves a -wal with committed frames.
    const writer = spawn(process.execPath, ['-e', `const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(${JSON.stringify(path.join(root, MARKET))});
db.exec('PRAGMA wal_autocheckpoint = 0');
db.exec('DELETE FROM price_data');
process.kill(process.pid, 'SIGKILL');`]);
    await new Promise((resolve) => writer.once('exit', resolve));
    assert.ok(fs.statSync(path.join(root, `${MARKET}-wal`)).size > 0, 'the writer left its -wal');
    await restoreBackup(context, { reference: backup.entry.id });
    assert.ok(!fs.existsSync(path.join(root, `${MARKET}-wal`)) || fs.statSync(path.join(root, `${MARKET}-wal`)).size === 0, 'no old -wal beside the restored file');
    const db = (await engine()).open(path.join(root, MARKET), { readOnly: true });
    assert.ok(Number(db.all('SELECT count(*) AS n FROM price_data')[0].n) > 0, 'the restored rows');
    assert.equal(db.all('PRAGMA integrity_check')[0].integrity_check, 'ok');
    db.close();
    assert.deepEqual(temporaryFiles(root), []);
  });

  it('delete --delete-data is refused while the application has a database open; without it the profile goes and the data stays', async () => {
    const { root, context } = await demoWorkspace();
    const id = 'test_environment_001';
    await pastLastWrite();
    const backup = await createBackup(context, { profileId: id });
    await verifyBackup(context, backup.entry.id);
    const holder = await holdOpen(path.join(root, 'data/test/strategies.sqlite3'));
    try {
      const before = workspaceFiles(root);
      await assert.rejects(deleteProfile(context, { id, deleteData: true }), isInUse(/strategies \(data\/test\/strategies\.sqlite3\) is open in another program[\s\S]*deleting test_environment_001 with its data was refused/));
      assert.deepEqual(differingFiles(workspaceFiles(root), before), []);
      await deleteProfile(context, { id });
    } finally {
      await stop(holder);
    }
    assert.ok(!fs.existsSync(path.join(root, `.envprofiles/profiles/${id}.yaml`)));
    assert.ok(fs.existsSync(path.join(root, 'data/test/strategies.sqlite3')));
  });
});

describe('a database open only for a moment is not taken for an application that has it open', () => {
  // VS Code's tree validates an expanded profile when the restore's safety backup changes the catalog:
  // it opens each database, reads, and closes. Beside a process doing just that, 2 CLI restores in 60
  // were refused as DATABASE_IN_USE. A database seen open is looked at again (up to BRIEF_OPEN_MS).
  it('a connection of this process open for 300 ms when the restore checks before its swaps: the restore goes on, and puts back the backup', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV });
    const sizeAtBackup = fs.statSync(path.join(root, MARKET)).size;
    const changer = context.engine.open(path.join(root, MARKET), { readOnly: false });
    changer.exec('CREATE TABLE added_after_the_backup (x)');
    changer.close();
    let glance: SqliteConnection | undefined;
    const glancing: WorkspaceContext = {
      ...context,
      onStep: (step) => {
        // Seen by SQLite's locks (the open-files scan leaves this process out), then closed.
        if (step === 'rebuilt:market_data' && !glance) {
          const connection = context.engine.open(path.join(root, MARKET), { readOnly: true });
          connection.all('SELECT count(*) FROM sqlite_schema');
          glance = connection;
          setTimeout(() => connection.close(), 300);
        }
      },
    };
    const started = Date.now();
    await restoreBackup(glancing, { reference: backup.entry.id });
    assert.ok(glance, 'the connection was opened during the restore');
    assert.ok(Date.now() - started >= 300, 'the restore waited for it to close');
    const restored = context.engine.open(path.join(root, MARKET), { readOnly: true });
    try {
      assert.deepEqual(restored.all("SELECT name FROM sqlite_schema WHERE name = 'added_after_the_backup'"), []);
    } finally {
      restored.close();
    }
    assert.equal(fs.statSync(path.join(root, MARKET)).size, sizeAtBackup);
    assert.deepEqual(temporaryFiles(root), []);
  });

  it('another program with an idle rollback-journal database open for 500 ms (seen only in its open files): delete --delete-data goes on; one that keeps it open is refused after BRIEF_OPEN_MS', async () => {
    if (process.platform !== 'linux') return; // only Linux lists every process's open files
    const { root, context } = await demoWorkspace();
    const id = 'test_environment_001';
    const file = path.join(root, 'data/test/settings.sqlite3');
    const db = (await engine()).open(file, { readOnly: false });
    db.exec('PRAGMA journal_mode = DELETE');
    db.close();
    await pastLastWrite();
    const backup = await createBackup(context, { profileId: id });
    await verifyBackup(context, backup.entry.id);
    const keeper = await holdOpen(file);
    const refusedAt = Date.now();
    try {
      await assert.rejects(deleteProfile(context, { id, deleteData: true }), isInUse(new RegExp(`pid ${keeper.pid}`)));
      assert.ok(Date.now() - refusedAt >= BRIEF_OPEN_MS, 'looked at again before refusing');
    } finally {
      await stop(keeper);
    }
    const glance = await holdOpen(file, false, 500);
    const exited = new Promise<void>((resolve) => glance.once('exit', () => resolve()));
    assert.deepEqual(processesHolding([file]), [{ pid: glance.pid, command: 'node' }], 'open when the delete starts');
    await deleteProfile(context, { id, deleteData: true });
    await exited;
    assert.ok(!fs.existsSync(file));
    assert.ok(!fs.existsSync(path.join(root, `.envprofiles/profiles/${id}.yaml`)));
  });

  it('a program that writes before it closes, while delete --delete-data looks again: that write is newer than the covering backup, so the delete is refused (NEEDS_BACKUP) and the data stays', async () => {
    const { root, context } = await demoWorkspace();
    const id = 'test_environment_001';
    const file = path.join(root, 'data/test/settings.sqlite3');
    await pastLastWrite();
    const backup = await createBackup(context, { profileId: id });
    await verifyBackup(context, backup.entry.id);
    await pastLastWrite();
    const writer = await holdOpen(file, false, 500, true);
    const exited = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
    await assert.rejects(deleteProfile(context, { id, deleteData: true }), (error: unknown) => error instanceof EnvProfilesError && error.code === 'NEEDS_BACKUP');
    await exited;
    const db = (await engine()).open(file, { readOnly: true });
    try {
      assert.equal(db.all("SELECT name FROM sqlite_schema WHERE name = 'written_before_closing'").length, 1);
    } finally {
      db.close();
    }
    assert.ok(fs.existsSync(path.join(root, `.envprofiles/profiles/${id}.yaml`)));
  });
});

/**
 * Another process that opens `file` when `trigger` appears, writes a row (1) into a table of its own
 * and says so in `${trigger}.done`; with `keepOpen` it then stays, and writes a second row (2) and
 * closes when `${trigger}.again` appears; without, it closes at once and exits.
 */
function openWhenTriggered(file: string, trigger: string, keepOpen: boolean): Promise<ChildProcess> {
  const script = `const fs = require('node:fs');
const { DatabaseSync } = require('node:sqlite');
const [file, trigger, keepOpen] = process.argv.slice(1);
const waitFor = (flag, then) => { const t = setInterval(() => { if (fs.existsSync(flag)) { clearInterval(t); then(); } }, 2); };
process.stdout.write('ready\\n');
waitFor(trigger, () => {
  const db = new DatabaseSync(file, { timeout: 5000 });
  db.exec('CREATE TABLE IF NOT EXISTS written_in_the_window (n); INSERT INTO written_in_the_window VALUES (1)');
  if (keepOpen !== 'keep') { db.close(); fs.writeFileSync(trigger + '.done', ''); process.exit(0); }
  fs.writeFileSync(trigger + '.done', '');
  waitFor(trigger + '.again', () => { db.exec('INSERT INTO written_in_the_window VALUES (2)'); db.close(); process.exit(0); });
});`;
  const child = spawn(process.execPath, ['-e', script, file, trigger, keepOpen ? 'keep' : 'close'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`the writing process exited early (${code})`)));
  });
}

/** Makes `trigger` and blocks (inside a synchronous step hook) until the process behind it has written. */
function triggerAndWait(trigger: string): void {
  fs.writeFileSync(trigger, '');
  const until = Date.now() + 10_000;
  while (!fs.existsSync(`${trigger}.done`) && Date.now() < until) blockingPause(5);
  assert.ok(fs.existsSync(`${trigger}.done`), 'the writing process wrote in time');
}

/** The rows of written_in_the_window in the database now at `file` ([] when there is no such table). */
async function rowsWrittenInTheWindow(file: string): Promise<number[]> {
  const db = (await engine()).open(file, { readOnly: true });
  try {
    if (db.all("SELECT 1 FROM sqlite_schema WHERE name = 'written_in_the_window'").length === 0) return [];
    return db.all('SELECT n FROM written_in_the_window ORDER BY n').map((row) => Number(row.n));
  } finally {
    db.close();
  }
}

describe('a program that opens a database after the last check, while a restore swaps the files or a delete sets them aside', () => {
  // The check before the swaps cannot see a program that opens the old file a moment later: its
  // writes would go to the old file, which the commit then deletes. The files it opened are looked at
  // again after the swaps (under the names they were set aside as), and the restore rolls back.
  it('one that writes and keeps its connection: the restore is rolled back, naming it, and what it wrote (then and after) is in the database', async function () {
    if (process.platform !== 'linux') this.skip(); // only Linux lists every process's open files
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV });
    const trigger = path.join(tempDir(), 'open-now');
    const writer = await openWhenTriggered(path.join(root, MARKET), trigger, true);
    const exited = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
    const opening: WorkspaceContext = { ...context, onStep: (step) => step === 'swapped:data/dev/settings.sqlite3' && triggerAndWait(trigger) };
    try {
      await assert.rejects(restoreBackup(opening, { reference: backup.entry.id }), isInUse(new RegExp(`market_data \\(data/dev/market_data\\.sqlite3\\) is open in another program: node \\(pid ${writer.pid}\\)[\\s\\S]*rolled back`)));
      fs.writeFileSync(`${trigger}.again`, '');
      await exited;
    } finally {
      writer.kill('SIGKILL');
    }
    assert.deepEqual(await rowsWrittenInTheWindow(path.join(root, MARKET)), [1, 2]);
    assert.deepEqual(temporaryFiles(root), []);
    assert.ok(!fs.existsSync(path.join(root, '.envprofiles/journal/restore-dev_environment_001.json')));
  });

  it('one that writes and closes at once: the restore is rolled back (the database was written since its safety backup), and the row is in the database', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV });
    const trigger = path.join(tempDir(), 'open-now');
    const writer = await openWhenTriggered(path.join(root, MARKET), trigger, false);
    const opening: WorkspaceContext = { ...context, onStep: (step) => step === 'swapped:data/dev/settings.sqlite3' && triggerAndWait(trigger) };
    try {

      await assert.rejects(restoreBackup(opening, { reference: backup.entry.id }), isInUse(/market_data \(data\/dev\/market_data\.sqlite3\) was written while the restore ran[\s\S]*rolled back/));
    } finally {
      writer.kill('SIGKILL');
    }
    assert.deepEqual(await rowsWrittenInTheWindow(path.join(root, MARKET)), [1]);
    assert.deepEqual(temporaryFiles(root), []);
  });

  for (const keepOpen of [true, false]) {
    it(`delete --delete-data, beside one that writes and ${keepOpen ? 'keeps its connection' : 'closes at once'} once the first database is aside: refused, every file put back, the row in the database`, async function () {
      if (keepOpen && process.platform !== 'linux') this.skip(); // only Linux lists every process's open files
      const { root, context } = await demoWorkspace();
      const id = 'test_environment_001';
      const market = path.join(root, 'data/test/market_data.sqlite3');
      await pastLastWrite();
      await verifyBackup(context, (await createBackup(context, { profileId: id })).entry.id);
      const trigger = path.join(tempDir(), 'open-now');
      const writer = await openWhenTriggered(market, trigger, keepOpen);
      const exited = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
      const opening: WorkspaceContext = { ...context, onStep: (step) => step === 'aside:settings' && triggerAndWait(trigger) };
      const said = keepOpen ? new RegExp(`market_data \\(data/test/market_data\\.sqlite3\\) is open in another program: node \\(pid ${writer.pid}\\)`) : /market_data \(data\/test\/market_data\.sqlite3\) was written while the delete ran/;
      try {
        await assert.rejects(deleteProfile(opening, { id, deleteData: true }), isInUse(new RegExp(`${said.source}[\\s\\S]*Every file was put back`)));
        fs.writeFileSync(`${trigger}.again`, '');
        await exited;
      } finally {
        writer.kill('SIGKILL');
      }
      assert.deepEqual(await rowsWrittenInTheWindow(market), keepOpen ? [1, 2] : [1]);
      for (const name of ['settings', 'strategies', 'market_data']) assert.ok(fs.existsSync(path.join(root, `data/test/${name}.sqlite3`)), name);
      assert.ok(fs.existsSync(path.join(root, `.envprofiles/profiles/${id}.yaml`)));
      assert.deepEqual(temporaryFiles(root), []);
    });
  }
});

/**
 * Another process writing to `file` (switched to rollback-journal mode first) in a transaction it
 * does not commit until told to on stdin: from its first write it keeps every reader out. It then
 * says whether its commit went through.
 */
async function holdWriteLock(file: string): Promise<{ child: ChildProcess; commit: () => Promise<string> }> {
  const switcher = (await engine()).open(file, { readOnly: false });
  switcher.exec('PRAGMA journal_mode = DELETE');
  switcher.close();
  const script = `const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(${JSON.stringify(file)});
db.exec('BEGIN EXCLUSIVE');
db.exec('CREATE TABLE held_by_writer (x)');
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
  try { db.exec('COMMIT'); process.stdout.write('committed\\n'); } catch (error) { process.stdout.write('failed: ' + error.message + '\\n'); }
  process.exit(0);
});`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the writing process exited early (${code})`)));
  });
  const commit = (): Promise<string> =>
    new Promise((resolve) => {
      let said = '';
      child.stdout?.on('data', (data: Buffer) => (said += data.toString()));
      // 'close', not 'exit': the child's output may still be on its way when it has exited.
      child.once('close', () => resolve(said.trim()));
      child.stdin?.write('commit\n');
    });
  return { child, commit };
}

describe('a database a writer keeps locked (rollback-journal mode, a transaction held longer than the busy timeout)', () => {
  it('backup, clone and validate wait the busy timeout, then say which program holds the lock; nothing is written; the emergency backup leaves that database out and saves the rest; the writer commits afterwards', async function () {
    this.timeout(60000);
    const { root, context } = await demoWorkspace();
    const settings = path.join(root, 'data/dev/settings.sqlite3');
    const { child, commit } = await holdWriteLock(settings);
    let committed: string;
    try {
      const before = workspaceFiles(root);
      const backup = runCli(['backup', DEV, '--workspace', root]);
      assert.equal(backup.status, 1, backup.stderr);
      assert.match(backup.stderr, /^error\[DATABASE_LOCKED\]: data\/dev\/settings\.sqlite3 \(database "settings" of dev_environment_001\) is locked by another program: node \(pid (\d+)\), which kept readers out for more than 5 s/);
      assert.equal(Number(/pid (\d+)/.exec(backup.stderr)?.[1]), child.pid);
      assert.match(backup.stderr, /nothing was changed\.\n {2}Try again once that program has committed/);
      assert.doesNotMatch(backup.stderr, /bug|not an error/);
      assert.equal(backupCount(context, DEV), 0);

      await assert.rejects(cloneProfile(context, { source: DEV, id: 'dev_copy' }), (error: unknown) => {
        assert.ok(error instanceof EnvProfilesError, String(error));
        assert.equal(error.code, 'DATABASE_LOCKED');
        assert.match(error.message, /^data\/dev\/settings\.sqlite3 is locked by another program: node \(pid \d+\)[\s\S]*making data\/dev_copy\/settings\.sqlite3 from it could not read it/);
        return true;
      });

      const validation = runCli(['validate', DEV, '--workspace', root]);
      assert.equal(validation.status, 1);
      assert.match(validation.stdout, /FAIL opens: data\/dev\/settings\.sqlite3 is locked: another program kept readers out for more than 5 s/);

      assert.deepEqual(differingFiles(workspaceFiles(root), before), []);
      assert.deepEqual(temporaryFiles(root), []);

      // The emergency backup saves what it can: the locked database is left out, and named.
      const emergency = runCli(['backup', '--all', '--reason', 'emergency', '--workspace', root, '--json']);
      assert.equal(emergency.status, 1, emergency.stderr);
      const backups = emergency.json?.result.backups as { profileId: string; databases: { name: string }[]; leftOut?: { logicalName: string; code: string; reason: string }[] }[];
      assert.deepEqual(emergency.json?.result.failures, []);
      assert.deepEqual(backups.map((b) => [b.profileId, b.databases.map((d) => d.name).join(','), (b.leftOut ?? []).map((l) => `${l.logicalName}:${l.code}`).join(',')]), [
        [DEV, 'strategies,market_data', 'settings:DATABASE_LOCKED'],
        ['prod_environment_001', 'settings,strategies,market_data', ''],
        ['test_environment_001', 'settings,strategies,market_data', ''],
      ]);
      assert.match(backups[0].leftOut?.[0].reason ?? '', /^data\/dev\/settings\.sqlite3 \(database "settings" of dev_environment_001\) is locked by another program: node \(pid \d+\)/);
      assert.equal(backupCount(context, DEV), 1);
    } finally {
      committed = await commit();
    }
    assert.equal(committed, 'committed', 'the application never notices the attempts');
    // Once the lock is gone, the same backup goes through.
    const again = runCli(['backup', DEV, '--workspace', root]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(backupCount(context, DEV), 2);
  });
});

describe('a WAL database another program opened in exclusive locking mode', () => {
  it('the backup and validate say that (in WAL mode no writer keeps readers out), not "switch to WAL mode" or "once it has committed"; nothing is written', async function () {
    this.timeout(60000);
    const { root, context } = await demoWorkspace();
    const settings = path.join(root, 'data/dev/settings.sqlite3');
    const script = `const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(${JSON.stringify(settings)});
db.exec('PRAGMA locking_mode = EXCLUSIVE');
db.exec('CREATE TABLE held_by_app (x)');
process.stdout.write('ready\\n');
process.stdin.once('data', () => process.exit(0));`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => child.once('close', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout?.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`the application process exited early (${code})`)));
      });
      const before = workspaceFiles(root);
      const backup = runCli(['backup', DEV, '--workspace', root]);
      assert.equal(backup.status, 1, backup.stderr);
      assert.match(backup.stderr, /^error\[DATABASE_LOCKED\]: data\/dev\/settings\.sqlite3 \(database "settings" of dev_environment_001\) is locked by another program: node \(pid \d+\), which kept readers out for more than 5 s\. The database is in WAL mode, where writers never keep readers out, so that program most likely opened it in exclusive locking mode \(PRAGMA locking_mode = EXCLUSIVE\), which keeps every other connection out for as long as it has the database open; so the backup of dev_environment_001 could not read it\. Nothing was changed\.\n {2}Stop that program \(or have it open the database in normal locking mode\), then try again\.\n$/);
      const validation = runCli(['validate', DEV, '--workspace', root]);
      assert.match(validation.stdout, /FAIL opens: data\/dev\/settings\.sqlite3 is locked: another program kept readers out for more than 5 s, which in WAL mode only a connection in exclusive locking mode \(PRAGMA locking_mode = EXCLUSIVE\) does, for as long as it has the database open\. Validate again once that program has stopped\./);
      assert.deepEqual(differingFiles(workspaceFiles(root), before), []);
      assert.equal(backupCount(context, DEV), 0);
      // The emergency backup saves the rest, and its note gives the reason as a clause (the error's own
      // "Nothing was changed" read as if the backup had changed nothing).
      const emergency = runCli(['backup', '--all', '--reason', 'emergency', '--workspace', root, '--json']);
      assert.equal(emergency.status, 1, emergency.stderr);
      const made = (emergency.json?.result.backups as { profileId: string; note?: string }[]).find((b) => b.profileId === DEV);
      assert.match(made?.note ?? '', /^settings was left out of this backup: data\/dev\/settings\.sqlite3 \(database "settings" of dev_environment_001\) is locked by another program: .*so the backup of dev_environment_001 could not read it(\.|$)/);
      assert.doesNotMatch(made?.note ?? '', /nothing was changed/i);
    } finally {
      child.stdin?.write('done\n');
      await exited;
    }
    const again = runCli(['backup', DEV, '--workspace', root]);
    assert.equal(again.status, 0, again.stderr);
  });
});
