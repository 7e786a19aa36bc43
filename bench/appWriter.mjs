// The application, as the backup benchmarks see it: a separate process that commits a small transaction
// (one row updated) every INTERVAL ms in WAL mode, with a 5 s busy timeout like a typical app, and
// records when each commit started and how long it took. On SIGTERM it writes to OUT:
// { commits: [[startedAtEpochMs, ms], ...], failures: [message, ...], walPeakBytes }.
// Usage: node appWriter.mjs <database> <interval ms> <out.json>
import * as fs from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';

const [file, intervalText, out] = process.argv.slice(2);
const interval = Number(intervalText);
const db = new DatabaseSync(file, { timeout: 5000 });
db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
const rows = Number(db.prepare('SELECT max(id) AS n FROM price_data').get().n);
const touch = db.prepare('UPDATE price_data SET volume = volume + 1 WHERE id = ?');
const commits = [];
const failures = [];
let walPeakBytes = 0;
let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});
const epochNow = () => performance.timeOrigin + performance.now();
process.stdout.write('ready\n');
let due = performance.now();
while (!stopping) {
  const started = epochNow();
  try {
    db.exec('BEGIN IMMEDIATE');
    touch.run(1 + Math.floor(Math.random() * rows));
    db.exec('COMMIT');
    commits.push([started, epochNow() - started]);
  } catch (error) {
    failures.push(String(error.message));
    try {
      db.exec('ROLLBACK');
    } catch {}
  }
  if (commits.length % 50 === 0) {
    try {
      walPeakBytes = Math.max(walPeakBytes, fs.statSync(`${file}-wal`).size);
    } catch {}
  }
  // Paced, not flat out: a busy application, not a load generator competing for the two cores; after a
  // stall it goes on at its pace instead of catching up in a burst.
  due = Math.max(due + interval, performance.now());
  await sleep(Math.max(0, due - performance.now()));
}
db.close();
fs.writeFileSync(out, JSON.stringify({ commits, failures, walPeakBytes }));
