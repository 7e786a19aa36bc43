import * as assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ToParent } from '../src/cli/parentChannel';
import { readCatalog } from '../src/core/backup/backupCatalog';
import { BackupLayout } from '../src/core/backup/backupLayout';
import { defaultConfig } from '../src/core/workspaceConfig';
import { SMALL_YOUNG_GENERATION_FLAG } from '../src/core/youngGeneration';
import { NO_TEST_HOOKS } from './support/steppedRuns';
import { CLI, demoWorkspace, tempDir, temporaryFiles } from './support/workspaces';

const DEV = 'dev_environment_001';

interface ChildRun {
  child: ChildProcess;
  messages: ToParent[];
  done: Promise<{ code: number | null; json: { ok: boolean; result?: any; error?: any } }>;
}

/** The CLI forked as the extension forks it: an IPC channel, --json on stdout. */
function forkCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildRun {
  const child = fork(CLI, [...args, '--json'], { execArgv: [SMALL_YOUNG_GENERATION_FLAG], env: { ...process.env, ...NO_TEST_HOOKS, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const messages: ToParent[] = [];
  child.on('message', (message: ToParent) => messages.push(message));
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const done = new Promise<{ code: number | null; json: any }>((resolve) => child.on('close', (code) => resolve({ code, json: JSON.parse(stdout) })));
  return { child, messages, done };
}

describe('the CLI as the extension\'s child process (IPC channel)', () => {
  it('a backup reports its progress to the parent, ends with its pid and lowered priority, and exits by itself', async () => {
    const { root } = await demoWorkspace();
    const run = forkCli(['backup', DEV, '--full', '--workspace', root]);
    const { code, json } = await run.done;
    assert.equal(code, 0);
    assert.equal(json.ok, true);
    assert.match(json.result.id, /^dev_environment_001\.\d{8}T\d{6}-\d{3}Z\.full$/);
    const progress = run.messages.filter((m) => m.type === 'progress');
    assert.ok(progress.some((m) => m.type === 'progress' && /^Snapshotting settings/.test(m.message)), JSON.stringify(progress));
    assert.deepEqual(run.messages.filter((m) => m.type === 'finished'), [{ type: 'finished', pid: run.child.pid, priority: 10 }]);
  });

  it('a "cancel" message stops a backup at its next safe point: CANCELLED, no archive listed, nothing left behind', async () => {
    const { root, context } = await demoWorkspace();
    const hold = path.join(tempDir(), 'release');
    const run = forkCli(['backup', DEV, '--full', '--workspace', root], { ENVPROFILES_TEST_HOLD_AT: 'snapshot:market_data', ENVPROFILES_TEST_HOLD_FILE: hold });
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(`${hold}.reached`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(fs.existsSync(`${hold}.reached`), 'the backup reached its held step');
    run.child.send({ type: 'cancel' });
    fs.writeFileSync(hold, '');
    const { code, json } = await run.done;
    assert.equal(json.error?.code, 'CANCELLED', JSON.stringify(json));
    assert.equal(code, 1);
    assert.deepEqual(readCatalog(new BackupLayout(context.layout, defaultConfig()), DEV), []);
    assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/backups', DEV)).filter((f) => f.endsWith('.zip')), []);
    assert.deepEqual(temporaryFiles(root), []);
  });

  it('an error comes back typed in the JSON (code, kind, hint), and the process still exits', async () => {
    const { root } = await demoWorkspace();
    const run = forkCli(['verify', 'no_such_backup', '--workspace', root]);
    const { code, json } = await run.done;
    assert.equal(code, 1);
    assert.equal(json.error.code, 'BACKUP_NOT_FOUND');
    assert.equal(json.error.kind, 'failure');
    assert.match(json.error.hint, /envprofiles backups/);
    assert.equal(run.messages.filter((m) => m.type === 'finished').length, 1);
  });

  it('a verify of an incremental in a child with a small young generation (64 KiB inflate pieces) rebuilds and checks every database', async () => {
    const { root } = await demoWorkspace(5000);
    assert.equal((await forkCli(['backup', DEV, '--full', '--workspace', root]).done).code, 0);
    const { DatabaseSync } = require('node:sqlite') as typeof import('node:sqlite');
    const db = new DatabaseSync(path.join(root, 'data/dev/market_data.sqlite3'));
    db.exec('UPDATE price_data SET close = close + 1 WHERE rowid % 10 = 0');
    db.close();
    const incremental = await forkCli(['backup', DEV, '--incremental', '--workspace', root]).done;
    assert.equal(incremental.json.result.kind, 'incremental');
    const { code, json } = await forkCli(['verify', incremental.json.result.id, '--workspace', root]).done;
    assert.equal(code, 0, JSON.stringify(json.error ?? json.result?.problems));
    assert.equal(json.result.ok, true);
    assert.deepEqual(json.result.databases.map((d: { name: string }) => d.name).sort(), ['market_data', 'settings', 'strategies']);
    assert.ok(json.result.bytesChecked > 1048576, `${json.result.bytesChecked} bytes: several pieces of output`);
  });
});
