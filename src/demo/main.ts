import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { shellArgument } from '../core/shellArgument';
import { loadSqliteEngine } from '../core/sqlite/loadEngine';
import { createDemoWorkspace } from './demoWorkspace';

/** `npm run demo [DIR]`: writes the demo workspace (replacing an earlier demo) and shows the CLI at work. */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quiet = args.includes('--quiet');
  const root = path.resolve(args.find((a) => !a.startsWith('--')) ?? path.join(__dirname, '..', '.demo', 'workspace'));
  if (fs.existsSync(root)) {
    if (!fs.existsSync(path.join(root, '.envprofiles'))) {
      process.stderr.write(`error: ${root} exists and is not a demo workspace; choose an empty folder.\n`);
      process.exit(1);
    }
    fs.rmSync(root, { recursive: true, force: true });
  }
  const engine = await loadSqliteEngine();
  createDemoWorkspace(engine, root);
  process.stdout.write(`Demo workspace written to ${root} (SQLite engine: ${engine.name})\n`);
  if (quiet) return;
  const cli = path.join(__dirname, 'cli.js');
  const show = (...args: string[]): void => {
    process.stdout.write(`\n$ envprofiles ${args.join(' ')}\n`);
    const result = spawnSync(process.execPath, [cli, ...args, '--workspace', root], { encoding: 'utf8' });
    process.stdout.write(result.stdout);
    process.stdout.write(result.stderr);
    process.stdout.write(`(exit ${result.status})\n`);
  };
  show('list');
  show('validate', 'dev_environment_001');
  show('switch', 'dev_environment_001');
  show('switch', 'prod_environment_001');
  show('switch', 'prod_environment_001', '--confirm', 'prod_environment_001');
  show('status');
  show('switch', 'test_environment_001');
  process.stdout.write(`\nTry it yourself:\n  node ${shellArgument(path.relative(process.cwd(), cli))} list --workspace ${shellArgument(root)}\n  cat ${shellArgument(path.join(root, '.env'))}\n`);
}

void main();
