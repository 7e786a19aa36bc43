import { Worker } from 'node:worker_threads';
import type { SqliteConnection } from './sqliteEngine';

export interface IntegrityReport {
  /** 'ok', or the first problems integrity_check found, joined with '; '. */
  integrity: string;
  foreignKeyViolations: number;
}

/**
 * integrity_check (its first 20 problems) and foreign_key_check of an open database. Self-contained, with
 * no names from outside it: the checking thread runs its source text.
 */
export function checkOpenDatabase(db: Pick<SqliteConnection, 'all'>): IntegrityReport {
  const integrity = db.all('PRAGMA integrity_check(20)').flatMap((row) => String(Object.values(row)[0]).split('\n')).join('; ');
  const foreignKeyViolations = db.all('PRAGMA foreign_key_check').length;
  return { integrity, foreignKeyViolations };
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
// Older Nodes call node:sqlite experimental on stderr; the main thread hides that warning too.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => (/SQLite/i.test(String(warning && warning.message || warning)) ? undefined : emitWarning.call(process, warning, ...rest));
const { DatabaseSync } = require('node:sqlite');
const checkOpenDatabase = ${checkOpenDatabase.toString()};
let db;
try {
  db = new DatabaseSync(workerData.file, { readOnly: false, timeout: workerData.timeout });
  parentPort.postMessage({ report: checkOpenDatabase({ all: (sql) => db.prepare(sql).all() }) });
} catch (error) {
  parentPort.postMessage({ error: String(error && error.message || error) });
} finally {
  if (db) db.close();
}
`;

/**
 * `checkOpenDatabase` of `file` with node:sqlite on a thread of its own: on a gigabyte the check takes
 * about a second of CPU, which the main thread (in VS Code, the extension host every extension shares)
 * must not spend without returning to its event loop.
 */
export function checkOnOwnThread(file: string, busyTimeoutMs: number): Promise<IntegrityReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, timeout: busyTimeoutMs } });
    worker.once('message', (reply: { report?: IntegrityReport; error?: string }) => (reply.report ? resolve(reply.report) : reject(new Error(reply.error))));
    worker.once('error', reject);
    // After an answer this changes nothing; without one, the thread died.
    worker.once('exit', (code) => reject(new Error(`the checking thread stopped (code ${code}) before it answered`)));
  });
}
