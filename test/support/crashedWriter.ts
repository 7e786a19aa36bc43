import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/**
 * Leaves `file` (a rollback-journal database with an `accounts (owner, balance)` table, or any table
 * named by `table`) as a writer that was killed in the middle of a transaction leaves it: a hot
 * journal beside it, and uncommitted pages already written into the database file (a tiny page cache
 * makes the transaction spill). The committed state is what the file held before.
 */
export function leaveHotJournal(file: string, table = 'accounts'): void {
  const before = fs.statSync(file).size;
  const script = `const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(${JSON.stringify(file)});
db.exec('PRAGMA cache_size = 5');
db.exec('BEGIN');
db.exec(\`CREATE TABLE uncommitted (x); WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 5000) INSERT INTO uncommitted SELECT hex(randomblob(200)) FROM s; DELETE FROM ${table};\`);
process.kill(process.pid, 'SIGKILL');`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (run.signal !== 'SIGKILL') throw new Error(`the writer was to die mid-transaction: ${run.status} ${run.stderr}`);
  if (!(fs.statSync(`${file}-journal`).size > 0)) throw new Error('no journal was left');
  if (!(fs.statSync(file).size > before)) throw new Error('the transaction did not reach the database file');
}
