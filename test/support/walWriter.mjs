// A stand-in for the application: commits transfers between accounts in WAL mode (or, with a second
// argument "delete", in rollback-journal mode, pausing as many milliseconds as a third says, 1 by
// default, after each commit) as fast as it can.
// Every transaction keeps two invariants: the sum of balances is constant, and the number of rows in
// transfers equals counters.transfers. Prints a JSON summary (transactions, errors, worst commit) on SIGTERM.
import { DatabaseSync } from 'node:sqlite';

const [file, journalMode = 'wal', pause = '1'] = process.argv.slice(2);
const db = new DatabaseSync(file, { timeout: 5000 });
// In rollback-journal mode without fsyncs, so that commits come as fast as they do in WAL mode.
db.exec(journalMode === 'delete' ? 'PRAGMA journal_mode = DELETE; PRAGMA synchronous = OFF;' : 'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
const accounts = db.prepare('SELECT count(*) AS n FROM accounts').get().n;
const debit = db.prepare('UPDATE accounts SET balance = balance - ? WHERE id = ?');
const credit = db.prepare('UPDATE accounts SET balance = balance + ? WHERE id = ?');
const record = db.prepare('INSERT INTO transfers (from_id, to_id, amount, note) VALUES (?, ?, ?, ?)');
const count = db.prepare('UPDATE counters SET value = value + 1 WHERE name = ?');
let transactions = 0;
let errors = 0;
let worstCommitMs = 0;
let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});
process.stdout.write('ready\n');
const note = 'x'.repeat(200);
while (!stopping) {
  const started = performance.now();
  try {
    db.exec('BEGIN IMMEDIATE');
    for (let i = 0; i < 5; i++) {
      const from = 1 + Math.floor(Math.random() * accounts);
      const to = 1 + Math.floor(Math.random() * accounts);
      const amount = 1 + Math.floor(Math.random() * 50);
      debit.run(amount, from);
      credit.run(amount, to);
      record.run(from, to, amount, note);
      count.run('transfers');
    }
    db.exec('COMMIT');
    transactions++;
  } catch (error) {
    errors++;
    try {
      db.exec('ROLLBACK');
    } catch {}
    process.stderr.write(`writer error: ${error.message}\n`);
  }
  worstCommitMs = Math.max(worstCommitMs, performance.now() - started);
  if (transactions % 200 === 0) await new Promise((r) => setImmediate(r));
  // In rollback-journal mode a writer that commits back to back keeps readers out for seconds (each
  // commit's lock shuts them out, and they retry only now and then): like most applications, this one
  // has a moment between its transactions.
  if (journalMode === 'delete') await new Promise((r) => setTimeout(r, Number(pause)));
}
db.close();
process.stdout.write(`${JSON.stringify({ transactions, errors, worstCommitMs })}\n`);
