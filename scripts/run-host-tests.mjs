// Runs the extension's tests inside a real VS Code extension host (code-server's Node host, offline),
// driven by Debian's Chromium through playwright-core. Exit 0: pass; 1: a test failed; 2: the host
// could not be started or timed out.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath, node24, prepareState, root, startServer, stateEnv, waitForHealth } from './codeServerHost.mjs';

const state = path.join(root, '.vscode-test-cs');
const port = Number(process.env.VSCODE_HOST_PORT ?? 8123);
const timeoutMs = Number(process.env.VSCODE_TEST_TIMEOUT_MS ?? 240000);

// Fresh state and a fresh fixture workspace: the demo workspace (three profiles over real WAL databases).
let server;
const workspace = path.join(state, 'workspace');
/** What the window opens: the workspace folder, or a .code-workspace file for the multi-root suite. */
let opened = { kind: 'folder', path: workspace };
try {
  prepareState(state);
  const demo = spawnSync(node24, [path.join(root, 'dist/demo.js'), workspace, '--quiet'], { encoding: 'utf8' });
  if (demo.status !== 0) throw new Error(`could not write the fixture workspace: ${demo.stderr}`);
  if (process.env.HOST_FIXTURE === 'large-tree') writeLargeTree(workspace);
  if (process.env.HOST_FIXTURE === 'multi-root') opened = writeMultiRoot(workspace);
  const trust = process.env.HOST_TRUST === 'untrusted' ? [] : ['--disable-workspace-trust'];
  server = startServer(state, port, [...trust, '--vscode-option', 'enable-smoke-test-driver', '--ignore-last-opened', opened.path]);
} catch (error) {
  console.error(String(error?.message ?? error));
  process.exit(2);
}

/** Two folders: the demo workspace as "trading-bot" and a second folder with one profile of its own. */
function writeMultiRoot(demoDir) {
  const parent = path.dirname(demoDir);
  const bot = path.join(parent, 'trading-bot');
  fs.renameSync(demoDir, bot);
  const pipeline = path.join(parent, 'data-pipeline');
  fs.mkdirSync(path.join(pipeline, '.envprofiles/profiles'), { recursive: true });
  fs.mkdirSync(path.join(pipeline, 'db'), { recursive: true });
  fs.copyFileSync(path.join(bot, 'data/dev/settings.sqlite3'), path.join(pipeline, 'db/jobs.sqlite3'));
  fs.writeFileSync(path.join(pipeline, '.envprofiles/profiles/pipeline_dev.yaml'), 'profile:\n  id: pipeline_dev\n  name: Pipeline dev\n  type: DEVELOPMENT\n  databases:\n    jobs: db/jobs.sqlite3\n');
  const file = path.join(parent, 'two-folders.code-workspace');
  fs.writeFileSync(file, JSON.stringify({ folders: [{ path: 'trading-bot' }, { path: 'data-pipeline' }] }));
  return { kind: 'workspace', path: file };
}

/** 50 profiles (over the demo databases) with 100 catalogued backups each, for the tree benchmark. */
function writeLargeTree(dir) {
  const template = fs.readFileSync(path.join(dir, '.envprofiles/profiles/test_environment_001.yaml'), 'utf8');
  for (let i = 0; i < 47; i++) {
    const id = `bench_profile_${String(i).padStart(2, '0')}`;
    fs.writeFileSync(path.join(dir, '.envprofiles/profiles', `${id}.yaml`), template.replaceAll('test_environment_001', id).replace('테스트 환경', `Bench ${i}`));
  }
  for (const file of fs.readdirSync(path.join(dir, '.envprofiles/profiles'))) {
    const id = file.replace(/\.yaml$/, '');
    const backups = Array.from({ length: 100 }, (_, n) => {
      const createdAt = new Date(Date.UTC(2025, 0, 1) + n * 3600_000).toISOString();
      const kind = n % 7 === 0 ? 'full' : 'incremental';
      return { id: `${id}.${n}`, profileId: id, file: `${id}.${n}.zip`, kind, parent: n % 7 === 0 ? null : `${id}.${n - 1}`, chain: [], createdAt, reason: 'bench', sizeBytes: 1048576, sha256: '0'.repeat(64), databases: ['settings'], verified: n % 3 === 0 ? { at: createdAt, ok: true, detail: '' } : null };
    });
    fs.mkdirSync(path.join(dir, '.envprofiles/backups', id), { recursive: true });
    fs.writeFileSync(path.join(dir, '.envprofiles/backups', id, 'catalog.json'), JSON.stringify({ version: 1, profileId: id, backups }));
  }
}

let exitCode = 2;
let browser;
/** What the suite said when it ended (the line of src/test/host/suiteResult.ts); none when the extension host stopped before. */
let suiteResult;
try {
  await waitForHealth(port, server.log);
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    env: stateEnv(state),
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const finished = new Promise((resolve) => {
    page.exposeFunction('codeAutomationLog', (type, args) => {
      const text = format(...(args ?? []));
      // The workbench logs a lot about itself; keep the tests' output (and everything with VERBOSE=1).
      if (process.env.VERBOSE || /✔|✗|passing|failing|pending|^\s+\d+\)|Error|assert|Environment Profiles|ENVPROFILES_BENCH|^\s+at /.test(text)) console.log(text);
      const ended = /ENVPROFILES_SUITE_RESULT failures=(\d+) passes=(\d+) tests=(\d+)/.exec(text);
      if (ended) suiteResult = { failures: Number(ended[1]), passes: Number(ended[2]), tests: Number(ended[3]) };
    });
    page.exposeFunction('codeAutomationExit', (code) => resolve(code));
  });
  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload = JSON.stringify([['extensionDevelopmentPath', remote(root)], ['extensionTestsPath', remote(path.join(root, process.env.HOST_ENTRY ?? 'out/host/index.js'))]]);
  await page.goto(`http://127.0.0.1:${port}/?${opened.kind}=${encodeURIComponent(opened.path)}&payload=${encodeURIComponent(payload)}`);
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), timeoutMs));
  const result = await Promise.race([finished, timeout]);
  if (result === 'timeout') {
    console.error(`the extension tests did not finish within ${timeoutMs} ms`);
    if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });
    exitCode = 2;
  } else if (result === 0 && !suiteResult) {
    console.error('the extension host stopped before the suite reported its end (a crash or a lost connection): counted as a failure');
    exitCode = 1;
  } else if (result === 0 && (suiteResult.failures > 0 || suiteResult.passes === 0)) {
    console.error(`the suite reported ${suiteResult.failures} failure(s) and ${suiteResult.passes} passing of ${suiteResult.tests} test(s)`);
    exitCode = 1;
  } else exitCode = result === 0 ? 0 : 1;
} catch (error) {
  console.error(String(error?.stack ?? error));
  exitCode = 2;
} finally {
  await browser?.close().catch(() => {});
  server.stop();
}
console.log(exitCode === 0 ? 'extension host tests: passed' : `extension host tests: FAILED (exit ${exitCode})`);
process.exit(exitCode);
