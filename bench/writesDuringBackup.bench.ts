// npm run bench (the application's writes during backups): a separate process commits a small
// transaction every few milliseconds on the backup benchmark's database (100 MB and 1 GiB) while a full
// and an incremental backup run through the CLI, next to the same writer over as long with no backup.
// It shows how long a backup holds up the application's commits, and that none of them fails.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildBackupWorkspace, CLI, ratio, ROOT, settleDisk } from './benchWorkspace';

const SIZES_MB = (process.env.BENCH_BACKUP_SIZES_MB ?? '100,1024').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** The writer's pace: one commit every this many ms (200 a second), a busy application. */
const INTERVAL_MS = 5;
/** The writer runs this long before and after what is measured, so the window never sees it start or stop. */
const MARGIN_MS = 300;
const WRITER = path.join(ROOT, 'bench', 'appWriter.mjs');

type Commit = [startedAtEpochMs: number, ms: number];

interface Window {
  seconds: number;
  commits: number[];
  failures: string[];
  walPeakBytes: number;
}

const epochNow = (): number => performance.timeOrigin + performance.now();

/** Runs `action` while the writer commits; returns the commits that overlap the action's time. */
async function whileWriting(dbFile: string, scratch: string, action: () => Promise<void> | void): Promise<Window> {
  const out = path.join(scratch, 'writer.json');
  fs.rmSync(out, { force: true });
  const writer = spawn(process.execPath, [WRITER, dbFile, String(INTERVAL_MS), out], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => writer.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    writer.stdout.once('data', () => resolve());
    void exited.then((code) => reject(new Error(`the writer exited early (code ${code})`)));
  });
  await sleep(MARGIN_MS);
  settleDisk();
  const started = epochNow();
  await action();
  const ended = epochNow();
  await sleep(MARGIN_MS);
  writer.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`the writer failed (code ${code})`);
  const { commits, failures, walPeakBytes } = JSON.parse(fs.readFileSync(out, 'utf8')) as { commits: Commit[]; failures: string[]; walPeakBytes: number };
  const overlapping = commits.filter(([at, ms]) => at < ended && at + ms > started).map(([, ms]) => ms);
  return { seconds: (ended - started) / 1000, commits: overlapping, failures, walPeakBytes };
}

function backup(dir: string, kind: 'full' | 'incremental'): void {
  const result = spawnSync(process.execPath, [CLI, 'backup', 'bench', `--${kind}`, '--workspace', dir, '--json'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`backup --${kind} failed: ${result.stderr}`);
}

/** The windows of all rounds as one. */
function pooled(windows: Window[]): Window {
  return {
    seconds: windows.reduce((sum, w) => sum + w.seconds, 0),
    commits: windows.flatMap((w) => w.commits).sort((a, b) => a - b),
    failures: windows.flatMap((w) => w.failures),
    walPeakBytes: Math.max(...windows.map((w) => w.walPeakBytes)),
  };
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const ms = (value: number): string => `${value.toFixed(1)} ms`;

async function benchSize(sizeMb: number): Promise<string[]> {
  const dir = await buildBackupWorkspace(sizeMb);
  const dbFile = path.join(dir, 'data/market_data.sqlite3');
  const scratch = fs.mkdtempSync(path.join(ROOT, '.bench', 'writes-'));
  const backups = path.join(dir, '.envprofiles/backups');
  fs.rmSync(backups, { recursive: true, force: true });
  const none: Window[] = [];
  const fulls: Window[] = [];
  const incrementals: Window[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      fulls.push(await whileWriting(dbFile, scratch, () => backup(dir, 'full')));
      // The incremental's parent is this round's full; the writer's own commits are what changed.
      incrementals.push(await whileWriting(dbFile, scratch, () => backup(dir, 'incremental')));
      none.push(await whileWriting(dbFile, scratch, () => sleep(fulls[round].seconds * 1000)));
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.rmSync(backups, { recursive: true, force: true });
  }
  const [alone, full, incremental] = [none, fulls, incrementals].map(pooled);
  const row = (name: string, value: (w: Window) => number, show: (v: number) => string): string => {
    const base = value(alone);
    return `| ${name} | ${show(base)} | ${show(value(full))} | ${ratio(value(full), base)} | ${show(value(incremental))} | ${ratio(value(incremental), base)} |`;
  };
  const sizeMbText = (fs.statSync(dbFile).size / 1048576).toFixed(1);
  return [
    `### ${sizeMbText} MB database (${new Date().toISOString().slice(0, 10)})`,
    '',
    `${ROUNDS} rounds of a full backup, then an incremental, then no backup for as long as the full took; the writer's commits that overlapped each are pooled (full backups ${full.seconds.toFixed(1)} s in all, incrementals ${incremental.seconds.toFixed(1)} s).`,
    '',
    '| the application\'s commits | with no backup | during a full backup | ratio | during an incremental | ratio |',
    '|---|---|---|---|---|---|',
    row('commits per second', (w) => w.commits.length / w.seconds, (v) => v.toFixed(0)),
    `| failed commits (SQLITE_BUSY or any other error) | ${alone.failures.length} | ${full.failures.length} | | ${incremental.failures.length} | |`,
    row('median commit', (w) => percentile(w.commits, 50), ms),
    row('99th percentile', (w) => percentile(w.commits, 99), ms),
    row('worst commit (the longest the application was held up)', (w) => w.commits[w.commits.length - 1] ?? NaN, ms),
    row('WAL at its largest (sampled every 50 commits)', (w) => w.walPeakBytes / 1048576, (v) => `${v.toFixed(1)} MB`),
    '',
  ];
}

async function main(): Promise<void> {
  const lines = [`The application's writes during backups (node:sqlite, Node ${process.version}, 2 cores): a separate process commits one updated row every ${INTERVAL_MS} ms (WAL, synchronous NORMAL, busy timeout 5 s) while the CLI backs up the same database, which takes both cores.`, ''];
  for (const size of SIZES_MB) lines.push(...(await benchSize(size)));
  process.stdout.write(`${lines.join('\n')}\n`);
  if (process.env.BENCH_WRITE_DOCS !== '0') {
    fs.mkdirSync(path.join(ROOT, 'docs', 'benchmarks'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'docs', 'benchmarks', 'writes-during-backup.md'), `# The application's writes during backups\n\nWritten by \`npm run bench\` (the latest run).\n\n${lines.join('\n')}\n`);
  }
}

void main();
