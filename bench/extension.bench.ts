// npm run bench (extension part): bundle sizes, activation time and tree rendering in a real VS Code
// extension host (code-server), next to their peers (the bundle next to the package; the first level
// against the 100 ms goal).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

function main(): void {
  const extensionBytes = fs.statSync(path.join(ROOT, 'dist/extension.js')).size;
  const wasmBytes = fs.statSync(path.join(ROOT, 'dist/sql-wasm.wasm')).size;
  const setup = spawnSync('sh', [path.join(ROOT, 'scripts/setup-code-server.sh')], { stdio: 'inherit' });
  if (setup.status !== 0) throw new Error('code-server setup failed');
  const runs: Record<string, number>[] = [];
  for (let i = 0; i < 3; i++) {
    const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts/run-host-tests.mjs')], { encoding: 'utf8', env: { ...process.env, HOST_ENTRY: 'out/host/treeBench.js', HOST_FIXTURE: 'large-tree' } });
    const line = result.stdout.split('\n').find((l) => l.includes('ENVPROFILES_BENCH'));
    if (!line) throw new Error(`the host benchmark printed no result:\n${result.stdout}\n${result.stderr}`);
    runs.push(JSON.parse(line.slice(line.indexOf('{'))));
  }
  const med = (key: string): number => [...runs.map((r) => r[key])].sort((a, b) => a - b)[1];
  const lines = [
    `Extension (code-server ${'4.139.1'}, real Node extension host; medians of 3 launches, each of 30 renders; ${new Date().toISOString().slice(0, 10)})`,
    '',
    '| measurement | value | peer / goal |',
    '|---|---|---|',
    `| bundle \`dist/extension.js\` | ${(extensionBytes / 1024).toFixed(0)} KB | sql.js WASM beside it: ${(wasmBytes / 1024).toFixed(0)} KB |`,
    `| activation (activate() to ready: engine, model of ${runs[0].profiles} profiles, tree, status bar, commands) | ${med('activationMs').toFixed(0)} ms | |`,
    `| tree provider, first level: getChildren + getTreeItem of ${runs[0].profiles} profiles with ${runs[0].backupsPerProfile} backups each | ${med('firstLevelMedianMs').toFixed(2)} ms | goal ≤ 100 ms: ${med('firstLevelMedianMs') <= 100 ? 'met' : 'NOT met'} |`,
    `| tree, expanding one profile's ${runs[0].backupsPerProfile} backups | ${med('backupsExpandMedianMs').toFixed(2)} ms | |`,
    `| full refresh from disk (50 profile files, status, outputs) | ${med('refreshMedianMs').toFixed(1)} ms | |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (process.env.BENCH_WRITE_DOCS !== '0') {
    fs.mkdirSync(path.join(ROOT, 'docs', 'benchmarks'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'docs', 'benchmarks', 'extension.md'), `# Extension benchmarks\n\nWritten by \`npm run bench\` (the latest run).\n\n${lines.join('\n')}\n`);
  }
}

main();
