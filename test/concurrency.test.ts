import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireWorkspaceLock, liveLockOwner, takeOverStaleLock } from '../src/core/workspaceLock';
import { runCli } from './support/cliRunner';
import { CLI, demoWorkspace, temporaryFiles } from './support/workspaces';

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

  describe('the workspace lock left by a dead process', () => {
    const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid as number;
    const lockText = (pid: number, operation: string): string => JSON.stringify({ pid, host: os.hostname(), since: new Date().toISOString(), operation });

    it('is taken over only while it is still that very lock: a live lock that replaced it stays in place', async () => {
      const { root, context } = await demoWorkspace();
      const { layout } = context;
      const stale = lockText(deadPid(), 'switch (killed)');
      fs.writeFileSync(layout.lockFile, stale);
      assert.equal(liveLockOwner(layout), undefined);
      assert.equal(takeOverStaleLock(layout, stale), true);
      assert.equal(fs.existsSync(layout.lockFile), false);
      assert.equal(takeOverStaleLock(layout, stale), false, 'nothing left to take over');
      // Another process saw the same stale lock and took it over first: its live lock is not removed.
      const live = lockText(process.pid, 'backup of dev');
      fs.writeFileSync(layout.lockFile, live);
      assert.equal(takeOverStaleLock(layout, stale), false);
      assert.equal(fs.readFileSync(layout.lockFile, 'utf8'), live);
      assert.deepEqual(fs.readdirSync(layout.storeDir).filter((name) => name.includes('lock') && name !== 'lock'), [], 'no file set aside is left');
      fs.rmSync(layout.lockFile);
      assert.deepEqual(temporaryFiles(root), []);
    });

    it('a takeover in progress (its guard) is waited for, never raced; a guard left by a killed process is cleared after 10 s', async () => {
      const { context } = await demoWorkspace();
      const { layout } = context;
      const guard = `${layout.lockFile}.takeover`;
      const stale = lockText(deadPid(), 'switch (killed)');
      fs.writeFileSync(layout.lockFile, stale);
      // Another process is between its check and its removal: this one must not touch the lock.
      fs.writeFileSync(guard, JSON.stringify({ pid: process.pid, host: 'elsewhere', nonce: 1 }));
      assert.equal(takeOverStaleLock(layout, stale), false);
      assert.equal(fs.readFileSync(layout.lockFile, 'utf8'), stale);
      assert.ok(fs.existsSync(guard), 'a fresh guard is left to its holder');
      const started = Date.now();
      assert.throws(() => acquireWorkspaceLock(layout, 'test'), (error: Error & { code?: string }) => error.code === 'WORKSPACE_BUSY' && /is being taken over/.test(error.message));
      assert.ok(Date.now() - started >= 50, 'it waited for the takeover before giving up');
      // The guard's holder was killed 20 s ago: the guard is cleared, then the stale lock is taken over.
      const twentySecondsAgo = new Date(Date.now() - 20_000);
      fs.utimesSync(guard, twentySecondsAgo, twentySecondsAgo);
      const release = acquireWorkspaceLock(layout, 'test');
      assert.equal(liveLockOwner(layout)?.operation, 'test');
      assert.equal(fs.existsSync(guard), false);
      release();
      assert.deepEqual(fs.readdirSync(layout.storeDir).filter((name) => name.includes('lock') && name !== 'lock'), [], 'nothing is left beside the lock');
    });

    it('a dead holder\'s lock is taken; an unreadable one counts as held until it is a minute old', async () => {
      const { context } = await demoWorkspace();
      const { layout } = context;
      fs.writeFileSync(layout.lockFile, lockText(deadPid(), 'restore (killed)'));
      const release = acquireWorkspaceLock(layout, 'test');
      assert.equal(liveLockOwner(layout)?.operation, 'test');
      release();
      assert.equal(fs.existsSync(layout.lockFile), false);
      fs.writeFileSync(layout.lockFile, '');
      assert.throws(() => acquireWorkspaceLock(layout, 'test'), /Another operation is running in this workspace: an operation that is starting/);
      const twoMinutesAgo = new Date(Date.now() - 120_000);
      fs.utimesSync(layout.lockFile, twoMinutesAgo, twoMinutesAgo);
      acquireWorkspaceLock(layout, 'test')();
      assert.equal(fs.existsSync(layout.lockFile), false);
    });

    it('six commands started at once over a stale lock: exactly one runs, the others are refused (three rounds)', async () => {
      const { root, context } = await demoWorkspace();
      for (const [round, target] of [DEV_TARGETS[0], DEV_TARGETS[1], DEV_TARGETS[0]].entries()) {
        fs.writeFileSync(context.layout.lockFile, lockText(deadPid(), `switch (killed in round ${round})`));
        // The winner holds the lock for ~9 steps of 100 ms: long enough that, on two loaded cores, all six
        // have started before it ends (with 30 ms, a late sixth once found the lock free and ran after it).
        const results = await Promise.all(Array.from({ length: 6 }, () => startCli(['switch', target, '--workspace', root], 100)));
        const codes = results.map((r) => r.code).sort();
        assert.deepEqual(codes, [0, 3, 3, 3, 3, 3], results.map((r) => r.stderr).join('\n'));
        const status = runCli(['status', '--workspace', root, '--json']);
        assert.equal(status.json?.result.active, target);
        assert.equal(status.json?.result.inSync, true);
        assert.equal(fs.existsSync(context.layout.lockFile), false);
      }
    });
  });
});

const DEV_TARGETS = ['dev_environment_001', 'test_environment_001'];
