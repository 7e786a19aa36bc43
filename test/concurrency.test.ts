import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from './support/cliRunner';
import { CLI, demoWorkspace } from './support/workspaces';

function startCli(args: string[], stepDelayMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ENVPROFILES_TEST_STEP_DELAY_MS: String(stepDelayMs) }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('concurrent operations', function () {
  this.timeout(60_000);

  it('two switches at once: one runs, the other is refused with WORKSPACE_BUSY (exit 3); nothing collides', async () => {
    const { root } = await demoWorkspace();
    const [a, b] = await Promise.all([
      startCli(['switch', 'dev_environment_001', '--workspace', root], 40),
      new Promise<{ code: number | null; stderr: string }>((resolve) => setTimeout(() => resolve(startCli(['switch', 'test_environment_001', '--workspace', root], 40)), 150)),
    ]);
    assert.deepEqual([a.code, b.code], [0, 3], `${a.stderr}\n${b.stderr}`);
    assert.match(b.stderr, /error\[WORKSPACE_BUSY\]: Another operation is running in this workspace: switch to dev_environment_001/);
    const status = runCli(['status', '--workspace', root, '--json']);
    assert.equal(status.json?.result.active, 'dev_environment_001');
    assert.equal(status.json?.result.inSync, true);
  });

  it('a read-only command during a switch neither waits for it nor rolls it back', async () => {
    const { root } = await demoWorkspace();
    const running = startCli(['switch', 'dev_environment_001', '--workspace', root], 40);
    await new Promise((r) => setTimeout(r, 250));
    assert.ok(fs.existsSync(path.join(root, '.envprofiles/journal/switch.json')), 'the switch is in progress');
    const status = runCli(['status', '--workspace', root, '--json']);
    assert.equal(status.status, 0);
    assert.match(status.json?.result.operationInProgress, /switch to dev_environment_001/);
    assert.deepEqual(status.json?.recovered, []);
    const finished = await running;
    assert.equal(finished.code, 0, finished.stderr);
    assert.equal(runCli(['status', '--workspace', root, '--json']).json?.result.active, 'dev_environment_001');
  });
});
