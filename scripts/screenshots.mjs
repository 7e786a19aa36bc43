// npm run screenshots: the README's pictures, taken from the real UI (code-server + headless Chromium):
// the profile explorer, the status bar, the switch picker. Writes docs/screenshots/*.png.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath, entry, node24, prepareState, root, startServer, stateEnv, waitForHealth } from './codeServerHost.mjs';

const port = Number(process.env.PORT ?? 8133);
// Korean profile names need a CJK font in Debian's Chromium.
if (spawnSync('fc-list', [':lang=ko'], { encoding: 'utf8' }).stdout.trim() === '') {
  const install = ['apt-get', 'install', '-y', '-qq', 'fonts-noto-cjk'];
  if (process.getuid?.() === 0) spawnSync(install[0], install.slice(1), { stdio: 'inherit' });
  else spawnSync('sudo', install, { stdio: 'inherit' });
}
const state = path.join(root, '.vscode-shots');
const workspace = path.join(state, 'workspace');
const out = path.join(root, 'docs', 'screenshots');
fs.mkdirSync(out, { recursive: true });

prepareState(state, { 'workbench.colorTheme': 'Default Dark Modern', 'window.zoomLevel': 0, 'workbench.secondarySideBar.defaultVisibility': 'hidden' });
const run = (args) => {
  const r = spawnSync(node24, args, { encoding: 'utf8', env: stateEnv(state) });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}${r.stdout}`);
};
run([path.join(root, 'dist/demo.js'), workspace, '--quiet']);
run([path.join(root, 'dist/cli.js'), 'switch', 'prod_environment_001', '--confirm', 'prod_environment_001', '--workspace', workspace]);
run([path.join(root, 'dist/cli.js'), 'backup', 'prod_environment_001', '--full', '--workspace', workspace]);
run([path.join(root, 'dist/cli.js'), 'backup', 'prod_environment_001', '--incremental', '--workspace', workspace]);
run([entry, '--extensions-dir', path.join(state, 'extensions'), '--user-data-dir', path.join(state, 'user-data'), '--install-extension', path.join(root, 'env-profiles.vsix')]);

const server = startServer(state, port, ['--disable-workspace-trust', workspace]);
const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs, env: stateEnv(state) });
try {
  await waitForHealth(port, server.log);
  const page = await browser.newPage({ viewport: { width: 1400, height: 760 } });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.getByRole('tab', { name: /Environments/ }).click({ timeout: 60000 });
  const prod = page.getByRole('treeitem', { name: /운영 환경/ });
  await prod.waitFor({ timeout: 30000 });
  await prod.click();
  await page.getByRole('treeitem', { name: /^Backups/ }).click();
  await page.getByRole('button', { name: /Active environment: PRODUCTION/ }).waitFor({ timeout: 30000 });
  // Widen the side bar so the descriptions (type, size, age, verified) are readable.
  const sash = page.locator('.monaco-sash.vertical').first();
  const box = await sash.boundingBox();
  if (box) {
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + 330, box.y + box.height / 2, { steps: 10 });
    await page.mouse.up();
  }
  await page.waitForTimeout(1500);
  await page.screenshot({ path: path.join(out, 'explorer-and-status-bar.png') });
  await page.getByRole('button', { name: /Active environment: PRODUCTION/ }).click();
  await page.getByRole('option', { name: /개발 환경/ }).waitFor({ timeout: 15000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(out, 'switch-picker.png') });
  console.log(`screenshots written to ${out}`);
} finally {
  await browser.close();
  server.stop();
}
