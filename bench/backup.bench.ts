// npm run bench (backup part): our full and incremental backups, restore and verify on a generated
// 100 MB and 1 GiB database, each next to its peer measured in the same run (zip -1, unzip, restic).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSqliteEngine } from '../src/core/sqlite/loadEngine';
import { ArchiveWriter } from '../src/core/backup/archiveWriter';
import { createBackup } from '../src/core/backup/backupCreation';
import { collectListedPages } from '../src/core/backup/changedPages';
import { SnapshotHasher } from '../src/core/backup/snapshotHasher';
import { readSqliteHeader } from '../src/core/sqlite/sqliteHeader';
import { buildBackupWorkspace, CLI, ratio, ROOT, settleDisk } from './benchWorkspace';
import { workspaceConfigFor } from '../src/core/workspaceConfig';
import { createWorkspaceContext, silentLogger, type Logger, type WorkspaceContext } from '../src/core/workspaceContext';

const SIZES_MB = (process.env.BENCH_BACKUP_SIZES_MB ?? '100,1024').split(',').map(Number);
/** With BENCH_DEBUG=1 the in-process backups print the core's phase timings on stderr, and the CLI runs print theirs (ENVPROFILES_DEBUG=1). */
const BENCH_DEBUG = process.env.BENCH_DEBUG === '1';

interface Measured {
  seconds: number;
  peakMb: number;
  stdout: string;
}

/** Runs a command under /usr/bin/time to get wall time and peak RSS of that process (after `settleDisk`). */
function measure(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Measured {
  settleDisk();
  const timeFile = path.join(ROOT, '.bench', 'time.out');
  const result = spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%e %M', command, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  if (BENCH_DEBUG && result.stderr) process.stderr.write(result.stderr);
  const [seconds, kb] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds, peakMb: kb / 1024, stdout: result.stdout };
}

function dirSize(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirSize(full) : fs.statSync(full).size;
  }
  return total;
}

function updateOnePercent(dir: string, round: number): void {
  const node = process.execPath;
  const script = `const {DatabaseSync}=require('node:sqlite');const db=new DatabaseSync(${JSON.stringify(path.join(dir, 'data/market_data.sqlite3'))});db.exec('UPDATE price_data SET close = close + ${round}, volume = volume + 1 WHERE abs(random()) % 100 = 0');db.close();`;
  const result = spawnSync(node, ['-e', script]);
  if (result.status !== 0) throw new Error(String(result.stderr));
}

async function databaseFacts(file: string): Promise<{ rows: number; rowBytes: number; rowsPerPage: number }> {
  const engine = await loadSqliteEngine();
  const db = engine.open(file, { readOnly: true });
  try {
    const rows = Number(db.all('SELECT count(*) AS n FROM price_data')[0].n);
    const size = fs.statSync(file).size;
    return { rows, rowBytes: Math.round(size / rows), rowsPerPage: Math.round((rows / size) * 4096) };
  } finally {
    db.close();
  }
}

/** The in-process backups' phase timings on stderr (see BENCH_DEBUG). */
function benchLogger(): Logger {
  const debug = BENCH_DEBUG ? (message: string) => process.stderr.write(`  in process: ${message}\n`) : () => {};
  return { ...silentLogger, debug };
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

/** The run with the median time (its peak RSS is reported with it). */
function median<T>(runs: T[], seconds: (run: T) => number): T {
  return [...runs].sort((a, b) => seconds(a) - seconds(b))[Math.floor(runs.length / 2)];
}

const cli = (dir: string, ...args: string[]): Measured => measure(process.execPath, [CLI, ...args, '--workspace', dir, '--json'], { env: BENCH_DEBUG ? { ENVPROFILES_DEBUG: '1' } : {} });
const mb = (bytes: number): string => (bytes / 1048576).toFixed(1);

async function benchSize(sizeMb: number): Promise<string[]> {
  const dir = await buildBackupWorkspace(sizeMb);
  const dbFile = path.join(dir, 'data/market_data.sqlite3');
  const dbBytes = fs.statSync(dbFile).size;
  const scratch = path.join(ROOT, '.bench', `scratch-${sizeMb}`);
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.mkdirSync(scratch, { recursive: true });
  fs.rmSync(path.join(dir, '.envprofiles/backups'), { recursive: true, force: true });
  for (const p of fs.readdirSync(path.join(dir, '.envprofiles/profiles'))) if (p !== 'bench.yaml') fs.rmSync(path.join(dir, '.envprofiles/profiles', p));
  for (const d of fs.readdirSync(path.join(dir, 'data'))) if (d.startsWith('restored')) fs.rmSync(path.join(dir, 'data', d), { recursive: true, force: true });

  // One unmeasured backup and zip first: the first run after building or updating the database pays for
  // a cold page cache, and that is not what the figures compare.
  cli(dir, 'backup', 'bench', '--full');
  measure('zip', ['-1', '-q', path.join(scratch, 'warmup.zip'), 'data/market_data.sqlite3'], { cwd: dir });
  // Each timed figure is the median of ROUNDS runs (ours and the peer alternate), so one slow run
  // (page-cache writeback, the other core busy) does not decide a ratio.
  const fulls: Measured[] = [];
  const zips: Measured[] = [];
  const incrs: Measured[] = [];
  let fullResult: { id: string; sizeBytes: number } = { id: '', sizeBytes: 0 };
  let incrResult: { id: string; sizeBytes: number; databaseDetails: { name: string; pagesStored: number; pageCount: number }[] } = { id: '', sizeBytes: 0, databaseDetails: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const full = cli(dir, 'backup', 'bench', '--full');
    fulls.push(full);
    fullResult = JSON.parse(full.stdout).result;
    fs.rmSync(path.join(scratch, 'peer.zip'), { force: true });
    zips.push(measure('zip', ['-1', '-q', path.join(scratch, 'peer.zip'), 'data/market_data.sqlite3'], { cwd: dir }));
    updateOnePercent(dir, 1);
    const incr = cli(dir, 'backup', 'bench', '--incremental');
    incrs.push(incr);
    incrResult = JSON.parse(incr.stdout).result;
  }
  const full = median(fulls, (run) => run.seconds);
  const zip = median(zips, (run) => run.seconds);
  const incr = median(incrs, (run) => run.seconds);
  const zipBytes = fs.statSync(path.join(scratch, 'peer.zip')).size;

  const verify = cli(dir, 'verify', fullResult.id);
  const restores: Measured[] = [];
  const unzips: Measured[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    restores.push(cli(dir, 'restore', fullResult.id, '--as-new', `restored_${round}`));
    fs.rmSync(path.join(dir, 'data', `restored_${round}`), { recursive: true, force: true });
    fs.rmSync(path.join(dir, '.envprofiles/profiles', `restored_${round}.yaml`), { force: true });
    fs.rmSync(path.join(scratch, 'unzipped'), { recursive: true, force: true });
    unzips.push(measure('unzip', ['-q', '-o', path.join(scratch, 'peer.zip'), '-d', path.join(scratch, 'unzipped')]));
  }
  const restore = median(restores, (run) => run.seconds);
  const unzip = median(unzips, (run) => run.seconds);
  // The incremental too (its chain: the full, then its pages), once each: for time and memory.
  const incrVerify = cli(dir, 'verify', incrResult.id);
  const incrRestore = cli(dir, 'restore', incrResult.id, '--as-new', 'restored_incr');
  fs.rmSync(path.join(dir, 'data', 'restored_incr'), { recursive: true, force: true });
  fs.rmSync(path.join(dir, '.envprofiles/profiles', 'restored_incr.yaml'), { force: true });
  // Over the profile itself, what a user runs: first the safety backup of the current state (an
  // incremental here) and its verification (the chain rebuilt and checked), then the rebuild and swap.
  const overProfile = cli(dir, 'restore', fullResult.id);

  // restic, same file, same two states.
  const repo = path.join(scratch, 'restic');
  const resticEnv = { RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: repo, RESTIC_CACHE_DIR: path.join(scratch, 'restic-cache') };
  updateOnePercent(dir, 2);
  spawnSync('restic', ['init', '-q'], { env: { ...process.env, ...resticEnv } });
  const repoEmpty = dirSize(repo);
  const resticFull = measure('restic', ['backup', '-q', 'data/market_data.sqlite3'], { cwd: dir, env: resticEnv });
  const repoAfterFull = dirSize(repo);
  const ourFull2 = cli(dir, 'backup', 'bench', '--full');
  const ourFull2Result = JSON.parse(ourFull2.stdout).result;
  updateOnePercent(dir, 3);
  const resticIncr = measure('restic', ['backup', '-q', 'data/market_data.sqlite3'], { cwd: dir, env: resticEnv });
  const repoAfterIncr = dirSize(repo);
  const ourIncr2 = cli(dir, 'backup', 'bench', '--incremental');
  const ourIncr2Result = JSON.parse(ourIncr2.stdout).result;

  // The same backups in process, the core without the CLI (no Node start, no module loading); medians
  // of ROUNDS runs like the CLI figures.
  const context = createWorkspaceContext(dir, await loadSqliteEngine(), { logger: benchLogger() });
  const inProcessFulls: number[] = [];
  const inProcessIncrs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    settleDisk();
    let started = performance.now();
    await createBackup(context, { profileId: 'bench', kind: 'full', reason: 'bench' });
    inProcessFulls.push((performance.now() - started) / 1000);
    updateOnePercent(dir, 4 + round);
    settleDisk();
    started = performance.now();
    await createBackup(context, { profileId: 'bench', kind: 'incremental', reason: 'bench' });
    inProcessIncrs.push((performance.now() - started) / 1000);
  }
  const inProcessFull = median(inProcessFulls, (s) => s);
  const inProcessIncr = median(inProcessIncrs, (s) => s);

  // The longest chain there can be (a full, then max_chain incrementals): verify and restore rebuild
  // through every archive of it, which is where their memory is put to the test.
  const maxChain = workspaceConfigFor(context).backups.maxChain;
  cli(dir, 'backup', 'bench', '--full');
  let chainEnd: { id: string; chain: string[] } = { id: '', chain: [] };
  for (let k = 0; k < maxChain; k++) {
    updateOnePercent(dir, 10 + k);
    chainEnd = JSON.parse(cli(dir, 'backup', 'bench', '--incremental').stdout).result;
  }
  if (chainEnd.chain.length !== maxChain) throw new Error(`the chain has ${chainEnd.chain.length} archives before its last, not ${maxChain}`);
  const chainVerify = cli(dir, 'verify', chainEnd.id);
  const chainRestore = cli(dir, 'restore', chainEnd.id, '--as-new', 'restored_chain');
  fs.rmSync(path.join(dir, 'data', 'restored_chain'), { recursive: true, force: true });
  fs.rmSync(path.join(dir, '.envprofiles/profiles', 'restored_chain.yaml'), { force: true });
  const verifyMbps = dbBytes / 1048576 / verify.seconds;
  const facts = await databaseFacts(dbFile);
  const touched = incrResult.databaseDetails.find((d: { name: string }) => d.name === 'market_data');
  if (!touched) throw new Error('the incremental backup did not report the market_data database');
  const floor = await incrementalFloor(context, dbFile, scratch, touched.pagesStored);
  fs.rmSync(scratch, { recursive: true, force: true });
  return [
    `### ${mb(dbBytes)} MB database (${new Date().toISOString().slice(0, 10)})`,
    '',
    `${facts.rows} rows of about ${facts.rowBytes} bytes (${facts.rowsPerPage} per 4 KiB page). The update changes a random 1 % of the rows, which touched ${touched.pagesStored} of ${touched.pageCount} pages (${(100 * touched.pagesStored / touched.pageCount).toFixed(1)} %).`,
    '',
    '| measurement | ours | peer | ratio (ours / peer) | peak RSS ours / peer |',
    '|---|---|---|---|---|',
    `| full backup, time | ${full.seconds.toFixed(2)} s | \`zip -1\` ${zip.seconds.toFixed(2)} s | ${ratio(full.seconds, zip.seconds)} (goal ≤ 0.8×) | ${full.peakMb.toFixed(0)} MB / ${zip.peakMb.toFixed(0)} MB |`,
    `| full backup, size | ${mb(fullResult.sizeBytes)} MB | \`zip -1\` ${mb(zipBytes)} MB | ${ratio(fullResult.sizeBytes, zipBytes)} | |`,
    `| incremental after 1 % of rows updated, size | ${mb(incrResult.sizeBytes)} MB | our full ${mb(fullResult.sizeBytes)} MB | ${(100 * incrResult.sizeBytes / fullResult.sizeBytes).toFixed(1)} % (goal ≤ 8 %) | |`,
    `| incremental after 1 % of rows updated, time | ${incr.seconds.toFixed(2)} s | our full ${full.seconds.toFixed(2)} s | ${ratio(incr.seconds, full.seconds)} (goal ≤ 0.3×) | ${incr.peakMb.toFixed(0)} MB |`,
    `| restore (rebuild, verify, write) | ${restore.seconds.toFixed(2)} s | \`unzip\` ${unzip.seconds.toFixed(2)} s | ${ratio(restore.seconds, unzip.seconds)} (goal ≤ 1.2×) | ${restore.peakMb.toFixed(0)} MB / ${unzip.peakMb.toFixed(0)} MB |`,
    `| verify (SHA-256 of every entry, rebuild, integrity_check) | ${verify.seconds.toFixed(2)} s, ${verifyMbps.toFixed(0)} MB/s of database | | | ${verify.peakMb.toFixed(0)} MB |`,
    `| restore over the profile: safety backup of the current state, its verification, then the restore (one run) | ${overProfile.seconds.toFixed(2)} s | \`unzip\` ${unzip.seconds.toFixed(2)} s | ${ratio(overProfile.seconds, unzip.seconds)} | ${overProfile.peakMb.toFixed(0)} MB |`,
    `| restore of the incremental (full + changed pages, checked page by page; one run) | ${incrRestore.seconds.toFixed(2)} s | \`unzip\` of the full ${unzip.seconds.toFixed(2)} s | ${ratio(incrRestore.seconds, unzip.seconds)} | ${incrRestore.peakMb.toFixed(0)} MB |`,
    `| verify of the incremental (one run) | ${incrVerify.seconds.toFixed(2)} s, ${(dbBytes / 1048576 / incrVerify.seconds).toFixed(0)} MB/s of database | | | ${incrVerify.peakMb.toFixed(0)} MB |`,
    `| restore of the last incremental of a chain of ${maxChain} (max_chain; one run) | ${chainRestore.seconds.toFixed(2)} s | \`unzip\` of the full ${unzip.seconds.toFixed(2)} s | ${ratio(chainRestore.seconds, unzip.seconds)} | ${chainRestore.peakMb.toFixed(0)} MB |`,
    `| verify of that chain (one run) | ${chainVerify.seconds.toFixed(2)} s, ${(dbBytes / 1048576 / chainVerify.seconds).toFixed(0)} MB/s of database | | | ${chainVerify.peakMb.toFixed(0)} MB |`,
    `| full backup vs restic first backup, time | ${ourFull2.seconds.toFixed(2)} s | restic ${resticFull.seconds.toFixed(2)} s | ${ratio(ourFull2.seconds, resticFull.seconds)} | ${ourFull2.peakMb.toFixed(0)} MB / ${resticFull.peakMb.toFixed(0)} MB |`,
    `| full backup vs restic first backup, bytes added | ${mb(ourFull2Result.sizeBytes)} MB | restic ${mb(repoAfterFull - repoEmpty)} MB | ${ratio(ourFull2Result.sizeBytes, repoAfterFull - repoEmpty)} | |`,
    `| incremental vs restic second backup, time | ${ourIncr2.seconds.toFixed(2)} s | restic ${resticIncr.seconds.toFixed(2)} s | ${ratio(ourIncr2.seconds, resticIncr.seconds)} (goal < 1×) | ${ourIncr2.peakMb.toFixed(0)} MB / ${resticIncr.peakMb.toFixed(0)} MB |`,
    `| full backup in process (the core without the CLI), time | ${inProcessFull.toFixed(2)} s | \`zip -1\` ${zip.seconds.toFixed(2)} s | ${ratio(inProcessFull, zip.seconds)} | |`,
    `| incremental in process, time | ${inProcessIncr.toFixed(2)} s | in-process full ${inProcessFull.toFixed(2)} s | ${ratio(inProcessIncr, inProcessFull)} | |`,
    `| parts every incremental has, each alone and warm: starting the CLI ${floor.start.toFixed(2)} s, the backup-API snapshot ${floor.snapshot.toFixed(2)} s, SHA-256 of every page on both cores ${floor.hash.toFixed(2)} s, deflating and writing ${touched.pagesStored} pages on both cores ${floor.deflate.toFixed(2)} s | ${floor.total.toFixed(2)} s | our full ${full.seconds.toFixed(2)} s | ${ratio(floor.total, full.seconds)} | |`,
    `| the same parts without starting the CLI | ${(floor.total - floor.start).toFixed(2)} s | in-process full ${inProcessFull.toFixed(2)} s | ${ratio(floor.total - floor.start, inProcessFull)} | |`,
    `| incremental, time against those parts | ${incr.seconds.toFixed(2)} s | their sum ${floor.total.toFixed(2)} s | ${ratio(incr.seconds, floor.total)} | |`,
    `| incremental vs restic second backup, bytes added | ${mb(ourIncr2Result.sizeBytes)} MB | restic ${mb(repoAfterIncr - repoAfterFull)} MB | ${ratio(ourIncr2Result.sizeBytes, repoAfterIncr - repoAfterFull)} (goal < 1×) | |`,
    '',
  ];
}

/**
 * The parts no incremental backup can skip, each measured alone (medians of ROUNDS, warm): starting the
 * CLI, the backup-API snapshot of the database, hashing every page of it on both cores, and deflating
 * and writing as many pages as the incremental stored (`changedPages`, taken evenly across the
 * snapshot: this data compresses alike everywhere) on both cores, with the backup's own page packing
 * and archive writer. Set
 * against the full backup, their sum shows how close an incremental can come to the full at this size.
 */
async function incrementalFloor(context: WorkspaceContext, dbFile: string, scratch: string, changedPages: number): Promise<{ start: number; snapshot: number; hash: number; deflate: number; total: number }> {
  const place = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : scratch, 'envprofiles-floor-'));
  const hasher = new SnapshotHasher();
  const starts: number[] = [];
  const snapshots: number[] = [];
  const hashes: number[] = [];
  const deflates: number[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      settleDisk();
      let started = performance.now();
      spawnSync(process.execPath, [CLI, '--version']);
      starts.push((performance.now() - started) / 1000);
      const snapshot = path.join(place, 'snapshot.sqlite3');
      const index = path.join(place, 'snapshot.pagehash');
      started = performance.now();
      await context.engine.snapshot(dbFile, snapshot);
      snapshots.push((performance.now() - started) / 1000);
      const pageSize = readSqliteHeader(snapshot)?.pageSize ?? 4096;
      started = performance.now();
      await hasher.hash(snapshot, index, pageSize, Math.ceil(fs.statSync(snapshot).size / pageSize), () => {});
      hashes.push((performance.now() - started) / 1000);
      started = performance.now();
      const pageCount = Math.floor(fs.statSync(snapshot).size / pageSize);
      const fd = fs.openSync(snapshot, 'r');
      try {
        const archive = new ArchiveWriter(path.join(place, 'pages.zip'), 'fast', new Date());
        const pages = collectListedPages({ fd, pageSize, pageCount }, spreadPageNumbers(pageCount, changedPages));
        await archive.addStream('db/market_data.pages', pages.pieces, changedPages * (4 + pageSize));
        await archive.seal(0o644);
        archive.publish();
      } finally {
        fs.closeSync(fd);
      }
      deflates.push((performance.now() - started) / 1000);
      fs.rmSync(path.join(place, 'pages.zip'));
      fs.rmSync(snapshot);
      fs.rmSync(index);
    }
  } finally {
    hasher.close();
    fs.rmSync(place, { recursive: true, force: true });
  }
  const [start, snapshot, hash, deflate] = [starts, snapshots, hashes, deflates].map((runs) => median(runs, (s) => s));
  return { start, snapshot, hash, deflate, total: start + snapshot + hash + deflate };
}

/** `count` page numbers (0-based) of a file of `pageCount` pages, evenly spread. */
function spreadPageNumbers(pageCount: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.floor((i * pageCount) / count));
}

/** The peers and the timer this benchmark runs: without one, it says so before an hour of work, not with a crash in it. */
function requirePeers(): void {
  const missing = ['zip', 'unzip', 'restic'].filter((tool) => spawnSync('/bin/sh', ['-c', `command -v ${tool}`]).status !== 0);
  if (!fs.existsSync('/usr/bin/time')) missing.push('time (/usr/bin/time)');
  if (missing.length === 0) return;
  process.stderr.write(`The backup benchmark measures each figure next to its peer, and needs: ${missing.join(', ')}. Run "npm run bench", which installs them (Debian's packages), or install them yourself.\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  requirePeers();
  const lines = [`Backups (node:sqlite, Node ${process.version}, compression fast = deflate level 1, 2 cores; the CLI is a new process, so its times include starting Node; times are medians of ${ROUNDS} runs, after one unmeasured warm-up run; every timed run starts after a sync)`, ''];
  for (const size of SIZES_MB) lines.push(...(await benchSize(size)));
  process.stdout.write(`${lines.join('\n')}\n`);
  if (process.env.BENCH_WRITE_DOCS !== '0') {
    fs.mkdirSync(path.join(ROOT, 'docs', 'benchmarks'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'docs', 'benchmarks', 'backup.md'), `# Backup benchmarks\n\nWritten by \`npm run bench\` (the latest run).\n\n${lines.join('\n')}\n`);
  }
}

void main();
