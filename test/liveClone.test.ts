import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { cloneProfile } from '../src/core/profileClone';
import { createWorkspaceContext } from '../src/core/workspaceContext';
import { bankWorkspace, startWriter, stopWriter, TOTAL } from './support/liveWriter';
import { engine } from './support/workspaces';

const CLONES = Number(process.env.ENVPROFILES_LIVE_CLONES ?? 20);

describe('clone of a database that another process is writing (WAL)', function () {
  this.timeout(300_000);

  it(`${CLONES} clones taken under a live writer each hold a committed state (invariants kept, integrity ok)`, async () => {
    const root = await bankWorkspace();
    const sqlite = await engine();
    const context = createWorkspaceContext(root, sqlite);
    const writer = await startWriter(path.join(root, 'data/live/bank.sqlite3'));
    const seenTransferCounts: number[] = [];
    try {
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < CLONES; i++) {
        const result = await cloneProfile(context, { source: 'live_bank', id: `snapshot_${i}`, type: 'BACKUP' });
        const copy = sqlite.open(path.join(root, result.databases.bank), { readOnly: true });
        try {
          const sum = Number(copy.all('SELECT sum(balance) AS s FROM accounts')[0].s);
          const transfers = Number(copy.all('SELECT count(*) AS n FROM transfers')[0].n);
          const counter = Number(copy.all("SELECT value FROM counters WHERE name = 'transfers'")[0].value);
          assert.equal(sum, TOTAL, `clone ${i}: the sum of balances must be preserved`);
          assert.equal(transfers, counter, `clone ${i}: transfers and their counter come from one transaction`);
          assert.equal(copy.all('PRAGMA integrity_check')[0].integrity_check, 'ok');
          assert.equal(copy.all('PRAGMA foreign_key_check').length, 0);
          seenTransferCounts.push(transfers);
        } finally {
          copy.close();
        }
        await new Promise((r) => setTimeout(r, 30));
      }
    } finally {
      const summary = await stopWriter(writer);
      assert.equal(summary.errors, 0, 'the application\'s writes never fail because of a clone');
      assert.ok(summary.transactions > CLONES, `the writer kept writing (${summary.transactions} transactions)`);
      console.log(`      writer: ${summary.transactions} transactions, worst commit ${summary.worstCommitMs.toFixed(1)} ms`);
    }
    assert.ok(new Set(seenTransferCounts).size > CLONES / 2, `clones captured different moments: ${seenTransferCounts.join(', ')}`);
  });
});
