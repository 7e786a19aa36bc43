// npm run bench (the event loop during backups in process): the core's operations in process, as the
// extension runs restore inside VS Code's extension host, whose one event loop every extension shares
// (backup and verify run in a child process of the extension, but the core must stay usable in
// process). For each
// operation on the backup benchmark's database (100 MB and 1 GiB), the longest time the loop went without
// a turn, next to its longest gap over as long with nothing running.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createBackup } from '../src/core/backup/backupCreation';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { verifyBackup } from '../src/core/backup/backupVerification';
import { loadSqliteEngine } from '../src/core/sqlite/loadEngine';
import { createWorkspaceContext, silentLogger } from '../src/core/workspaceContext';
import { buildBackupWorkspace, ratio, ROOT, settleDisk } from './benchWorkspace';

const SIZES_MB = (process.env.BENCH_BACKUP_SIZES_MB ?? '100,1024').split(',').map(Number);
const RESTORED = 'stall_restore';

/** Runs `work` while a 1 ms timer watches the loop; returns how long it took and the longest gap between two turns. */
async function watched(work: () => Promise<unknown>): Promise<{ seconds: number; worstGapMs: number }> {
  let last = performance.now();
  let worstGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worstGapMs = Math.max(worstGapMs, now - last);
    last = now;
  }, 1);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  worstGapMs = Math.max(worstGapMs, performance.now() - last);
  return { seconds: (performance.now() - started) / 1000, worstGapMs };
}

function removeRestoredProfile(dir: string): void {
  fs.rmSync(path.join(dir, 'data', RESTORED), { recursive: true, force: true });
  fs.rmSync(path.join(dir, '.envprofiles/profiles', `${RESTORED}.yaml`), { force: true });
}

async function benchSize(sizeMb: number): Promise<string[]> {
  const dir = await buildBackupWorkspace(sizeMb);
  const dbFile = path.join(dir, 'data/market_data.sqlite3');
  fs.rmSync(path.join(dir, '.envprofiles/backups'), { recursive: true, force: true });
  removeRestoredProfile(dir);
  const context = createWorkspaceContext(dir, await loadSqliteEngine(), { logger: silentLogger });
  const rows: { name: string; seconds: number; worstGapMs: number; idleGapMs: number }[] = [];
  const measure = async (name: string, work: () => Promise<unknown>): Promise<void> => {
    settleDisk();
    const busy = await watched(work);
    settleDisk();
    const idle = await watched(() => sleep(busy.seconds * 1000));
    rows.push({ name, ...busy, idleGapMs: idle.worstGapMs });
  };
  let incrementalId = '';
  try {
    await measure('full backup', () => createBackup(context, { profileId: 'bench', kind: 'full', reason: 'bench' }));
    const touch = (await loadSqliteEngine()).open(dbFile, { readOnly: false });
    touch.exec('UPDATE price_data SET volume = volume + 1 WHERE abs(random()) % 100 = 0');
    touch.close();
    await measure('incremental backup (1 % of rows updated)', async () => (incrementalId = (await createBackup(context, { profileId: 'bench', kind: 'incremental', reason: 'bench' })).entry.id));
    await measure('verify of the incremental (rebuild, page check, integrity_check, foreign_key_check)', () => verifyBackup(context, incrementalId));
    await measure('restore of the incremental as a new profile', () => restoreBackup(context, { reference: incrementalId, asNew: RESTORED }));
  } finally {
    removeRestoredProfile(dir);
    fs.rmSync(path.join(dir, '.envprofiles/backups'), { recursive: true, force: true });
  }
  return [
    `### ${(fs.statSync(dbFile).size / 1048576).toFixed(1)} MB database (${new Date().toISOString().slice(0, 10)})`,
    '',
    '| in process (the core, as the extension runs restore) | time | longest the event loop waited for a turn | the idle loop\'s longest gap over as long | ratio |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.seconds.toFixed(2)} s | ${r.worstGapMs.toFixed(0)} ms | ${r.idleGapMs.toFixed(0)} ms | ${ratio(r.worstGapMs, r.idleGapMs, 1)} |`),
    '',
  ];
}

async function main(): Promise<void> {
  const lines = [`The event loop during backups in process (node:sqlite, Node ${process.version}, 2 cores; a 1 ms timer measures the gaps; each run after a sync).`, ''];
  for (const size of SIZES_MB) lines.push(...(await benchSize(size)));
  process.stdout.write(`${lines.join('\n')}\n`);
  if (process.env.BENCH_WRITE_DOCS !== '0') {
    fs.mkdirSync(path.join(ROOT, 'docs', 'benchmarks'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'docs', 'benchmarks', 'event-loop.md'), `# The event loop during backups in process\n\nWritten by \`npm run bench\` (the latest run).\n\n${lines.join('\n')}\n`);
  }
}

void main();
