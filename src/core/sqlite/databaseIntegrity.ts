import { Worker } from 'node:worker_threads';
import { isDamageError, type SqliteConnection } from './sqliteEngine';

export interface IntegrityReport {
  /** What integrity_check found wrong (its first INTEGRITY_PROBLEMS_LISTED problems); empty when it says ok. */
  problems: string[];
  foreignKeyViolations: number;
  /** The first few violations, as "table row R -> parent table". */
  foreignKeySample: string[];
}

/** integrity_check stops listing after this many problems. */
export const INTEGRITY_PROBLEMS_LISTED = 20;

/** 'ok', or the problems integrity_check found, joined with '; ' (as reports show it). */
export function integrityText(report: IntegrityReport): string {
  return report.problems.length === 0 ? 'ok' : report.problems.join('; ');
}

/** The first violations foreign_key_check found, as "table row R -> parent; …" (for messages). */
export function foreignKeySampleText(report: IntegrityReport): string {
  return `${report.foreignKeySample.join('; ')}${report.foreignKeyViolations > report.foreignKeySample.length ? '; …' : ''}`;
}

/**
 * integrity_check (its first 20 problems) and foreign_key_check of an open database. Self-contained, with
 * no names from outside it (`isDamage` is sqliteEngine's isDamageError, passed in): the checking thread
 * runs its source text.
 *
 * Damage SQLite cannot read past (a broken b-tree page header on page 1, a schema that does not parse)
 * makes it stop a check with SQLITE_CORRUPT or SQLITE_NOTADB (codes 11 and 26; sql.js gives only the
 * message), or "unsupported file format" (a schema format number in the header that is not 1 to 4),
 * instead of listing it: that is what the check found, and is reported as a problem. Before, it
 * escaped as an error: a verify of such a backup ended in a bare "A database is damaged" with nothing
 * recorded, a restore over such a database was refused (its safety backup "could not be verified"),
 * and some damage (a cell pointing out of its page) went either way from one run to the next.
 */
export function checkOpenDatabase(db: Pick<SqliteConnection, 'all'>, isDamage: (error: unknown) => boolean): IntegrityReport {
  const stoppedByDamage = (check: string, error: unknown): string => {
    if (!isDamage(error)) throw error;
    return `SQLite stopped ${check} at what it cannot read past: ${String((error as Error | null)?.message ?? error)}`;
  };
  let problems: string[];
  try {
    // 20 is INTEGRITY_PROBLEMS_LISTED, written out: the checking thread runs this function's text alone.
    const lines = db.all('PRAGMA integrity_check(20)').flatMap((row) => String(Object.values(row)[0]).split('\n'));
    // SQLite heads some reports with "*** in database main ***", which is not a problem of its own.
    problems = lines.filter((line) => line !== '' && line !== 'ok' && !line.startsWith('*** in database'));
  } catch (error) {
    // foreign_key_check would stop at the same damage.
    return { problems: [stoppedByDamage('integrity_check', error)], foreignKeyViolations: 0, foreignKeySample: [] };
  }
  try {
    // Counted by SQLite, not listed: a database with a million orphans must not need a million rows in memory.
    const foreignKeyViolations = Number(db.all('SELECT count(*) AS n FROM pragma_foreign_key_check')[0].n);
    const foreignKeySample = foreignKeyViolations === 0 ? [] : db.all('SELECT * FROM pragma_foreign_key_check LIMIT 3').map((row) => `${String(row.table)} row ${String(row.rowid)} -> ${String(row.parent)}`);
    return { problems, foreignKeyViolations, foreignKeySample };
  } catch (error) {
    return { problems: [...problems, stoppedByDamage('foreign_key_check', error)], foreignKeyViolations: 0, foreignKeySample: [] };
  }
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
// Older Nodes call node:sqlite experimental on stderr; the main thread hides that warning too.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => (/SQLite/i.test(String(warning && warning.message || warning)) ? undefined : emitWarning.call(process, warning, ...rest));
const { DatabaseSync } = require('node:sqlite');
const checkOpenDatabase = ${checkOpenDatabase.toString()};
const isDamageError = ${isDamageError.toString()};
parentPort.on('message', ({ file, readOnly, timeout }) => {
  let db;
  try {
    db = new DatabaseSync(file, { readOnly, timeout });
    parentPort.postMessage({ report: checkOpenDatabase({ all: (sql) => db.prepare(sql).all() }, isDamageError) });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  } finally {
    if (db) db.close();
  }
});
`;

/**
 * How long a checking thread waits for the next check before it ends. Starting a thread costs about
 * 40 ms here, so a verify of a profile with 300 small databases took 13 s with one thread per check; a
 * thread kept between them would sit, with its ~15 MB, beside the rebuild of the next database, so it
 * stays only as long as the rebuild of a small one takes.
 */
const IDLE_THREAD_MS = 250;

interface CheckingThread {
  worker: Worker;
  idleTimer?: NodeJS.Timeout;
}

/** Threads that finished a check and wait (unreferenced: they never keep a process alive) for the next. */
const idleThreads: CheckingThread[] = [];

function startCheckingThread(): CheckingThread {
  // A small heap is all it needs (SQLite's memory is not on it): the check runs when a rebuild's buffers
  // are still held, and a default heap would bring a 1 GiB verify from ~130 MB to ~143 MB of peak RSS.
  const thread: CheckingThread = { worker: new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 } }) };
  // A thread that dies while it waits is forgotten (an 'error' nobody listens to would end the process).
  const forget = (): void => {
    const at = idleThreads.indexOf(thread);
    if (at >= 0) idleThreads.splice(at, 1);
  };
  thread.worker.on('error', forget).on('exit', forget);
  return thread;
}

function parkCheckingThread(thread: CheckingThread): void {
  thread.worker.unref();
  thread.idleTimer = setTimeout(() => {
    // Out of the list first: the thread must not be handed a check while it ends.
    idleThreads.splice(idleThreads.indexOf(thread), 1);
    void thread.worker.terminate();
  }, IDLE_THREAD_MS);
  thread.idleTimer.unref();
  idleThreads.push(thread);
}

/**
 * `checkOpenDatabase` of `file` with node:sqlite on a thread of its own: on a gigabyte the check takes
 * about a second of CPU, which the main thread (in VS Code, the extension host every extension shares)
 * must not spend without returning to its event loop. One check at a time per thread; checks made one
 * after another reuse the thread.
 */
export function checkOnOwnThread(file: string, readOnly: boolean, busyTimeoutMs: number): Promise<IntegrityReport> {
  const thread = idleThreads.pop() ?? startCheckingThread();
  clearTimeout(thread.idleTimer);
  thread.worker.ref();
  return new Promise<IntegrityReport>((resolve, reject) => {
    const settle = (outcome: () => void, reusable: boolean): void => {
      thread.worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (reusable) parkCheckingThread(thread);
      else void thread.worker.terminate();
      outcome();
    };
    const onMessage = (reply: { report?: IntegrityReport; error?: string }): void => settle(() => (reply.report ? resolve(reply.report) : reject(new Error(reply.error))), true);
    const onError = (error: Error): void => settle(() => reject(error), false);
    // Without an answer, the thread died.
    const onExit = (code: number): void => settle(() => reject(new Error(`the checking thread stopped (code ${code}) before it answered`)), false);
    thread.worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    thread.worker.postMessage({ file, readOnly, timeout: busyTimeoutMs });
  });
}
