// npm run bench: switch latency over real 100 MB databases, next to its peers measured in the same run.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../src/core/atomicFile';
import { loadSqliteEngine } from '../src/core/sqlite/loadEngine';
import type { SqliteEngine } from '../src/core/sqlite/sqliteEngine';
import { switchProfile } from '../src/core/switchTransaction';
import { createWorkspaceContext } from '../src/core/workspaceContext';
import { DEFAULT_CONFIG_TEXT } from '../src/core/workspaceConfig';
import { DEMO_SCHEMA } from '../src/demo/demoSchema';

const ROOT = path.resolve(__dirname, '..', '..');
const WORKSPACE = path.join(ROOT, '.bench', 'switch-workspace');
const TARGET_BYTES = Number(process.env.BENCH_DB_MB ?? 100) * 1024 * 1024;
const SWITCHES = 100;

/** Fills a reference database with generated rows until it reaches `TARGET_BYTES`. */
function buildDatabase(engine: SqliteEngine, file: string, schema: string, fill: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = engine.open(file, { readOnly: false, create: true });
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(schema);
  let batch = 0;
  while (fs.statSync(file).size < TARGET_BYTES) {
    db.exec(`BEGIN; ${fill.replaceAll('$BATCH', String(batch++))}; COMMIT;`);
  }
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
}

function ensureWorkspace(engine: SqliteEngine): void {
  const marker = path.join(WORKSPACE, `.ready-${TARGET_BYTES}`);
  if (fs.existsSync(marker)) return;
  fs.rmSync(WORKSPACE, { recursive: true, force: true });
  process.stderr.write(`building three ${(TARGET_BYTES / 1048576).toFixed(0)} MB databases in ${WORKSPACE} …\n`);
  const series = (n: number) => `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n})`;
  buildDatabase(engine, path.join(WORKSPACE, 'data/a/settings.sqlite3'), DEMO_SCHEMA.settings,
    `INSERT INTO tv_trading_variables (name, category, value, updated_at) ${series(2000)} SELECT 'var_' || $BATCH || '_' || i, 'trading', hex(randomblob(16)), '2025-08-01' FROM s;` +
    `INSERT INTO tv_help_texts (variable_id, lang, body) SELECT id, 'en', hex(randomblob(400)) FROM tv_trading_variables WHERE name LIKE 'var_' || $BATCH || '_%'`);
  buildDatabase(engine, path.join(WORKSPACE, 'data/a/strategies.sqlite3'), DEMO_SCHEMA.strategies,
    `INSERT INTO strategy_profiles (name, description, created_at) VALUES ('s' || $BATCH, 'generated', '2025-07-01');` +
    `INSERT INTO backtest_results (strategy_id, period_start, period_end, pnl, trades) ${series(20000)} SELECT (SELECT max(id) FROM strategy_profiles), '2024-01-01', '2024-12-31', (random() % 100000) / 100.0, abs(random() % 500) FROM s`);
  buildDatabase(engine, path.join(WORKSPACE, 'data/a/market_data.sqlite3'), DEMO_SCHEMA.market_data,
    `INSERT INTO price_data ${series(20000)} SELECT 'SYM' || $BATCH, i * 60, 100 + (random() % 1000) / 100.0, 101, 99, 100 FROM s;` +
    `INSERT INTO volume_data ${series(20000)} SELECT 'SYM' || $BATCH, i * 60, abs(random() % 100000) FROM s`);
  fs.cpSync(path.join(WORKSPACE, 'data/a'), path.join(WORKSPACE, 'data/b'), { recursive: true });
  fs.mkdirSync(path.join(WORKSPACE, '.envprofiles/profiles'), { recursive: true });
  fs.writeFileSync(path.join(WORKSPACE, '.envprofiles/config.yaml'), DEFAULT_CONFIG_TEXT.replace('  links: {}', '  links:\n    data/settings.sqlite3: settings\n    data/strategies.sqlite3: strategies\n    data/market_data.sqlite3: market_data'));
  for (const [id, folder] of [['bench_a', 'a'], ['bench_b', 'b']]) {
    fs.writeFileSync(path.join(WORKSPACE, `.envprofiles/profiles/${id}.yaml`), `profile:\n  id: ${id}\n  name: Bench ${folder}\n  type: TESTING\n  databases:\n    settings: data/${folder}/settings.sqlite3\n    strategies: data/${folder}/strategies.sqlite3\n    market_data: data/${folder}/market_data.sqlite3\n  configurations:\n    api_mode: sandbox\n    log_level: INFO\n  schema:\n    required_tables:\n      settings: [tv_trading_variables]\n      market_data: [price_data]\n`);
  }
  fs.writeFileSync(marker, '');
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function row(name: string, samples: number[], peer?: { name: string; samples: number[] }): string {
  const p50 = percentile(samples, 50);
  const p95 = percentile(samples, 95);
  const ratio = peer ? `${(p50 / percentile(peer.samples, 50)).toFixed(1)}× ${peer.name}` : '';
  return `| ${name} | ${samples.length} | ${p50.toFixed(2)} | ${p95.toFixed(2)} | ${ratio} |`;
}

async function main(): Promise<void> {
  const engine = await loadSqliteEngine();
  ensureWorkspace(engine);
  const sizes = ['settings', 'strategies', 'market_data'].map((db) => `${db} ${(fs.statSync(path.join(WORKSPACE, `data/a/${db}.sqlite3`)).size / 1048576).toFixed(0)} MB`);
  const context = createWorkspaceContext(WORKSPACE, engine);
  const switches: number[] = [];
  for (let i = 0; i < SWITCHES + 5; i++) {
    const started = performance.now();
    await switchProfile(context, i % 2 === 0 ? 'bench_a' : 'bench_b');
    if (i >= 5) switches.push(performance.now() - started);
  }
  const stateWrites: number[] = [];
  const stateFile = path.join(WORKSPACE, '.envprofiles', 'bench-state.json');
  for (let i = 0; i < SWITCHES; i++) {
    const started = performance.now();
    writeFileAtomic(stateFile, JSON.stringify({ active: i % 2 ? 'bench_a' : 'bench_b', switchedAt: new Date().toISOString() }));
    stateWrites.push(performance.now() - started);
  }
  fs.rmSync(stateFile, { force: true });
  const cli = path.join(ROOT, 'dist', 'cli.js');
  const cliSwitches: number[] = [];
  const nodeStarts: number[] = [];
  for (let i = 0; i < 20; i++) {
    let started = performance.now();
    spawnSync(process.execPath, [cli, 'switch', i % 2 ? 'bench_a' : 'bench_b', '--workspace', WORKSPACE], { stdio: 'ignore' });
    cliSwitches.push(performance.now() - started);
    started = performance.now();
    spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
    nodeStarts.push(performance.now() - started);
  }
  const lines = [
    `Switch latency (${engine.name}, Node ${process.version}, ${sizes.join(', ')}; quick validation, 3 links, env file, state; ${new Date().toISOString().slice(0, 10)})`,
    '',
    '| measurement | runs | p50 ms | p95 ms | p50 ratio |',
    '|---|---|---|---|---|',
    row('switch (core, in process)', switches, { name: 'state file write', samples: stateWrites }),
    row('state file write alone (atomic: temp, fsync, rename)', stateWrites),
    row('`envprofiles switch` (new process)', cliSwitches, { name: 'bare node start', samples: nodeStarts }),
    row('bare `node -e ""` start', nodeStarts),
    '',
    `Goal: switch p50 ≤ 50 ms — ${percentile(switches, 50) <= 50 ? 'met' : 'NOT met'}.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (process.env.BENCH_WRITE_DOCS !== '0') {
    fs.mkdirSync(path.join(ROOT, 'docs', 'benchmarks'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'docs', 'benchmarks', 'switch.md'), `# Switch benchmarks\n\nWritten by \`npm run bench\` (the latest run on a 2-core machine).\n\n${lines.join('\n')}\n`);
  }
}

void main();
