import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createBackup } from '../src/core/backup/backupCreation';
import type { WorkspaceContext } from '../src/core/workspaceContext';
import { demoWorkspace, listFilesInProfile, tempDir } from './support/workspaces';

const DEV = 'dev_environment_001';
const CONFIG = 'config/app.json';
const ENTRY = `files/${CONFIG}`;
const PADDING = 20_000;

/**
 * Another process that saves `file` in place, as editors and most programs do: it empties the file, then
 * writes the new version in two halves, pausing 40 ms between the steps (a slow disk, a busy machine).
 * Between saves it idles `idleMs` (a range); each version is a complete JSON document.
 */
function startSaving(file: string, idleMs: [number, number]): { process: ChildProcess; stop: () => Promise<void> } {
  const stopFlag = path.join(tempDir(), 'stop');
  const script = `
const fs = require('node:fs');
const [file, stopFlag, least, most] = process.argv.slice(1);
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
for (let version = 1; !fs.existsSync(stopFlag); version++) {
  const text = JSON.stringify({ version, padding: 'x'.repeat(${PADDING}) });
  const fd = fs.openSync(file, 'w');
  pause(40);
  fs.writeSync(fd, text.slice(0, text.length / 2));
  pause(40);
  fs.writeSync(fd, text.slice(text.length / 2));
  fs.closeSync(fd);
  pause(Number(least) + Math.random() * (Number(most) - Number(least)));
}`;
  const child = spawn(process.execPath, ['-e', script, file, stopFlag, String(idleMs[0]), String(idleMs[1])], { stdio: 'inherit' });
  return {
    process: child,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      fs.writeFileSync(stopFlag, '');
    }),
  };
}

/** The copy of CONFIG that `archive` stores itself (none: it refers to its parent's). */
function storedCopy(archive: string): string | undefined {
  const names = spawnSync('unzip', ['-Z1', archive], { encoding: 'utf8' }).stdout.split('\n');
  if (!names.includes(ENTRY)) return undefined;
  return spawnSync('unzip', ['-p', archive, ENTRY], { encoding: 'utf8', maxBuffer: 1 << 24 }).stdout;
}

/**
 * A demo workspace whose development profile lists CONFIG and `others` (paths in the workspace), which
 * other processes save without a pause (see startSaving), from their first save on.
 */
async function configSavedWithoutPause(others: string[] = []): Promise<{ context: WorkspaceContext; config: string; saving: ReturnType<typeof startSaving> }> {
  const { root, context } = await demoWorkspace();
  const files = [CONFIG, ...others].map((file) => path.join(root, file));
  for (const file of files) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{}');
  }
  listFilesInProfile(root, DEV, [CONFIG, ...others]);
  const savers = files.map((file) => startSaving(file, [0, 5]));
  // Their first saves (a process takes a moment to start).
  while (files.some((file) => fs.readFileSync(file, 'utf8') === '{}')) await new Promise((resolve) => setTimeout(resolve, 10));
  return { context, config: files[0], saving: { process: savers[0].process, stop: async () => void (await Promise.all(savers.map((saver) => saver.stop()))) } };
}

describe('a file of files: that a program saves in place while it is backed up', function () {
  this.timeout(180_000);

  it('every stored copy is one whole version of it, never the empty or half-written file of a save in progress (before: 20 backups stored such copies, and a restore put them back)', async () => {
    const { root, context } = await demoWorkspace();
    const config = path.join(root, CONFIG);
    fs.mkdirSync(path.dirname(config));
    fs.writeFileSync(config, JSON.stringify({ version: 0, padding: 'x'.repeat(PADDING) }));
    listFilesInProfile(root, DEV, [CONFIG]);
    const saving = startSaving(config, [150, 600]);
    const stored: string[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const backup = await createBackup(context, { profileId: DEV, kind: i % 5 === 0 ? 'full' : 'incremental' });
        const copy = storedCopy(backup.archive);
        if (copy !== undefined) stored.push(copy);
        assert.doesNotMatch(backup.notes.join('\n'), /was being written/, 'the saves pause often enough for a whole read');
      }
    } finally {
      await saving.stop();
    }
    assert.ok(stored.length >= 6, `only ${stored.length} of 20 backups stored a copy: the file barely changed between them`);
    for (const [i, copy] of stored.entries()) {
      let parsed: { version?: number; padding?: string } | undefined;
      try {
        parsed = JSON.parse(copy);
      } catch {
        parsed = undefined;
      }
      assert.ok(parsed && typeof parsed.version === 'number' && parsed.padding?.length === PADDING, `stored copy ${i + 1} of ${stored.length} is not a whole version (${copy.length} bytes: ${JSON.stringify(copy.slice(0, 40))}…)`);
    }
  });

  it('files saved without a pause for longer than the backup waits (3 s for them all, not each) are still backed up, and the note says their copies may mix two versions', async () => {
    const { context, saving } = await configSavedWithoutPause(['config/other.json']);
    try {
      const started = Date.now();
      const progress: string[] = [];
      const backup = await createBackup({ ...context, progress: (message) => progress.push(message) }, { profileId: DEV, kind: 'full' });
      const took = Date.now() - started;
      assert.ok(progress.includes('Waiting for config/app.json to be saved: it is being written'), `progress said: ${progress.join(' | ')}`);
      assert.ok(took >= 3_000 && took < 5_500, `the backup took ${took} ms`);
      assert.match(backup.notes.join('\n'), /config\/app\.json \(in files:\) was being written while it was read, so its copy in this backup may mix two versions of it; back up again once nothing writes it/);
      assert.match(backup.notes.join('\n'), /config\/other\.json \(in files:\) was being written while it was read/);
      assert.notEqual(storedCopy(backup.archive), undefined);
    } finally {
      await saving.stop();
    }
  });

  for (const [what, replace] of [
    ['removed', (config: string) => fs.rmSync(config)],
    ['replaced by a named pipe', (config: string) => {
      fs.rmSync(config);
      assert.equal(spawnSync('mkfifo', [config]).status, 0);
    }],
  ] as const) {
    it(`one ${what} while the backup waits for its saves to pause is left out, and the note says so (not an error${what === 'removed' ? '' : '; before, the backup waited for a writer to the pipe for ever'})`, async () => {
      const { context, config, saving } = await configSavedWithoutPause();
      try {
        const backingUp = createBackup(context, { profileId: DEV, kind: 'full' });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await saving.stop();
        replace(config);
        const backup = await backingUp;
        assert.match(backup.notes.join('\n'), /config\/app\.json \(in files:\) was removed \(or replaced by something that is not a file\) while it was being backed up, so it is not in this backup/);
        assert.equal(storedCopy(backup.archive), undefined);
      } finally {
        await saving.stop();
      }
    });
  }

  it('a file too large to read whole (over 4 MiB, streamed) that is rewritten in place while it is archived is said in the note; one only appended to is not', async () => {
    const { root, context } = await demoWorkspace();
    const data = path.join(root, 'data/dev/export.bin');
    const log = path.join(root, 'data/dev/app.log');
    fs.writeFileSync(data, Buffer.alloc(6 << 20, 1));
    fs.writeFileSync(log, Buffer.alloc(6 << 20, 2));
    listFilesInProfile(root, DEV, ['data/dev/export.bin', 'data/dev/app.log']);
    const script = `
const fs = require('node:fs');
const [data, log, stopFlag] = process.argv.slice(1);
// Rewritten over its own bytes, never emptied: its size stays 6 MiB, so the backup always streams it.
// (One emptied first can be found half-written and growing, which is taken for a log: see the README.)
const fd = fs.openSync(data, 'r+');
for (let round = 0; !fs.existsSync(stopFlag); round++) {
  fs.writeSync(fd, Buffer.alloc(6 << 20, 3 + (round % 2)), 0, 6 << 20, 0);
  fs.appendFileSync(log, 'a line\\n');
}
fs.closeSync(fd);`;
    const stopFlag = path.join(tempDir(), 'stop');
    const child = spawn(process.execPath, ['-e', script, data, log, stopFlag], { stdio: 'inherit' });
    try {
      while (fs.statSync(log).size === 6 << 20) await new Promise((resolve) => setTimeout(resolve, 10));
      const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
      assert.match(backup.notes.join('\n'), /data\/dev\/export\.bin \(in files:\) was being written while it was read, so its copy in this backup may mix two versions of it/);
      assert.doesNotMatch(backup.notes.join('\n'), /app\.log/);
    } finally {
      await new Promise((resolve) => {
        child.once('exit', resolve);
        fs.writeFileSync(stopFlag, '');
      });
    }
  });
});
