import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, engine, tempDir } from './workspaces';

const ACCOUNTS = 2000;
/** The sum of all balances, which every transaction of the writer preserves. */
export const TOTAL = ACCOUNTS * 1000;

/** A workspace with one PRODUCTION profile over a bank database in WAL mode. */
export async function bankWorkspace(): Promise<string> {
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

/**
 * Starts the writer process (test/support/walWriter.mjs) on `file`, in WAL mode or in rollback-journal
 * mode with a pause of `pauseMs` after each commit.
 */
export function startWriter(file: string, journalMode: 'wal' | 'delete' = 'wal', pauseMs = 1): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'test/support/walWriter.mjs'), file, journalMode, String(pauseMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
  });
}

/** Stops the writer and returns its summary. */
export function stopWriter(child: ChildProcess): Promise<{ transactions: number; errors: number; worstCommitMs: number }> {
  return new Promise((resolve) => {
    let out = '';
    child.stdout?.on('data', (chunk) => (out += String(chunk)));
    // 'close', not 'exit': the summary may still be on its way when the writer has exited.
    child.once('close', () => resolve(JSON.parse(out.trim().split('\n').pop() as string)));
    child.kill('SIGTERM');
  });
}
