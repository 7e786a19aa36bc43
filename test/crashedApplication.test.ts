import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createBackup } from '../src/core/backup/backupCreation';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { cloneProfile } from '../src/core/profileClone';
import { EnvProfilesError } from '../src/core/errors';
import { switchProfile } from '../src/core/switchTransaction';
import { runCli } from './support/cliRunner';
import { leaveHotJournal } from './support/crashedWriter';
import { demoWorkspace, engine, temporaryFiles } from './support/workspaces';

const DEV = 'dev_environment_001';
const MARKET = 'data/dev/market_data.sqlite3';

/** The demo workspace with its market data in rollback-journal mode, and the number of its rows. */
async function rollbackModeWorkspace() {
  const workspace = await demoWorkspace();
  const db = (await engine()).open(path.join(workspace.root, MARKET), { readOnly: false });
  db.exec('PRAGMA journal_mode = DELETE');
  const rows = Number(db.all('SELECT count(*) AS n FROM price_data')[0].n);
  db.close();
  assert.ok(rows > 0);
  return { ...workspace, rows };
}

async function priceRows(file: string): Promise<number> {
  const db = (await engine()).open(file, { readOnly: true });
  try {
    return Number(db.all('SELECT count(*) AS n FROM price_data')[0].n);
  } finally {
    db.close();
  }
}

describe('what an application killed in the middle of a transaction leaves (a hot journal)', () => {
  it('validation says what it is and what to do, and switching is refused with that reason; a backup rolls it back to the committed state and keeps it', async () => {
    const { root, context, rows } = await rollbackModeWorkspace();
    const file = path.join(root, MARKET);
    leaveHotJournal(file, 'price_data');
    const validate = runCli(['validate', DEV, '--workspace', root]);
    assert.equal(validate.status, 1, validate.stdout);
    assert.match(validate.stdout, /FAIL opens: data\/dev\/market_data\.sqlite3 has the journal of an unfinished transaction[^\n]*envprofiles backup/);
    assert.doesNotMatch(validate.stdout + validate.stderr, /readonly database/);
    await assert.rejects(switchProfile(context, DEV), (error: unknown) => error instanceof EnvProfilesError && error.code === 'VALIDATION_FAILED' && /unfinished transaction/.test(error.message));

    const backup = runCli(['backup', DEV, '--workspace', root, '--json']);
    assert.equal(backup.status, 0, backup.stderr);
    assert.match(String(backup.json?.result?.note), /data\/dev\/market_data\.sqlite3 had the journal of an unfinished transaction.*rolled back to the last committed state/);
    assert.ok(!fs.existsSync(`${file}-journal`));
    assert.equal(await priceRows(file), rows, 'the committed rows, none of the killed transaction');
    assert.equal(runCli(['validate', DEV, '--full', '--workspace', root]).status, 0);
    await restoreBackup(context, { reference: String(backup.json?.result?.id), asNew: 'after_crash' });
    assert.equal(await priceRows(path.join(root, 'data/after_crash/market_data.sqlite3')), rows);
  });

  it('a restore over it (its safety backup rolls the journal back first) and a clone of it work', async () => {
    const { root, context, rows } = await rollbackModeWorkspace();
    const file = path.join(root, MARKET);
    const backup = await createBackup(context, { profileId: DEV });
    leaveHotJournal(file, 'price_data');
    const restored = await restoreBackup(context, { reference: backup.entry.id });
    assert.ok(restored.safetyBackup);
    assert.equal(await priceRows(file), rows);
    assert.ok(!fs.existsSync(`${file}-journal`));
    leaveHotJournal(file, 'price_data');
    const warnings: string[] = [];
    await cloneProfile({ ...context, logger: { ...context.logger, warn: (message: string) => warnings.push(message) } }, { source: DEV, id: 'cloned_after_crash' });
    assert.equal(await priceRows(path.join(root, 'data/cloned_after_crash/market_data.sqlite3')), rows);
    assert.match(warnings.join('\n'), /market_data\.sqlite3 had the journal of an unfinished transaction/);
    assert.deepEqual(temporaryFiles(root), []);
  });
});
