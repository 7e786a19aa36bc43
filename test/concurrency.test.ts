import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { whenLockIsFree } from '../src/core/lockWait';
import { markWaiting, othersWaiting } from '../src/core/lockWaiters';
import { acquireWorkspaceLock, liveLockOwner, takeOverStaleLock } from '../src/core/workspaceLock';
import { runCli } from './support/cliRunner';
import { startCli, startManyHeld, startHeld, type Finished } from './support/steppedRuns';
import { demoWorkspace, temporaryFiles } from './support/workspaces';

describe('concurrent operations', function () {
  this.timeout(60_000);

  it('two switches at once: one runs, the other is refused with WORKSPACE_BUSY (exit 3); nothing collides', async () => {
    const { root } = await demoWorkspace();
    const first = startHeld(['switch', 'dev_environment_001', '--workspace', root], 'journal-written');
    await first.reached;
    const second = await startCli(['switch', 'test_environment_001', '--workspace', root]);
    first.release();
    const done = await first.finished;
    assert.deepEqual([done.code, second.code], [0, 3], `${done.stderr}\n${second.stderr}`);
    assert.match(second.stderr, /error\[WORKSPACE_BUSY\]: Another operation is running in this workspace: switch to dev_environment_001/);
    // The lock file is named, both as the file the error concerns and in what to do.
    assert.match(second.stderr, /\n  file: \.envprofiles\/\S*lock\S*\n/);
    assert.match(second.stderr, /If no such process exists, delete \.envprofiles\/\S*lock/);
    // And how to wait for it instead of trying again by hand.
    assert.match(second.stderr, /Wait for it to finish and try again \(the CLI waits for it with --wait MINUTES\)\./);
    const status = runCli(['status', '--workspace', root, '--json']);
    assert.equal(status.json?.result.active, 'dev_environment_001');
    assert.equal(status.json?.result.inSync, true);
  });

  it('a folder where the lock file goes is said to be one, once (before: "a lock left by a stopped process is being taken over, try again in a few seconds", for ever)', async () => {
    const { root } = await demoWorkspace();
    const lock = path.join(root, '.envprofiles/lock');
    fs.mkdirSync(lock);
    const refused = runCli(['backup', 'dev_environment_001', '--workspace', root]);
    assert.deepEqual([refused.status, refused.stderr], [1, `error[IO_ERROR]: ${lock} is a folder, not a lock file of this tool, so no operation can take the lock; nothing was changed.\n  This tool never makes a folder there: remove ${lock}, then run the command again.\n`]);
    fs.rmdirSync(lock);
    assert.equal(runCli(['backup', 'dev_environment_001', '--workspace', root]).status, 0);
  });

  it('a read-only command during a switch neither waits for it nor rolls it back', async () => {
    const { root } = await demoWorkspace();
    const running = startHeld(['switch', 'dev_environment_001', '--workspace', root], 'journal-written');
    await running.reached;
    assert.ok(fs.existsSync(path.join(root, '.envprofiles/journal/switch.json')), 'the switch is in progress');
    const status = runCli(['status', '--workspace', root, '--json']);
    assert.equal(status.status, 0);
    assert.match(status.json?.result.operationInProgress, /switch to dev_environment_001/);
    assert.deepEqual(status.json?.recovered, []);
    running.release();
    const finished = await running.finished;
    assert.equal(finished.code, 0, finished.stderr);
    assert.equal(runCli(['status', '--workspace', root, '--json']).json?.result.active, 'dev_environment_001');
  });

  it('verify --all lets other commands run between two backups: it waits for one that holds the workspace, and skips a backup a prune deleted (before: each one FAILED [WORKSPACE_BUSY])', async () => {
    const { root } = await demoWorkspace();
    const profileFile = path.join(root, '.envprofiles/profiles/dev_environment_001.yaml');
    fs.writeFileSync(profileFile, fs.readFileSync(profileFile, 'utf8').replace('    retention_days: 30', '    keep: { last: 1 }'));
    for (let i = 0; i < 3; i++) assert.equal(runCli(['backup', 'dev_environment_001', '--full', '--workspace', root]).status, 0);
    const [first, second, third] = runCli(['backups', 'dev_environment_001', '--workspace', root, '--json']).json?.result.backups.map((b: { id: string }) => b.id).sort();
    // Held after its first backup (the oldest), with the workspace lock free.
    const verifying = startHeld(['verify', '--all', '--workspace', root], 'between-backups');
    await verifying.reached;
    // A prune runs in between: keep last 1 (and the newest verified, the first) deletes the second.
    const prune = runCli(['prune', 'dev_environment_001', '--workspace', root, '--json']);
    assert.equal(prune.status, 0, prune.stderr);
    assert.deepEqual(prune.json?.result.deleted, [second]);
    // Then a backup that holds the workspace lock while the verification goes on.
    const backingUp = startHeld(['backup', 'test_environment_001', '--workspace', root], 'archive-written');
    await backingUp.reached;
    verifying.release();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    backingUp.release();
    const [verified, backedUp] = await Promise.all([verifying.finished, backingUp.finished]);
    assert.equal(backedUp.code, 0, backedUp.stderr);
    assert.equal(verified.code, 0, `${verified.stdout}\n${verified.stderr}`);
    assert.match(verified.stderr, /^warning: Another operation is running in this workspace: backup of test_environment_001 \(process \d+ .*\): waiting for it to finish, then going on\.$/m);
    assert.match(verified.stdout, new RegExp(`^  ${first.replace(/\./g, '\\.')}: sound`, 'm'));
    assert.match(verified.stdout, new RegExp(`^  ${second.replace(/\./g, '\\.')}: deleted since this verification began \\(pruned, say\\): skipped$`, 'm'));
    assert.match(verified.stdout, new RegExp(`^  ${third.replace(/\./g, '\\.')}: sound`, 'm'));
    assert.doesNotMatch(verified.stdout, /FAILED \[/);
    assert.match(verified.stdout, /: \d+ sound, 0 FAILED; 1 deleted since this verification began, skipped\.$/m);
  });

  it('verify --all whose wait for another operation runs out (30 minutes; shortened here) ends there with exit 3, naming the operation, how long it waited and what it verified before (recorded), and how to verify the rest', async () => {
    const { root } = await demoWorkspace();
    for (let i = 0; i < 2; i++) assert.equal(runCli(['backup', 'dev_environment_001', '--full', '--workspace', root]).status, 0);
    const [first, second] = runCli(['backups', 'dev_environment_001', '--workspace', root, '--json']).json?.result.backups.map((b: { id: string }) => b.id).sort();
    const verifying = startHeld(['verify', '--all', '--workspace', root], 'between-backups', { ENVPROFILES_TEST_LOCK_WAIT_LIMIT_MS: '1500' });
    await verifying.reached;
    const backingUp = startHeld(['backup', 'test_environment_001', '--workspace', root], 'archive-written');
    await backingUp.reached;
    verifying.release();
    const verified = await verifying.finished;
    backingUp.release();
    assert.equal((await backingUp.finished).code, 0);
    assert.equal(verified.code, 3, `${verified.stdout}\n${verified.stderr}`);
    // What it verified before is said (before: only the busy workspace, the lines of the verified ones lost), and how to go on.
    assert.match(verified.stderr, /^error\[WORKSPACE_BUSY\]: The verification stopped after verifying 1 backup, recorded: 1 sound, 0 FAILED; at least 1 left\. Another operation is running in this workspace: backup of test_environment_001 \(.*\)\. This waited 2 seconds for it\.$/m);
    assert.match(verified.stderr, /^ {2}Once that operation has finished, "envprofiles verify --all --unverified" verifies the ones left\.$/m);
    const catalog = runCli(['backups', 'dev_environment_001', '--workspace', root, '--json']).json?.result.backups as { id: string; verified: { ok: boolean } | null }[];
    assert.deepEqual(catalog.map((b) => [b.id, b.verified?.ok ?? null]).sort(), [[first, true], [second, null]]);
  });

  it('--wait MINUTES: a backup started while another operation holds the workspace waits for it, then runs; when the wait runs out it is refused (exit 3) saying how long it waited; a bad value is a usage error', async () => {
    const { root } = await demoWorkspace();
    const holding = startHeld(['backup', 'test_environment_001', '--workspace', root], 'archive-written');
    await holding.reached;
    const refused = runCli(['backup', 'dev_environment_001', '--wait', '0.02', '--workspace', root]);
    assert.equal(refused.status, 3, refused.stderr);
    assert.match(refused.stderr, /^error\[WORKSPACE_BUSY\]: Another operation is running in this workspace: backup of test_environment_001 \(.*\)\. This waited 1 second for it\.$/m);
    assert.deepEqual(runCli(['backups', 'dev_environment_001', '--workspace', root, '--json']).json?.result.backups, [], 'refused: nothing backed up');
    const waiting = startCli(['--wait', '1', 'backup', 'dev_environment_001', '--workspace', root]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    holding.release();
    const [held, waited] = await Promise.all([holding.finished, waiting]);
    assert.deepEqual([held.code, waited.code], [0, 0], `${held.stderr}\n${waited.stderr}`);
    assert.match(waited.stderr, /^warning: Another operation is running in this workspace: backup of test_environment_001 \(.*\): waiting for it to finish, then going on\.$/m);
    assert.match(waited.stdout, /^Backed up dev_environment_001: /);
    for (const bad of ['soon', '-1', '1441']) {
      const usage = runCli(['backup', 'dev_environment_001', `--wait=${bad}`, '--workspace', root]);
      assert.equal(usage.status, 2, `--wait "${bad}": ${usage.stderr}`);
      assert.match(usage.stderr, /^error\[USAGE\]: --wait takes the minutes to wait for another operation \(0 to 1440\), got ".*"\./);
    }
  });

  it('verify --all lets a command that waits for the workspace (--wait) run between two backups, instead of after them all', async () => {
    const { root } = await demoWorkspace();
    for (let i = 0; i < 4; i++) assert.equal(runCli(['backup', 'dev_environment_001', '--full', '--workspace', root]).status, 0);
    // Held inside its first verification, with the lock taken.
    const verifying = startHeld(['verify', '--all', '--workspace', root], 'verify-started');
    await verifying.reached;
    const backingUp = startCli(['backup', 'test_environment_001', '--wait', '1', '--workspace', root]);
    const store = path.join(root, '.envprofiles');
    for (let i = 0; i < 200 && !fs.readdirSync(store).some((name) => name.startsWith('lock.waiting-')); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    assert.ok(fs.readdirSync(store).some((name) => name.startsWith('lock.waiting-')), 'the backup marks itself waiting');
    verifying.release();
    const [verified, backedUp] = await Promise.all([verifying.finished, backingUp]);
    assert.deepEqual([verified.code, backedUp.code], [0, 0], `${verified.stderr}\n${backedUp.stderr}`);
    assert.match(backedUp.stderr, /^warning: Another operation is running in this workspace: verify dev_environment_001\.\S+ \(.*\): waiting for it to finish, then going on\.$/m);
    // The backup ran in between: the verification waited for it before its next backup.
    assert.match(verified.stderr, /^warning: Another operation is running in this workspace: backup of test_environment_001 \(.*\): waiting for it to finish, then going on\.$/m);
    assert.match(verified.stdout, /^Verified 4 backups of 1 profile: 4 sound, 0 FAILED\.$/m);
    assert.deepEqual(fs.readdirSync(store).filter((name) => name.startsWith('lock.')), [], 'no mark is left');
  });

  it('a waiting mark whose process id a running process has, but which another process left (its start differs), counts for nobody and is removed (before: each backup of a verify --all held back 2 s for it)', async function () {
    // Reason: a process's start is read from Linux's /proc.
    if (!fs.existsSync('/proc/self/stat')) this.skip();
    const { context } = await demoWorkspace();
    const running = spawn('sleep', ['60']);
    try {
      const pid = running.pid as number;
      const mark = path.join(context.layout.storeDir, `lock.waiting-${pid}`);
      for (const [text, waits] of [[JSON.stringify({ started: startOf(pid) }), true], ['', true], [JSON.stringify({ started: startOf(pid) - 1 }), false]] as const) {
        fs.writeFileSync(mark, text);
        assert.equal(othersWaiting(context.layout), waits, text);
        assert.equal(fs.existsSync(mark), waits, text);
      }
      const unmark = markWaiting(context.layout);
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(context.layout.storeDir, `lock.waiting-${process.pid}`), 'utf8')), { boot: fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), started: startOf(process.pid) });
      unmark();
    } finally {
      running.kill();
    }
  });

  it('waiting for the lock: goes on once it is free, stops on a cancel, and gives up with WORKSPACE_BUSY after its limit', async () => {
    const { context } = await demoWorkspace();
    const warnings: string[] = [];
    const cancel = new AbortController();
    const waiting = { ...context, logger: { ...context.logger, warn: (m: string) => warnings.push(m) }, signal: cancel.signal };
    const takeAndRelease = async (): Promise<string> => {
      acquireWorkspaceLock(context.layout, 'the waiting step')();
      return 'done';
    };
    let release = acquireWorkspaceLock(context.layout, 'a long backup');
    setTimeout(release, 600);
    assert.equal(await whenLockIsFree(waiting, takeAndRelease), 'done');
    assert.equal(warnings.length, 1, 'said once, not at every try');
    assert.match(warnings[0], /^Another operation is running in this workspace: a long backup \(process \d+ .*\): waiting for it to finish, then going on\.$/);
    release = acquireWorkspaceLock(context.layout, 'a long backup');
    try {
      setTimeout(() => cancel.abort(), 300);
      await assert.rejects(whenLockIsFree(waiting, takeAndRelease), (error: Error & { code?: string }) => error.code === 'CANCELLED');
      await assert.rejects(whenLockIsFree(context, takeAndRelease, 500), (error: Error & { code?: string }) => error.code === 'WORKSPACE_BUSY' && /a long backup/.test(error.message));
    } finally {
      release();
    }
  });

  it('recovery removes the temporary files of a killed process, never those of a running one (the lock it is creating, a catalog of a workspace that shares the backups folder)', async () => {
    const { root } = await demoWorkspace();
    assert.equal(runCli(['backup', 'dev_environment_001', '--workspace', root]).status, 0);
    const running = spawn('sleep', ['60']);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    try {
      const temporary = (dir: string, base: string, pid: number) => path.join(root, '.envprofiles', dir, `.${base}.envprofiles-tmp-${pid}-0a1b2c3d`);
      const live = [temporary('', 'lock', running.pid as number), temporary('backups/dev_environment_001', 'catalog.json', running.pid as number)];
      const left = [temporary('', 'lock', dead), temporary('backups/dev_environment_001', 'catalog.json', dead)];
      for (const file of [...live, ...left]) fs.writeFileSync(file, '{');
      // A read-only command recovers what a killed process left; a backup does so under the lock again.
      assert.equal(runCli(['status', '--workspace', root]).status, 0);
      assert.deepEqual(left.filter((file) => fs.existsSync(file)), [], 'a killed process\'s files are removed');
      assert.equal(runCli(['backup', 'dev_environment_001', '--workspace', root]).status, 0);
      assert.deepEqual(live.filter((file) => fs.existsSync(file)), live, 'a running process\'s files are its writes in progress');
    } finally {
      running.kill();
    }
  });

  it('a temporary file whose name gives a running process\'s id but another start (its writer was killed before a restart, and the id handed out again) is removed; one with that process\'s start, or none (an earlier version\'s, SQLite\'s -shm beside it), is kept', async function () {
    // Reason: a process's start is read from Linux's /proc.
    if (!fs.existsSync('/proc/self/stat')) this.skip();
    const { root } = await demoWorkspace();
    assert.equal(runCli(['backup', 'dev_environment_001', '--workspace', root]).status, 0);
    const running = spawn('sleep', ['60']);
    try {
      const pid = running.pid as number;
      const tag = `h${createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8)}`;
      const named = (end: string) => path.join(root, '.envprofiles/backups/dev_environment_001', `.catalog.json.envprofiles-tmp-${pid}-0a1b2c3d-${tag}${end}`);
      const kept = [named(`-t${startOf(pid).toString(36)}`), named(`-t${startOf(pid).toString(36)}-journal`), named(''), named('-shm')];
      const removed = [named(`-t${(startOf(pid) - 1).toString(36)}`), named(`-t${(startOf(pid) - 1).toString(36)}-journal`)];
      for (const file of [...kept, ...removed]) fs.writeFileSync(file, 'x');
      const written = runCli(['backup', 'dev_environment_001', '--workspace', root]);
      assert.equal(written.status, 0, written.stderr);
      assert.deepEqual([kept.filter((file) => fs.existsSync(file)), removed.filter((file) => fs.existsSync(file))], [kept, []]);
      // This tool's own names carry its start: a backup's staging folder, say (seen through the step log).
      const held = runCli(['backup', 'dev_environment_001', '--workspace', root, '--json'], { env: { ENVPROFILES_TEST_KILL_AT_STEP: '2' } });
      assert.equal(held.status, null);
      assert.ok(temporaryFiles(root).some((file) => /envprofiles-tmp-\d+-[0-9a-z]+-h[0-9a-f]{8}-t[0-9a-z]+$/.test(file)), temporaryFiles(root).join('\n'));
      // The next command cleans up after it (its snapshots' folder in /dev/shm too).
      const staging = JSON.parse(fs.readFileSync(path.join(root, '.envprofiles/journal/backup-dev_environment_001.json'), 'utf8')).stagingDir as string;
      assert.equal(runCli(['list', '--workspace', root]).status, 0);
      assert.deepEqual([temporaryFiles(root).filter((file) => !kept.includes(path.join(root, file))), fs.existsSync(staging)], [[], false]);
    } finally {
      running.kill();
    }
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

    it('a lock whose process or machine is not a number and a text (a hand edit) is one that cannot be read: held while it may be being written, taken over after a minute (before: another machine\'s, held for ever)', async () => {
      const { context } = await demoWorkspace();
      const { layout } = context;
      fs.writeFileSync(layout.lockFile, JSON.stringify({ pid: deadPid(), host: 5, since: 'then', operation: 'switch' }));
      assert.throws(() => acquireWorkspaceLock(layout, 'test'), (error: Error & { code?: string }) => error.code === 'WORKSPACE_BUSY' && /an operation that is starting/.test(error.message));
      const twoMinutesAgo = new Date(Date.now() - 120_000);
      fs.utimesSync(layout.lockFile, twoMinutesAgo, twoMinutesAgo);
      const release = acquireWorkspaceLock(layout, 'test');
      assert.equal(liveLockOwner(layout)?.operation, 'test');
      release();
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

    it('a lock taken under another host name is held (another machine may share the workspace), and the refusal says that this machine cannot ask that one, a rebuilt container being one such', async () => {
      const { root, context } = await demoWorkspace();
      fs.writeFileSync(context.layout.lockFile, JSON.stringify({ pid: process.pid, host: 'a1b2c3d4e5f6', since: '2026-12-01T10:00:00.000Z', operation: 'restore of dev_environment_001' }));
      const refused = runCli(['backup', 'dev_environment_001', '--workspace', root]);
      assert.equal(refused.status, 3, refused.stderr);
      assert.match(refused.stderr, /^error\[WORKSPACE_BUSY\]: Another operation is running in this workspace: restore of dev_environment_001 \(process \d+ on a1b2c3d4e5f6, since 2026-12-01T10:00:00\.000Z\)\.$/m);
      assert.match(refused.stderr, /a1b2c3d4e5f6 is another machine \(or a container that was rebuilt since, which gets a new name\), and this one cannot ask it whether that process still runs: if it does not, delete \.envprofiles\/lock\.$/m);
      fs.rmSync(context.layout.lockFile);
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

    describe('a lock whose process id another process has now (the machine, or a container, restarted since: ids are handed out again from the start)', function () {
      before(function () {
        // Reason: what tells two processes with one id apart (boot id, start time) is read from Linux's /proc.
        if (!fs.existsSync('/proc/self/stat')) this.skip();
      });
      const bootId = (): string => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      /** A process that runs while the test does: the one that has the id now. */
      const otherProcess = (): { pid: number; stop: () => void } => {
        const child = spawn('sleep', ['120'], { stdio: 'ignore' });
        return { pid: child.pid as number, stop: () => child.kill('SIGKILL') };
      };
      const lockOf = (pid: number, identity: Record<string, unknown>): string => JSON.stringify({ ...JSON.parse(lockText(pid, 'backup of dev_environment_001 (before the restart)')), ...identity });

      it('a lock records the boot and the start of its process, and is held while that very process runs', async () => {
        const { context } = await demoWorkspace();
        const release = acquireWorkspaceLock(context.layout, 'test');
        const written = JSON.parse(fs.readFileSync(context.layout.lockFile, 'utf8'));
        assert.deepEqual([written.pid, written.boot, written.started], [process.pid, bootId(), startOf(process.pid)]);
        assert.throws(() => acquireWorkspaceLock(context.layout, 'a second operation of this process'), (error: Error & { code?: string }) => error.code === 'WORKSPACE_BUSY');
        release();
        const other = otherProcess();
        try {
          for (const identity of [{ boot: bootId(), started: startOf(other.pid) }, {}]) {
            // That process itself, and a lock of an earlier version (no boot, no start): held, as before.
            fs.writeFileSync(context.layout.lockFile, lockOf(other.pid, identity));
            assert.equal(liveLockOwner(context.layout)?.pid, other.pid, JSON.stringify(identity));
            assert.throws(() => acquireWorkspaceLock(context.layout, 'test'), (error: Error & { code?: string }) => error.code === 'WORKSPACE_BUSY');
          }
        } finally {
          other.stop();
        }
        fs.rmSync(context.layout.lockFile);
      });

      it('is taken over when the process with the id started at another moment, or in another boot, or is the very process reading it (before: held for ever; every command refused, and what the killed one left was never recovered)', async () => {
        const { root, context } = await demoWorkspace();
        const other = otherProcess();
        try {
          const cases: [number, Record<string, unknown>][] = [
            [other.pid, { boot: bootId(), started: startOf(other.pid) - 1 }],
            [other.pid, { boot: '00000000-0000-4000-8000-000000000000', started: startOf(other.pid) }],
            [process.pid, { boot: bootId(), started: startOf(process.pid) + 1 }],
          ];
          for (const [pid, identity] of cases) {
            fs.writeFileSync(context.layout.lockFile, lockOf(pid, identity));
            assert.equal(liveLockOwner(context.layout), undefined, JSON.stringify(identity));
            const release = acquireWorkspaceLock(context.layout, 'test');
            assert.equal(liveLockOwner(context.layout)?.operation, 'test');
            release();
          }
          // A backup killed in the middle, its lock then naming a process that has its id now: the next
          // command takes the lock and cleans up after it.
          const killed = runCli(['backup', 'dev_environment_001', '--workspace', root], { env: { ENVPROFILES_TEST_KILL_AT_STEP: '2' } });
          assert.equal(killed.status, null, `killed: ${killed.stderr}`);
          const left = JSON.parse(fs.readFileSync(context.layout.lockFile, 'utf8'));
          fs.writeFileSync(context.layout.lockFile, JSON.stringify({ ...left, pid: other.pid }));
          assert.ok(temporaryFiles(root).length > 0 || fs.readdirSync(context.layout.journalDir).length > 0, 'the killed backup left something to clean up');
          const next = runCli(['backup', 'dev_environment_001', '--workspace', root]);
          assert.equal(next.status, 0, next.stderr);
          assert.deepEqual([temporaryFiles(root), fs.readdirSync(context.layout.journalDir)], [[], []]);
          assert.equal(fs.existsSync(context.layout.lockFile), false);
        } finally {
          other.stop();
        }
      });
    });

    it('six commands started at once over a stale lock: exactly one runs, the others are refused (three rounds)', async () => {
      const { root, context } = await demoWorkspace();
      for (const [round, target] of [DEV_TARGETS[0], DEV_TARGETS[1], DEV_TARGETS[0]].entries()) {
        fs.writeFileSync(context.layout.lockFile, lockText(deadPid(), `switch (killed in round ${round})`));
        // The winner is held inside its switch until the other five have ended, so none can start late
        // enough to find the lock free; a second winner would be held too, and show as a second 0.
        const run = startManyHeld(['switch', target, '--workspace', root], 'validated', 6);
        let ended = 0;
        for (const one of run.all) void one.then(() => ended++);
        await run.reached;
        await until(() => ended >= 5, 20_000);
        run.release();
        const results: Finished[] = await Promise.all(run.all);
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

/** When process `pid` started, in clock ticks after the boot (Linux: field 22 of /proc/<pid>/stat). */
function startOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

/** Resolves once `condition` holds, or after `limitMs` (the assertions that follow then say what is wrong). */
async function until(condition: () => boolean, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}
