// The main job: the demo workspace opened in a real VS Code (code-server) with the packaged extension.
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { entry, node24, prepareState, root, startServer, stateEnv, waitForHealth } from './codeServerHost.mjs';

const port = Number(process.env.PORT ?? 8080);
const state = path.join(root, '.vscode-start');
const workspace = path.resolve(process.argv[2] ?? path.join(root, '.demo', 'workspace'));

/** Whether something already listens on the port (often an earlier `npm start` still running). */
const portTaken = () =>
  new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
if (await portTaken()) {
  console.error(`Port ${port} is already in use (an earlier npm start still running?). Stop that, or choose another port: PORT=8081 npm start`);
  process.exit(1);
}

prepareState(state, { 'workbench.colorTheme': 'Default Dark Modern' });
const demo = spawnSync(node24, [path.join(root, 'dist/demo.js'), workspace, '--quiet'], { encoding: 'utf8' });
if (demo.status !== 0) {
  console.error(demo.stderr);
  process.exit(1);
}
// A few backups so the explorer has something to show under "Backups" (one verified, one incremental).
const cli = (...args) => spawnSync(node24, [path.join(root, 'dist/cli.js'), ...args, '--workspace', workspace, '--json'], { encoding: 'utf8' });
const full = cli('backup', 'dev_environment_001', '--full', '--reason', 'demo');
if (full.status === 0) {
  cli('verify', JSON.parse(full.stdout).result.id);
  cli('backup', 'dev_environment_001', '--incremental', '--reason', 'demo');
}
cli('switch', 'dev_environment_001');
const install = spawnSync(node24, [entry, '--extensions-dir', path.join(state, 'extensions'), '--user-data-dir', path.join(state, 'user-data'), '--install-extension', path.join(root, 'env-profiles.vsix')], { encoding: 'utf8', env: stateEnv(state) });
if (install.status !== 0) {
  console.error(`could not install the extension: ${install.stderr}${install.stdout}`);
  process.exit(1);
}
const server = startServer(state, port, ['--disable-workspace-trust', workspace], { inherit: true });
// code-server runs in its own process group: stop it whichever way this script ends (Ctrl+C, a
// closed terminal, `kill`, `timeout`), or it would keep the port and run on unseen.
const stopAndExit = (code) => {
  server.stop();
  process.exit(code);
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stopAndExit(0));
try {
  await waitForHealth(port);
} catch (error) {
  console.error(error.message);
  stopAndExit(1);
}
const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
console.log(`
Environment Profiles is running in VS Code (code-server) on the demo workspace:

  ${url}

Open it in a browser (from another machine: ssh -L ${port}:127.0.0.1:${port} …). Look at:
  - the "Environments" icon in the activity bar: profiles, databases, configuration, backups;
  - the status bar (bottom left): the active environment; click it to switch;
  - the command palette: "Environment Profiles: …".
The demo workspace is ${workspace}; the CLI works on it too: node dist/cli.js status --workspace ${workspace}
Press Ctrl+C to stop.`);
await new Promise((resolve) => server.process.on('exit', resolve));
