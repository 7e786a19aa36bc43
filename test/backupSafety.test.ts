import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createBackup } from '../src/core/backup/backupCreation';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { EnvProfilesError } from '../src/core/errors';
import { runCli } from './support/cliRunner';
import { CLI, demoWorkspace, engine, snapshotTree, temporaryFiles, assertSameTree } from './support/workspaces';
import { craftArchive, seeded } from './support/testHelpers';

const DEV = 'dev_environment_001';
const KILLS = Number(process.env.ENVPROFILES_KILL_RUNS ?? 24);


const ignoreSqliteCompanions = (rel: string): boolean => rel.endsWith('-shm') || rel.endsWith('-wal') || rel.endsWith('audit.jsonl') || rel.includes('.envprofiles/backups');

describe('hostile archives are refused before anything is written', () => {
  const cases: [string, RegExp][] = [
    ['dotdot', /entry "\.\.\/escape\.txt" climbs out with "\.\."/],
    ['absolute', /entry "\/tmp\/envprofiles-absolute\.txt" has an absolute path/],
    ['drive', /entry "C:\/envprofiles-drive\.txt" has a drive letter/],
    ['symlink', /entry "files\/link" is a symbolic link/],
    ['duplicate', /entry "db\/settings\.sqlite3" appears twice/],
    ['unlisted', /entry "extra\.txt" is not listed in the manifest/],
    ['size-lie', /entry "db\/settings\.sqlite3" is \d+ bytes but the manifest says \d+/],
    ['bomb', /entry "db\/settings\.sqlite3" claims a compression ratio of \d+:1 \(a zip bomb\)/],
    ['segments-lie', /entry "db\/settings\.sqlite3" is \d+ compressed bytes but its pieces in the manifest add up to \d+/],
  ];
  for (const [mode, message] of cases) {
    it(`${mode}`, async () => {
      const { root, context } = await demoWorkspace();
      const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
      const hostile = craftArchive(backup.archive, mode);
      const before = snapshotTree(root, ignoreSqliteCompanions);
      await assert.rejects(restoreBackup(context, { reference: hostile }), (error: unknown) => {
        assert.ok(error instanceof EnvProfilesError, String(error));
        assert.equal(error.code, 'ARCHIVE_HOSTILE', error.message);
        assert.equal(error.kind, 'refused');
        assert.match(error.message, message);
        assert.ok(error.message.includes(hostile), 'names the archive');
        return true;
      });
      await assert.rejects(restoreBackup(context, { reference: hostile, asNew: 'from_hostile' }), (e: unknown) => e instanceof EnvProfilesError && e.code === 'ARCHIVE_HOSTILE');
      assertSameTree(snapshotTree(root, ignoreSqliteCompanions), before, 'nothing may be written');
      assert.ok(!fs.existsSync(path.join(os.tmpdir(), 'envprofiles-absolute.txt')));
      assert.ok(!fs.existsSync(path.join(path.dirname(hostile), '..', 'escape.txt')));
      const cli = runCli(['restore', hostile, '--workspace', root]);
      assert.equal(cli.status, 3, cli.stderr);
      assert.match(cli.stderr, /error\[ARCHIVE_HOSTILE\]/);
    });
  }
});

function killAfter(args: string[], delayMs: number, stepDelayMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ENVPROFILES_TEST_STEP_DELAY_MS: String(stepDelayMs) }, stdio: 'ignore' });
    let finished = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      finished = signal === null && code === 0;
      resolve(finished);
    });
  });
}


async function digest(file: string): Promise<string> {
  const db = (await engine()).open(file, { readOnly: true });
  try {
    return JSON.stringify(db.all('SELECT count(*) AS n, sum(close) AS s FROM price_data'));
  } finally {
    db.close();
  }
}

describe('kill -9 during backup and restore', function () {
  this.timeout(600_000);

  it(`during backup (${KILLS} runs): the data is intact, no partial archive is listed, leftovers are cleaned by the next command`, async () => {
    const seed = Number(process.env.ENVPROFILES_KILL_SEED ?? Date.now() % 100000);
    const random = seeded(seed);
    const { root } = await demoWorkspace(3000);
    const dataBefore = snapshotTree(path.join(root, 'data'), (rel) => rel.endsWith('-shm') || rel.endsWith('-wal'));
    const started = Date.now();
    assert.ok(await killAfter(['backup', DEV, '--workspace', root], 60_000, 15));
    const fullRun = Date.now() - started;
    let interrupted = 0;
    for (let run = 0; run < KILLS; run++) {
      const delay = Math.floor(random() * fullRun);
      const finished = await killAfter(['backup', DEV, '--workspace', root, ...(run % 3 === 0 ? ['--full'] : [])], delay, 15);
      if (!finished) interrupted++;
      const next = runCli(['backups', DEV, '--workspace', root, '--json']);
      assert.equal(next.status, 0, next.stderr);
      const context = `seed ${seed}, run ${run}, killed after ${delay} ms`;
      const listed: { id: string }[] = next.json?.result.backups ?? [];
      const dir = path.join(root, '.envprofiles/backups', DEV);
      const onDisk = fs.readdirSync(dir).filter((f) => f.endsWith('.zip')).map((f) => f.slice(0, -4)).sort();
      assert.deepEqual(onDisk, listed.map((b) => b.id).sort(), `${context}: archives and catalog agree`);
      assert.deepEqual(temporaryFiles(root), [], `${context}: leftovers`);
      assertSameTree(snapshotTree(path.join(root, 'data'), (rel) => rel.endsWith('-shm') || rel.endsWith('-wal')), dataBefore, `${context}: the data must not change`);
    }
    assert.ok(interrupted >= KILLS / 4, `only ${interrupted} kills interrupted a backup (seed ${seed})`);
    // Every listed backup is sound.
    for (const id of fs.readdirSync(path.join(root, '.envprofiles/backups', DEV)).filter((f) => f.endsWith('.zip')).map((f) => f.slice(0, -4)).slice(-3)) {
      assert.equal(runCli(['verify', id, '--workspace', root]).status, 0, id);
    }
  });

  it(`during restore (${KILLS} runs): each database is either the old or the new state, never a mix; the next command settles it`, async () => {
    const seed = Number(process.env.ENVPROFILES_KILL_SEED ?? Date.now() % 100000);
    const random = seeded(seed);
    const { root, context } = await demoWorkspace(3000);
    const file = path.join(root, 'data/dev/market_data.sqlite3');
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    const restoredState = await digest(file);
    const started = Date.now();
    assert.ok(await killAfter(['restore', backup.entry.id, '--db', 'market_data', '--workspace', root], 60_000, 15));
    const fullRun = Date.now() - started;
    let interrupted = 0;
    for (let run = 0; run < KILLS; run++) {
      const sqlite = await engine();
      const db = sqlite.open(file, { readOnly: false });
      db.exec(`UPDATE price_data SET close = ${run + 1000} WHERE rowid % 3 = 0`);
      db.close();
      const changedState = await digest(file);
      const delay = Math.floor(random() * fullRun);
      if (!(await killAfter(['restore', backup.entry.id, '--db', 'market_data', '--workspace', root], delay, 15))) interrupted++;
      const next = runCli(['status', '--workspace', root, '--json']);
      assert.equal(next.status, 0, next.stderr);
      const context = `seed ${seed}, run ${run}, killed after ${delay} ms`;
      const now = await digest(file);
      assert.ok(now === restoredState || now === changedState, `${context}: market_data is neither the old nor the restored state`);
      const check = sqlite.open(file, { readOnly: true });
      assert.equal(check.all('PRAGMA integrity_check')[0].integrity_check, 'ok', context);
      check.close();
      assert.deepEqual(temporaryFiles(root), [], `${context}: leftovers`);
      assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), [], `${context}: journal left`);
    }
    assert.ok(interrupted >= KILLS / 4, `only ${interrupted} kills interrupted a restore (seed ${seed})`);
  });
});
