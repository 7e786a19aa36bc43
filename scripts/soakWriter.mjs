// The application of `npm run soak`: commits transfers between 1,000 accounts as fast as it can, so
// that their balances always sum to 100,000, for the given number of seconds. Prints one JSON line:
// how many transactions it committed, how many failed (a backup must never make one fail) and why.
// Not test/support/walWriter.mjs: that one also records every transfer as a row (its tests check that
// count), so over a soak's millions of commits its database would grow by gigabytes; this one only
// moves balances, so the database keeps its size, and it stops by itself after the given time.
// Usage: node scripts/soakWriter.mjs <database> <seconds>
import { DatabaseSync } from 'node:sqlite';

const ACCOUNTS = 1000;
const TOTAL = 100 * ACCOUNTS;

const [file, seconds] = process.argv.slice(2);
const db = new DatabaseSync(file, { timeout: 5000 });
db.exec('PRAGMA journal_mode=WAL');
db.exec('CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)');
if (db.prepare('SELECT count(*) AS n FROM accounts').get().n === 0) {
  db.exec(`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${ACCOUNTS - 1}) INSERT INTO accounts SELECT i, ${TOTAL / ACCOUNTS} FROM s`);
}
const move = db.prepare('UPDATE accounts SET balance = balance + ? WHERE id = ?');
const pick = () => Math.floor(Math.random() * ACCOUNTS);
let commits = 0;
let failed = 0;
const failures = [];
const end = Date.now() + Number(seconds) * 1000;
while (Date.now() < end) {
  try {
    db.exec('BEGIN IMMEDIATE');
    for (let k = 0; k < 20; k++) {
      const amount = Math.floor(Math.random() * 50);
      move.run(-amount, pick());
      move.run(amount, pick());
    }
    db.exec('COMMIT');
    commits++;
  } catch (error) {
    failed++;
    if (failures.length < 5) failures.push(error.message);
    try {
      db.exec('ROLLBACK');
    } catch {
      // Nothing was begun.
    }
  }
}
db.close();
console.log(JSON.stringify({ commits, failed, failures }));
