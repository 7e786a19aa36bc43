import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cloneProfile } from '../src/core/profileClone';
import { createWorkspaceContext } from '../src/core/workspaceContext';
import { REPO_ROOT, engine, tempDir } from './support/workspaces';

const ACCOUNTS = 2000;
const TOTAL = ACCOUNTS * 1000;
const CLONES = Number(process.env.ENVPROFILES_LIVE_CLONES ?? 20);

async function bankWorkspace(): Promise<string> {
  const root = tempDir();
  const sqlite = await engine();
  fs.mkdirSync(path.join(root, '.envprofiles/profiles'), { recursive: true });
  fs.mkdirSync(path.join(root, 'data/live'), { recursive: true });
  const db = sqlite.open(path.join(root, 'data/live/bank.sqlite3'), { readOnly: false, create: true });
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)');
  db.exec('CREATE TABLE transfers (id INTEGER PRIMARY KEY, from_id INTEGER REFERENCES accounts(id), to_id INTEGER REFERENCES accounts(id), amount INTEGER, note TEXT)');
  db.exec('CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)');
  db.exec("INSERT INTO counters VALUES ('transfers', 0)");
  db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ACCOUNTS}) INSERT INTO accounts SELECT i, 1000 FROM n`);
  db.close();
  fs.writeFileSync(path.join(root, '.envprofiles/profiles/live_bank.yaml'), 'profile:\n  id: live_bank\n  name: Live bank\n  type: PRODUCTION\n  databases:\n    bank: data/live/bank.sqlite3\n');
  return root;
}

function startWriter(file: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'test/support/walWriter.mjs'), file], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
  });
}

function stopWriter(child: ChildProcess): Promise<{ transactions: number; errors: number; worstCommitMs: number }> {
  return new Promise((resolve) => {
    let out = '';
    child.stdout?.on('data', (chunk) => (out += String(chunk)));
    child.once('exit', () => resolve(JSON.parse(out.trim().split('\n').pop() as string)));
    child.kill('SIGTERM');
  });
}

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
