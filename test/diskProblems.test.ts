import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { readCatalog } from '../src/core/backup/backupCatalog';
import { createBackup } from '../src/core/backup/backupCreation';
import { diskStagingDir } from '../src/core/backup/snapshotStaging';
import { BackupLayout } from '../src/core/backup/backupLayout';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { EnvProfilesError } from '../src/core/errors';
import { cloneProfile } from '../src/core/profileClone';
import { typedSystemError } from '../src/core/systemErrors';
import { makeFolders } from '../src/core/makeFolders';
import { defaultConfig, workspaceConfigFor } from '../src/core/workspaceConfig';
import { WorkspaceLayout } from '../src/core/workspaceLayout';
import type { WorkspaceContext } from '../src/core/workspaceContext';
import { runCli } from './support/cliRunner';
import { NO_TEST_HOOKS } from './support/steppedRuns';
import { stampOf } from '../src/core/sqlite/fileStamp';
import { stillUnopened } from '../src/core/sqlite/readOnlyMedia';
import { allowFolders, CLI, demoWorkspace, engine, snapshotTree, tempDir, temporaryFiles } from './support/workspaces';
import { needsRoot } from './support/needsRoot';
import { readSteadily } from '../src/core/steadyRead';

const DEV = 'dev_environment_001';
const MARKET = 'data/dev/market_data.sqlite3';

/**
 * Real full disks: small tmpfs file systems, mounted for the test (this needs root on Linux, which the
 * test machine and CI have). Nothing is simulated: the writes really fail with ENOSPC.
 */
const mounted: string[] = [];

function smallDisk(megabytes: number, at = tempDir('envprofiles-small-disk-'), readOnly = false): string {
  fs.mkdirSync(at, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m${readOnly ? ',ro' : ''}`, 'tmpfs', at]);
  mounted.push(at);
  return at;
}

const needsMounting = needsRoot('mounting a small tmpfs');

/** A demo workspace whose market_data grew by 8 MB of compressible rows, backed up into a backups folder on a 5 MB disk: the archive fits, a rebuilt database would not. */
async function backupOnSmallDisk() {
  const { root, context } = await demoWorkspace();
  await grow(root, 8, true);
  const disk = smallDisk(5);
  useBackupsFolder(root, disk);
  const backup = await createBackup(context, { profileId: DEV });
  return { root, context, disk, backup };
}

/** Unmounts the disks the tests mounted, newest first (some are mounted inside others' folders). */
function unmountAll(): void {
  for (let at = mounted.pop(); at !== undefined; at = mounted.pop()) execFileSync('umount', [at]);
}

/** Puts a workspace folder on a small disk of its own, keeping its files. */
function moveOntoSmallDisk(folder: string, megabytes: number): void {
  const aside = `${folder}.aside`;
  fs.renameSync(folder, aside);
  smallDisk(megabytes, folder);
  fs.cpSync(aside, folder, { recursive: true });
  fs.rmSync(aside, { recursive: true });
}

/** Adds `megabytes` of rows to the dev profile's market_data: random bytes (incompressible) or repeated text. */
async function grow(root: string, megabytes: number, compressible: boolean): Promise<void> {
  const db = (await engine()).open(path.join(root, MARKET), { readOnly: false });
  try {
    db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)');
    db.exec('BEGIN');
    for (let i = 0; i < megabytes * 256; i++) {
      const body = compressible ? Buffer.from(`row ${i} `.repeat(400).slice(0, 4000)) : randomBytes(4000);
      db.all('INSERT INTO filler (body) VALUES (?)', body);
    }
    db.exec('COMMIT');
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

function useBackupsFolder(root: string, folder: string): void {
  const config = path.join(root, '.envprofiles/config.yaml');
  const text = fs.readFileSync(config, 'utf8');
  assert.match(text, /directory: \.envprofiles\/backups/);
  fs.writeFileSync(config, text.replace('directory: .envprofiles/backups', `directory: ${folder}`));
}

function catalogOf(context: WorkspaceContext) {
  return readCatalog(new BackupLayout(context.layout, workspaceConfigFor(context)), DEV);
}

function isDiskFull(pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof EnvProfilesError, String(error));
    assert.equal(error.code, 'DISK_FULL');
    assert.match(error.message, pattern);
    return true;
  };
}

/** The databases' files and bytes under `dir`, without the -wal and -shm files that connections create and remove. */
function databaseFiles(dir: string): Record<string, string> {
  return snapshotTree(dir, (rel) => /-(wal|shm)$/.test(rel));
}

/** Every row of every table of a database (read-only). */
async function contentOfDatabase(file: string): Promise<Record<string, unknown[]>> {
  const db = (await engine()).open(file, { readOnly: true });
  try {
    const tables = db.all("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").map((row) => String(row.name));
    return Object.fromEntries(tables.map((table) => [table, db.all(`SELECT * FROM "${table}" ORDER BY rowid`)]));
  } finally {
    db.close();
  }
}

/** Every file and folder under `dir` (a disk's content). */
function contentOf(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).sort();
}

describe('a full disk is reported as such, never as a bug, and leaves everything as it was', function () {
  before(needsMounting);

  after(unmountAll);

  it('backup: the archive does not fit in the backups folder; the CLI says DISK_FULL with the folder and what to do; nothing is left there', async () => {
    const { root } = await demoWorkspace();
    await grow(root, 6, false);
    const disk = smallDisk(4);
    useBackupsFolder(root, disk);
    const cli = runCli(['backup', DEV, '--workspace', root]);
    assert.equal(cli.status, 1, cli.stderr);
    assert.match(cli.stderr, new RegExp(`error\\[DISK_FULL\\]: The backup of ${DEV} stopped: the disk of ${disk}/${DEV} is full \\([\\d.]+ MB free\\)\\. Nothing was kept of it`));
    assert.match(cli.stderr, /set backups\.directory in \.envprofiles\/config\.yaml to a folder on a larger disk/);
    assert.doesNotMatch(cli.stderr, /bug/);
    assert.deepEqual(contentOf(disk), [DEV], 'no archive, partial archive or catalog');
    assert.deepEqual(temporaryFiles(root), []);
    const json = runCli(['backup', DEV, '--workspace', root, '--json']).json;
    assert.equal(json?.error?.code, 'DISK_FULL');
    // The emergency backup goes on with the profiles that fit, and says for the other what to do.
    const all = runCli(['backup', '--all', '--reason', 'emergency', '--workspace', root]);
    assert.equal(all.status, 1, all.stderr);
    assert.match(all.stdout, new RegExp(`FAILED ${DEV} \\[DISK_FULL\\]: The backup of ${DEV} stopped: the disk of ${disk}/${DEV} is full.*\\n  Free some space on that disk`));
    assert.match(all.stdout, /2 profiles backed up, 1 failed \(reason: emergency\)/);
  });

  it('backup: snapshots that cannot fit are refused before anything is copied', async () => {
    const { root } = await demoWorkspace();
    await grow(root, 6, true);
    const staging = smallDisk(3);
    const cli = runCli(['backup', DEV, '--workspace', root], { env: { ENVPROFILES_STAGING_DIR: staging } });
    assert.equal(cli.status, 1, cli.stderr);
    assert.match(cli.stderr, new RegExp(`error\\[DISK_FULL\\]: Backing up ${DEV} needs [\\d.]+ MB on the disk of ${staging} \\(the snapshots of its databases\\), but it has [\\d.]+ MB free\\. Nothing was changed\\.`));
    assert.deepEqual(contentOf(staging), []);
  });

  it('verify: no room to rebuild the database is not a verdict on the backup; nothing is recorded, and it verifies once there is room', async () => {
    const { root, context, disk, backup } = await backupOnSmallDisk();
    assert.ok(backup.entry.sizeBytes < 2 * 1048576, 'the archive fits; the rebuilt database would not');
    const cli = runCli(['verify', backup.entry.id, '--workspace', root]);
    assert.equal(cli.status, 1, cli.stderr);
    assert.match(cli.stderr, new RegExp(`error\\[DISK_FULL\\]: Rebuilding market_data needs [\\d.]+ MB on the disk of ${disk}/${DEV} `));
    assert.equal(catalogOf(context)[0].verified, null, 'the catalog records no failed verification');
    assert.deepEqual(contentOf(disk).filter((name) => name.includes('.verify.')), []);
    execFileSync('mount', ['-o', 'remount,size=40m', disk]);
    const again = runCli(['verify', backup.entry.id, '--workspace', root]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(catalogOf(context)[0].verified?.ok, true);
  });

  it('restore: no room to verify the safety backup in the backups folder: refused before the safety backup, nothing changes; with room, it is verified', async () => {
    const { root, context, disk, backup } = await backupOnSmallDisk();
    const before = databaseFiles(path.join(root, 'data/dev'));
    const cli = runCli(['restore', backup.entry.id, '--workspace', root]);
    assert.equal(cli.status, 1, cli.stderr);
    assert.match(cli.stderr, new RegExp(`error\\[DISK_FULL\\]: Restoring ${backup.entry.id} needs [\\d.]+ MB on the disk of ${disk}/${DEV} \\(verifying the safety backup \\(its largest database, rebuilt\\)\\), but it has [\\d.]+ MB free\\. Nothing was changed\\.`));
    assert.equal(catalogOf(context).length, 1, 'no safety backup was taken');
    assert.deepEqual(databaseFiles(path.join(root, 'data/dev')), before);
    const dryRun = runCli(['restore', backup.entry.id, '--dry-run', '--workspace', root]);
    assert.equal(dryRun.status, 3, dryRun.stderr);
    assert.match(dryRun.stdout, /it would be refused now: Restoring \S+ needs [\d.]+ MB .*verifying the safety backup/);
    execFileSync('mount', ['-o', 'remount,size=40m', disk]);
    const restored = await restoreBackup(context, { reference: backup.entry.id });
    assert.equal(restored.safetyBackupVerified, true);
  });

  it('restore: the rebuilt databases cannot fit beside the old ones: refused before the safety backup, nothing changes (also --as-new)', async () => {
    const { root, context } = await demoWorkspace();
    await grow(root, 6, true);
    const backup = await createBackup(context, { profileId: DEV });
    moveOntoSmallDisk(path.join(root, 'data/dev'), 10);
    const before = databaseFiles(path.join(root, 'data/dev'));
    await assert.rejects(restoreBackup(context, { reference: backup.entry.id }), isDiskFull(new RegExp(`Restoring ${backup.entry.id} needs [\\d.]+ MB on the disk of ${root}/data/dev \\(settings, strategies, market_data\\), but it has [\\d.]+ MB free\\. Nothing was changed\\.`)));
    assert.equal(catalogOf(context).length, 1, 'no safety backup was taken');
    assert.deepEqual(databaseFiles(path.join(root, 'data/dev')), before);
    smallDisk(3, path.join(root, 'data/copy_of_dev'));
    await assert.rejects(restoreBackup(context, { reference: backup.entry.id, asNew: 'copy_of_dev' }), isDiskFull(/as copy_of_dev needs/));
    assert.ok(!fs.existsSync(path.join(root, '.envprofiles/profiles/copy_of_dev.yaml')));
  });

  it('restore: the disk fills up during the rebuild: rolled back, every file as it was, the safety backup kept and named', async () => {
    const { root, context } = await demoWorkspace();
    await grow(root, 4, true);
    const backup = await createBackup(context, { profileId: DEV });
    const data = path.join(root, 'data/dev');
    moveOntoSmallDisk(data, 16);
    const before = databaseFiles(data);
    // Another program takes the room after the check, when the journal is written.
    const hog = path.join(data, 'other-program.bin');
    const filling: WorkspaceContext = {
      ...context,
      onStep: (step) => {
        if (step !== 'journal-written') return;
        const fd = fs.openSync(hog, 'w');
        try {
          for (;;) fs.writeSync(fd, Buffer.alloc(65536));
        } catch (error) {
          assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
        } finally {
          fs.closeSync(fd);
        }
      },
    };
    let message = '';
    await assert.rejects(restoreBackup(filling, { reference: backup.entry.id }), (error: unknown) => {
      message = (error as Error).message;
      return isDiskFull(new RegExp(`Restoring ${backup.entry.id} stopped: the disk of ${data} is full .*It was rolled back: every file is as it was\\. The safety backup ${DEV}\\.\\S+ was kept\\.`))(error);
    });
    fs.rmSync(hog);
    assert.deepEqual(databaseFiles(data), before, message);
    assert.deepEqual(temporaryFiles(root), []);
    assert.equal(catalogOf(context).length, 2, 'the safety backup is listed');
    await restoreBackup(context, { reference: backup.entry.id });
  });

  it('clone: copies that cannot fit are refused before anything is copied', async () => {
    const { root, context } = await demoWorkspace();
    await grow(root, 6, true);
    const target = path.join(root, 'data/clone');
    smallDisk(3, target);
    await assert.rejects(cloneProfile(context, { source: DEV, id: 'clone_of_dev', dataDir: 'data/clone' }), isDiskFull(new RegExp(`Cloning ${DEV} into clone_of_dev needs [\\d.]+ MB on the disk of ${target} \\(the copy of settings, the copy of strategies, the copy of market_data\\)`)));
    assert.deepEqual(contentOf(target), []);
    assert.ok(!fs.existsSync(path.join(root, '.envprofiles/profiles/clone_of_dev.yaml')));
  });

  it('a read-only backups folder is a typed error that names it, not a bug', async () => {
    const { root } = await demoWorkspace();
    const disk = smallDisk(1, undefined, true);
    useBackupsFolder(root, disk);
    const cli = runCli(['backup', DEV, '--workspace', root]);
    assert.equal(cli.status, 1, cli.stderr);
    assert.match(cli.stderr, new RegExp(`error\\[PERMISSION_DENIED\\]: Cannot create ${disk}/${DEV} \\(the backups of ${DEV}\\): ${disk} is on a read-only file system\\.\n  Use a folder on a writable disk`));
    assert.doesNotMatch(cli.stderr, /bug/);
  });

  it('an archive on a read-only disk verifies (its databases are rebuilt in the temporary folder; before: it failed, nothing rebuilt); a database path there that cannot be made says read-only, not a bug', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV });
    const disk = smallDisk(8);
    fs.copyFileSync(backup.archive, path.join(disk, path.basename(backup.archive)));
    execFileSync('mount', ['-o', 'remount,ro', disk]);
    const tmp = tempDir();
    const verified = runCli(['verify', path.join(disk, path.basename(backup.archive)), '--workspace', root], { env: { TMPDIR: tmp } });
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout, /is sound: 3 databases rebuilt/);
    assert.deepEqual(fs.readdirSync(tmp).filter((name) => name.includes('envprofiles-tmp')), [], 'the staging folder is removed');
    allowFolders(root, disk);
    const created = runCli(['create', 'on_read_only', '--db', `settings=${disk}/new/settings.sqlite3`, '--init-db', 'empty', '--workspace', root]);
    assert.equal(created.status, 1);
    assert.match(created.stderr, new RegExp(`^error\\[PERMISSION_DENIED\\]: The file system is read-only \\(writing ${disk}/new\\)`));
  });
});

describe('a file larger than the file system takes (EFBIG: FAT32 takes at most 4 GiB)', () => {
  /**
   * The kernel's own EFBIG, without writing 4 GiB to a FAT disk: a file size limit (ulimit -f) with
   * SIGXFSZ ignored makes every write past it fail with EFBIG, as FAT32 does past 4 GiB.
   */
  function cliWithFileSizeLimit(bytes: number, args: string[]) {
    const script = `trap '' XFSZ; ulimit -f ${Math.floor(bytes / 1024)}; exec "$0" "$@"`;
    return spawnSync('bash', ['-c', script, process.execPath, CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...NO_TEST_HOOKS }, input: '' });
  }

  it('a backup whose archive outgrows it says so, with what to do, and keeps nothing (before: "a bug")', async () => {
    const { root } = await demoWorkspace(2000);
    const config = path.join(root, '.envprofiles/config.yaml');
    // Stored, the archive is larger than the largest database (whose snapshot must still fit).
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('compression: fast', 'compression: store'));
    const largest = Math.max(...fs.readdirSync(path.join(root, 'data/dev')).filter((name) => name.endsWith('.sqlite3')).map((name) => fs.statSync(path.join(root, 'data/dev', name)).size));
    const before = snapshotTree(root, (rel) => /-(wal|shm)$/.test(rel));
    const refused = cliWithFileSizeLimit(largest + 16 * 1024, ['backup', DEV, '--full', '--workspace', root]);
    assert.equal(refused.status, 1, refused.stderr);
    const folder = path.join(root, '.envprofiles/backups', DEV);
    assert.equal(refused.stderr, `error[IO_ERROR]: The backup of ${DEV} stopped: a file grew larger than the file system of ${folder} takes (FAT32, common on USB sticks, takes files of at most 4 GiB). Nothing was kept of it: the partial archive and the snapshots were removed, and the catalog is as it was.\n  Set backups.directory in .envprofiles/config.yaml to a folder on a disk formatted with exFAT, NTFS or ext4 (or format the stick as exFAT), then back up again. A full backup holds every database whole; an incremental one only the pages that changed.\n`);
    assert.deepEqual(snapshotTree(root, (rel) => /-(wal|shm)$/.test(rel)), before);
    assert.deepEqual(temporaryFiles(root), []);
    const backedUp = runCli(['backup', DEV, '--full', '--workspace', root]);
    assert.equal(backedUp.status, 0, backedUp.stderr);
  });

  it('typedSystemError says EIO (a failing or pulled-out disk) in words', () => {
    const typed = typedSystemError(Object.assign(new Error("EIO: i/o error, read"), { code: 'EIO', path: '/media/stick/backups' }));
    assert.equal(typed?.code, 'IO_ERROR');
    assert.equal(typed?.message, 'The disk reported an input/output error (at /media/stick/backups): it may be failing, or was disconnected: EIO: i/o error, read.');
  });

  it('typedSystemError says EFBIG in words', () => {
    const typed = typedSystemError(Object.assign(new Error('EFBIG: file too large, write'), { code: 'EFBIG' }));
    assert.equal(typed?.code, 'IO_ERROR');
    assert.equal(typed?.message, 'The write was refused: a file grew larger than the file system takes (FAT32, common on USB sticks, takes files of at most 4 GiB): EFBIG: file too large, write.');
  });

  it('a backups folder through symbolic links that lead to each other, or under a name too long for the file system: refused with what is wrong and its own fix, nothing written (before: both hints said "use a shorter path, or fix the links")', async () => {
    const { root } = await demoWorkspace();
    fs.symlinkSync('loop1', path.join(root, 'loop2'));
    fs.symlinkSync('loop2', path.join(root, 'loop1'));
    const config = path.join(root, '.envprofiles/config.yaml');
    const original = fs.readFileSync(config, 'utf8');
    const before = snapshotTree(root);
    fs.writeFileSync(config, original.replace(/directory: \S+/, 'directory: loop1/backups'));
    const looped = runCli(['backup', DEV, '--workspace', root]);
    assert.equal(looped.status, 1);
    assert.equal(looped.stderr, `error[IO_ERROR]: The path ${path.join(root, 'loop1/backups', DEV)} cannot be used: it goes through symbolic links that lead to each other.\n  Fix the symbolic links on it (ls -l shows where each leads), then run it again.\n`);
    const long = 'b'.repeat(300);
    fs.writeFileSync(config, original.replace(/directory: \S+/, `directory: ${long}`));
    const tooLong = runCli(['backup', DEV, '--workspace', root]);
    assert.equal(tooLong.status, 1);
    assert.match(tooLong.stderr, new RegExp(`^error\\[IO_ERROR\\]: The path ${root}/${long}\\S* cannot be used: a name in it is longer than the file system allows \\(255 bytes\\)\\.\\n  Use a shorter name on that path, then run it again\\.\\n$`));
    fs.writeFileSync(config, original);
    assert.deepEqual(snapshotTree(root), before);
  });
});

describe('folders that cannot be made', () => {
  it('a backups folder on a file system that takes no folders (/proc): refused as not writable, at once (before: every backup spun for ever at full CPU, in Node\'s recursive mkdir)', async () => {
    const { root } = await demoWorkspace();
    const config = path.join(root, '.envprofiles/config.yaml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(/directory: \S+/, 'directory: /proc/self'));
    // Killed after 30 s if it spins again (a synchronous spin would also hang this test's own process).
    const backup = runCli(['backup', DEV, '--workspace', root], { timeoutMs: 30_000 });
    assert.equal(backup.status, 1, `ended by itself: ${backup.stderr}`);
    assert.match(backup.stderr, /^error\[PERMISSION_DENIED\]: Cannot create \/proc\/self\/dev_environment_001 \(the backups of dev_environment_001\): \/proc\/self is not writable\.$/m);
  });

  it('a folder that /proc itself refuses (root may write to it, and its answer is "no such file"): said as a file system that takes no new folders (before: "a symbolic link that leads nowhere"), which stays what a broken link is told', async function () {
    // Only root may write to /proc (anyone else is refused as not writable, before any mkdir).
    needsRoot('writing to /proc').call(this);
    const { root } = await demoWorkspace();
    const config = path.join(root, '.envprofiles/config.yaml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(/directory: \S+/, 'directory: /proc'));
    const backup = runCli(['backup', DEV, '--workspace', root], { timeoutMs: 30_000 });
    assert.equal(backup.status, 1, backup.stderr);
    assert.equal(backup.stderr, 'error[IO_ERROR]: A folder could not be made (/proc/dev_environment_001): /proc takes no new folders (a virtual file system, such as /proc or /sys).\n  Choose a folder on a disk, then run it again.\n');
    const dangling = path.join(tempDir(), 'dangling');
    fs.symlinkSync(path.join(root, 'nowhere'), dangling);
    let thrown: unknown;
    try {
      makeFolders(path.join(dangling, 'x'));
    } catch (error) {
      thrown = error;
    }
    assert.match(typedSystemError(thrown)?.message ?? String(thrown), /: a folder on its way is a symbolic link that leads nowhere, or was removed meanwhile\.$/);
  });

  it('makeFolders makes every missing level and says the first (as Node\'s recursive mkdir), and throws each level\'s own error', () => {
    const root = tempDir();
    assert.equal(makeFolders(path.join(root, 'a/b/c'), 0o700), path.join(root, 'a'));
    assert.equal(fs.statSync(path.join(root, 'a/b/c')).mode & 0o777, 0o700);
    assert.equal(makeFolders(path.join(root, 'a/b/c')), undefined, 'there already');
    fs.writeFileSync(path.join(root, 'file'), '');
    assert.throws(() => makeFolders(path.join(root, 'file')), { code: 'EEXIST' });
    assert.throws(() => makeFolders(path.join(root, 'file/x/y')), { code: 'ENOTDIR' });
    fs.symlinkSync(path.join(root, 'nowhere'), path.join(root, 'dangling'));
    assert.throws(() => makeFolders(path.join(root, 'dangling/x')), { code: 'ENOENT' });
  });
});

describe('a workspace on a disk mounted read-only', function () {
  before(needsMounting);

  after(unmountAll);

  it('a command that takes the workspace lock says so, and which commands work there (before: "use a folder on a writable disk", naming the lock\'s temporary file); reading commands work', async () => {
    const { root } = await demoWorkspace();
    moveOntoSmallDisk(root, 8);
    execFileSync('mount', ['-o', 'remount,ro', root]);
    const refused = runCli(['backup', DEV, '--workspace', root]);
    assert.equal(refused.stderr, `error[PERMISSION_DENIED]: The workspace ${root} is on a read-only file system, so "backup of ${DEV}" cannot take its lock (.envprofiles/lock); nothing was changed.\n  Commands that only read (list, show, status, validate, backups) work here; for this one, mount the workspace read-write, or copy it to a writable disk and run it there.\n`);
    for (const command of [['list'], ['show', DEV], ['validate', DEV], ['backups']]) {
      const read = runCli([...command, '--workspace', root]);
      assert.equal(read.status, 0, `${command.join(' ')}: ${read.stderr}`);
    }
  });
});

describe('backups on a disk mounted read-only (a backup medium kept write-protected)', function () {
  before(needsMounting);

  after(unmountAll);

  it('its backups verify, the result said as not recorded (before: verify failed on the catalog lock); a new backup and a catalog rebuild are refused naming the folder and backups.directory (before: "read-only" of a temporary file); a restore over a profile is refused before anything, its safety backup having nowhere to go, and says how (also in a dry run); as a new profile it restores', async () => {
    const { root, context } = await demoWorkspace();
    const disk = smallDisk(8);
    useBackupsFolder(root, disk);
    const backup = await createBackup(context, { profileId: DEV });
    execFileSync('mount', ['-o', 'remount,ro', disk]);
    const tmp = tempDir();
    const env = { TMPDIR: tmp };
    const onDisk = contentOf(disk);
    const notRecorded = `not recorded: the result could not be written into the catalog: ${disk}/${DEV} is on a read-only file system. The archive was checked all the same; verify again where the folder can be written to record the result.`;
    const verified = runCli(['verify', backup.entry.id, '--workspace', root], { env });
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout, /is sound: 3 databases rebuilt/);
    assert.ok(verified.stdout.endsWith(`\n  ${notRecorded}\n`), verified.stdout);
    const all = runCli(['verify', '--all', '--workspace', root], { env });
    assert.equal(all.status, 0, all.stderr);
    assert.ok(all.stdout.includes(`${backup.entry.id}: sound (3 databases rebuilt and checked)\n    ${notRecorded}\n`), all.stdout);

    // A new backup and a catalog rebuild are refused in words that name the folder and the setting (before: "read-only" of a lock's temporary file).
    for (const [args, operation] of [[['backup', DEV], `backup ${DEV}`], [['backup', DEV, '--full', '--verify'], `backup ${DEV}`], [['backups', DEV, '--rebuild-catalog'], `rebuild the catalog of ${DEV}`]] as const) {
      const refused = runCli([...args, '--workspace', root], { env });
      assert.equal(refused.status, 1, refused.stderr);
      assert.equal(refused.stderr, `error[PERMISSION_DENIED]: "${operation}" needs to write to ${disk}/${DEV}: ${disk}/${DEV} is on a read-only file system. Nothing was changed.\n  The backups folder (backups.directory in .envprofiles/config.yaml) must be writable: remount its disk read-write or make the folder writable, or set backups.directory to another folder, then run it again.\n`);
    }
    assert.deepEqual(fs.readdirSync(tmp).filter((name) => name.includes('envprofiles-tmp')), [], 'no snapshot left behind');

    const before = databaseFiles(path.join(root, 'data'));
    const refusal = `error[PERMISSION_DENIED]: Restoring ${backup.entry.id} takes a safety backup of the current state of ${DEV} first, which needs to write to ${disk}/${DEV}: ${disk}/${DEV} is on a read-only file system. Nothing was changed.\n  To restore from backups that cannot be written to, set backups.directory in .envprofiles/config.yaml to a writable folder and restore by the archive's path (envprofiles restore ${backup.archive}); or restore it as a new profile (--as-new <id>), which replaces nothing.\n`;
    for (const extra of [[], ['--db', 'settings']]) {
      const refused = runCli(['restore', backup.entry.id, ...extra, '--workspace', root], { env });
      assert.equal(refused.status, 1, refused.stderr);
      assert.equal(refused.stderr, refusal);
    }
    const dryRun = runCli(['restore', backup.entry.id, '--dry-run', '--workspace', root], { env });
    assert.equal(dryRun.status, 3, dryRun.stderr);
    assert.match(dryRun.stdout, /\n {2}it would be refused now: Restoring \S+ takes a safety backup of the current state of dev_environment_001 first/);
    assert.deepEqual(databaseFiles(path.join(root, 'data')), before);

    // Its backups cannot be verified on record there, so a delete says what to change first.
    const deleting = runCli(['delete', 'test_environment_001', '--dry-run', '--workspace', root], { env });
    assert.equal(deleting.status, 3, deleting.stderr);
    assert.ok(deleting.stdout.includes(`The backups folder cannot take a backup, nor record a verification: ${disk} is on a read-only file system. Set backups.directory in .envprofiles/config.yaml to a writable folder first. Make one and verify it`), deleting.stdout);
    const asNew = runCli(['restore', backup.entry.id, '--as-new', 'dev_from_disk', '--workspace', root], { env });
    assert.equal(asNew.status, 0, asNew.stderr);
    assert.deepEqual(await contentOfDatabase(path.join(root, 'data/dev_from_disk/settings.sqlite3')), await contentOfDatabase(path.join(root, 'data/dev/settings.sqlite3')));
    // The way the refusal gives: a writable backups folder, and the archive by its path.
    const config = path.join(root, '.envprofiles/config.yaml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(`directory: ${disk}`, 'directory: .envprofiles/backups'));
    const byPath = runCli(['restore', backup.archive, '--workspace', root], { env });
    assert.equal(byPath.status, 0, byPath.stderr);
    assert.match(byPath.stdout, /the state before the restore is in backup \S+, verified/);
    assert.deepEqual(contentOf(disk), onDisk, 'nothing written to the read-only disk');
    assert.deepEqual(fs.readdirSync(tmp).filter((name) => name.includes('envprofiles-tmp')), [], 'no staging folder left in the temporary folder');
  });
});

describe('a backups disk that is not mounted, its mount point empty (a real mount, unmounted)', function () {
  before(needsMounting);

  after(unmountAll);

  it('backups go to the disk while it is mounted; unmounted, its empty mount point is refused (nothing written to the disk below); mounted again, the chain goes on', async () => {
    const { root, context } = await demoWorkspace();
    const disk = smallDisk(20);
    const mountPoint = tempDir('envprofiles-mount-point-');
    useBackupsFolder(root, mountPoint);
    const mount = (): void => {
      execFileSync('mount', ['--bind', disk, mountPoint]);
      mounted.push(mountPoint);
    };
    const unmount = (): void => {
      execFileSync('umount', [mountPoint]);
      mounted.splice(mounted.indexOf(mountPoint), 1);
    };
    mount();
    const first = await createBackup(context, { profileId: DEV });
    assert.ok(fs.existsSync(path.join(disk, DEV, `${first.entry.id}.zip`)));
    unmount();
    assert.deepEqual(contentOf(mountPoint), []);
    const refused = runCli(['backup', DEV, '--workspace', root]);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /^error\[BACKUPS_FOLDER_MISSING\]: The backups folder .* is not the one this workspace has backed up into: the mark this workspace left there \(\.envprofiles-backups-folder, since .*\) is gone/);
    assert.deepEqual(contentOf(mountPoint), [], 'nothing on the disk below the mount point');
    mount();
    const next = await createBackup(context, { profileId: DEV });
    assert.equal(next.entry.parent, first.entry.id);
  });
});

describe('a database on a read-only disk (a snapshot mount, a read-only volume)', function () {
  before(needsMounting);

  after(unmountAll);

  /** The test profile's databases moved onto a disk that is then made read-only; returns that folder. */
  async function testProfileOnReadOnlyDisk(root: string, beforeReadOnly: (disk: string) => void = () => {}): Promise<string> {
    const disk = smallDisk(8);
    for (const name of ['settings', 'strategies', 'market_data']) fs.copyFileSync(path.join(root, `data/test/${name}.sqlite3`), path.join(disk, `${name}.sqlite3`));
    beforeReadOnly(disk);
    execFileSync('mount', ['-o', 'remount,ro', disk]);
    const profile = path.join(root, '.envprofiles/profiles/test_environment_001.yaml');
    fs.writeFileSync(profile, fs.readFileSync(profile, 'utf8').replaceAll('data/test/', `${disk}/`));
    allowFolders(root, disk);
    return disk;
  }

  it('delete --delete-data of a profile whose databases are there is refused before anything is removed, also in a dry run, and says how to keep the data (before: the profile file went, then removing the data failed as "a bug"); without --delete-data it deletes', async () => {
    const { root } = await demoWorkspace();
    const disk = await testProfileOnReadOnlyDisk(root);
    const backedUp = runCli(['backup', 'test_environment_001', '--verify', '--workspace', root]);
    assert.equal(backedUp.status, 0, backedUp.stderr);
    assert.equal(runCli(['switch', DEV, '--workspace', root]).status, 0);
    const profileFile = path.join(root, '.envprofiles/profiles/test_environment_001.yaml');
    const refusal = `Deleting test_environment_001 with its data needs to write to ${disk}: ${disk} is on a read-only file system. Nothing was changed.`;
    const dryRun = runCli(['delete', 'test_environment_001', '--delete-data', '--dry-run', '--workspace', root]);
    assert.equal(dryRun.status, 3, dryRun.stderr);
    assert.ok(dryRun.stdout.includes(`it would be refused now: ${refusal}`), dryRun.stdout);
    const refused = runCli(['delete', 'test_environment_001', '--delete-data', '--workspace', root]);
    assert.equal(refused.stderr, `error[PERMISSION_DENIED]: ${refusal}\n  To delete the profile and keep its data, leave out --delete-data; to delete the data too, make that folder writable first.\n`);
    assert.ok(fs.existsSync(profileFile), 'the profile file is kept');
    const kept = runCli(['delete', 'test_environment_001', '--workspace', root]);
    assert.equal(kept.status, 0, kept.stderr);
    assert.ok(!fs.existsSync(profileFile));
    assert.ok(fs.existsSync(path.join(disk, 'settings.sqlite3')));
  });

  it('an error Node gives without its code (fs.rmSync on a read-only disk: code "", "Unknown error: Read-only file system") is still said in words, not "a bug"', async () => {
    const disk = smallDisk(1);
    fs.writeFileSync(path.join(disk, 'file'), 'x');
    execFileSync('mount', ['-o', 'remount,ro', disk]);
    let thrown: unknown;
    try {
      fs.rmSync(path.join(disk, 'file'), { force: true });
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown, 'a read-only disk refuses the removal');
    const typed = typedSystemError(thrown);
    assert.equal(typed?.code, 'PERMISSION_DENIED', String(thrown));
    assert.match(typed?.message ?? '', new RegExp(`^The file system is read-only \\(writing ${disk}/file\\): EROFS`));
    // The same when Node leaves the code out (as Node 24's rm does), from the words alone.
    const codeless = typedSystemError(Object.assign(new Error(`, Unknown error: Read-only file system '${disk}/file'`), { code: '', path: `${disk}/file` }));
    assert.equal(codeless?.message, `The file system is read-only (writing ${disk}/file): EROFS: Read-only file system '${disk}/file'.`);
  });

  it('a WAL database there (no -shm, none can be made) is validated, backed up and verified: nothing can write to it, so it is read as immutable', async () => {
    const { root } = await demoWorkspace();
    const disk = await testProfileOnReadOnlyDisk(root);
    assert.equal(fs.existsSync(path.join(disk, 'settings.sqlite3-shm')), false);
    const validate = runCli(['validate', 'test_environment_001', '--full', '--workspace', root]);
    assert.equal(validate.status, 0, validate.stdout + validate.stderr);
    const backup = runCli(['backup', 'test_environment_001', '--workspace', root, '--json']);
    assert.equal(backup.status, 0, backup.stderr);
    const verify = runCli(['verify', backup.json?.result.id, '--workspace', root]);
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    // Rebuilt from the archive, each database holds what the one on the read-only disk holds.
    const restored = runCli(['restore', backup.json?.result.id, '--as-new', 'copy_of_test', '--workspace', root]);
    assert.equal(restored.status, 0, restored.stderr);
    for (const name of ['settings', 'strategies', 'market_data']) {
      assert.deepEqual(await contentOfDatabase(path.join(root, `data/copy_of_test/${name}.sqlite3`)), await contentOfDatabase(path.join(disk, `${name}.sqlite3`)), name);
    }
    // Restoring over it, or cloning onto that disk, cannot write there: refused before anything (no safety backup).
    const over = runCli(['restore', backup.json?.result.id, '--workspace', root]);
    assert.equal(over.status, 1, over.stderr);
    assert.match(over.stderr, new RegExp(`error\\[PERMISSION_DENIED\\]: Restoring \\S+ needs to write to ${disk}: ${disk} is on a read-only file system\\. Nothing was changed\\.`));
    assert.equal(runCli(['backups', 'test_environment_001', '--workspace', root, '--json']).json?.result.backups.length, 1, 'no safety backup');
    const clone = runCli(['clone', 'dev_environment_001', 'onto_read_only', '--data-dir', `${disk}/clone`, '--workspace', root]);
    assert.equal(clone.status, 1, clone.stderr);
    assert.match(clone.stderr, /error\[PERMISSION_DENIED\]: Cloning dev_environment_001 into onto_read_only needs to write to /);
  });

  it('a -wal with committed data there cannot be read without its -shm: refused in words (WAL_NOT_EMPTY), never backed up stale', async () => {
    const { root } = await demoWorkspace();
    await testProfileOnReadOnlyDisk(root, (disk) => {
      // A writer's committed transaction, still only in the -wal (the writer is gone; the -shm went with the copy).
      const writer = path.join(tempDir(), 'writer.sqlite3');
      fs.copyFileSync(path.join(disk, 'settings.sqlite3'), writer);
      const script = `const { DatabaseSync } = require('node:sqlite'); const fs = require('node:fs');
const db = new DatabaseSync(${JSON.stringify(writer)}); db.exec('PRAGMA wal_autocheckpoint = 0'); db.exec('CREATE TABLE late (x)');
fs.copyFileSync(${JSON.stringify(writer)}, ${JSON.stringify(path.join(disk, 'settings.sqlite3'))});
fs.copyFileSync(${JSON.stringify(`${writer}-wal`)}, ${JSON.stringify(path.join(disk, 'settings.sqlite3-wal'))});
process.exit(0);`;
      execFileSync(process.execPath, ['-e', script]);
    });
    const backup = runCli(['backup', 'test_environment_001', '--workspace', root]);
    assert.equal(backup.status, 1, backup.stderr);
    assert.match(backup.stderr, /error\[WAL_NOT_EMPTY\]: \S+settings\.sqlite3 is on a read-only disk and its -wal holds committed data, but there is no -shm beside it/);
    assert.match(backup.stderr, /Mount the disk read-write, or copy the database with its -wal to a writable folder/);
    const validate = runCli(['validate', 'test_environment_001', '--workspace', root]);
    assert.match(validate.stdout, /FAIL\s+opens: .*settings\.sqlite3 is on a read-only disk/);
  });
});

describe('a backups folder on a FAT disk (a USB stick): no permission bits, no hard links, no locks SQLite can use', function () {
  before(needsRoot('mounting a FAT image through FUSE'));
  let disk = '';
  before(function () {
    // Real FAT32, through fusefat (FUSE): the kernel here has no vfat driver. npm test installs it.
    const image = path.join(tempDir('envprofiles-fat-image-'), 'stick.img');
    execFileSync('truncate', ['-s', '64M', image]);
    // In /usr/sbin, which a PATH may lack.
    execFileSync(fs.existsSync('/usr/sbin/mkfs.vfat') ? '/usr/sbin/mkfs.vfat' : 'mkfs.vfat', ['-F', '32', image], { stdio: 'ignore' });
    disk = tempDir('envprofiles-fat-');
    execFileSync('fusefat', ['-o', 'rw+', image, disk], { stdio: 'ignore' });
  });
  after(() => {
    if (disk) execFileSync('fusermount', ['-u', disk]);
  });

  it('backs up, verifies and restores there; says that the archive of private files cannot be made private (before: "a bug", ENOSYS from chmod, then every verification recorded as FAILED, "disk I/O error")', async () => {
    const { root } = await demoWorkspace();
    const folder = path.join(disk, 'backups');
    fs.mkdirSync(folder);
    useBackupsFolder(root, folder);
    for (const file of fs.readdirSync(path.join(root, 'data/dev'))) fs.chmodSync(path.join(root, 'data/dev', file), 0o600);
    const full = runCli(['backup', DEV, '--full', '--verify', '--json', '--workspace', root]);
    assert.equal(full.status, 0, full.stderr);
    assert.equal(full.json?.result.verification.ok, true, full.json?.result.verification.problems.join('\n'));
    assert.match(full.json?.result.note, /the file system of the backups folder keeps no file permissions \(FAT or exFAT, say\), so this archive could not be made readable by its owner only, as the files in it are/);
    // SQLite cannot check a database on this file system: verify rebuilt it in the temporary folder instead.
    assert.deepEqual(fs.readdirSync(path.join(folder, DEV)).filter((name) => name.startsWith('.')), [], 'no staging folder left on the stick');
    const db = (await engine()).open(path.join(root, MARKET), { readOnly: false });
    db.exec('UPDATE price_data SET close = close + 1 WHERE rowid < 50');
    db.close();
    const incremental = runCli(['backup', DEV, '--verify', '--json', '--workspace', root]);
    assert.equal(incremental.status, 0, incremental.stderr);
    assert.deepEqual([incremental.json?.result.kind, incremental.json?.result.verification.ok], ['incremental', true]);
    const scrub = runCli(['verify', '--all', '--workspace', root]);
    assert.equal(scrub.status, 0, scrub.stdout);
    assert.match(scrub.stdout, /Verified 2 backups of 1 profile: 2 sound, 0 FAILED\./);
    const restored = runCli(['restore', full.json?.result.id, '--workspace', root]);
    assert.equal(restored.status, 0, restored.stderr);
    assert.match(restored.stdout, /the state before the restore is in backup \S+, verified/);
    // Snapshots too large for memory go beside the archives, but not onto this disk.
    const onStick = new BackupLayout(new WorkspaceLayout(root), { ...defaultConfig(), backups: { ...defaultConfig().backups, directory: folder } });
    assert.equal(path.dirname(diskStagingDir(onStick, DEV)), os.tmpdir());
    const onLocalDisk = new BackupLayout(new WorkspaceLayout(root), defaultConfig());
    assert.equal(path.dirname(diskStagingDir(onLocalDisk, DEV)), path.join(root, '.envprofiles/backups', DEV));
  });

  it('two profiles whose ids differ only in case share one backups folder there: neither builds on, lists nor prunes the other\'s backups (before: one catalog listed the backups of both under each, and an incremental of one was built on the other\'s full)', async () => {
    const { root, context } = await demoWorkspace();
    const folder = path.join(disk, 'case-backups');
    fs.mkdirSync(folder);
    useBackupsFolder(root, folder);
    // Such a pair is refused by create and clone now; one made before (or by hand) is still there.
    const UPPER = DEV.toUpperCase();
    const yaml = fs.readFileSync(path.join(root, `.envprofiles/profiles/${DEV}.yaml`), 'utf8');
    fs.writeFileSync(path.join(root, `.envprofiles/profiles/${UPPER}.yaml`), yaml.replace(`id: "${DEV}"`, `id: "${UPPER}"`).replaceAll('data/dev/', 'data/dev_upper/'));
    fs.cpSync(path.join(root, 'data/dev'), path.join(root, 'data/dev_upper'), { recursive: true });
    const lower = runCli(['backup', DEV, '--verify', '--json', '--workspace', root]);
    assert.equal(lower.status, 0, lower.stderr);
    const upper = runCli(['backup', UPPER, '--json', '--workspace', root]);
    assert.equal(upper.status, 0, upper.stderr);
    assert.equal(upper.json?.result.kind, 'full', 'not built on the other profile\'s backup');
    assert.match(upper.json?.result.note, new RegExp(`holds backups of ${DEV}, not only of ${UPPER}: the two profile ids differ only in case, and the backups folder is on a disk that does not tell case apart .* So this backup is full .* and is not listed in it`));
    assert.ok(fs.existsSync(upper.json?.result.archive));
    // Before, the shared catalog listed both profiles' backups under each.
    const listed = readCatalog(new BackupLayout(context.layout, workspaceConfigFor(context)), DEV);
    assert.deepEqual(listed.map((e) => e.id), [lower.json?.result.id], 'the catalog is as the first profile left it');
    for (const args of [['backups', UPPER], ['prune', UPPER]]) {
      const run = runCli([...args, '--workspace', root]);
      assert.equal(run.status, 1, args.join(' '));
      assert.match(run.stderr, /^error\[CATALOG_MISMATCH\]: .* differ only in case[\s\S]*\n {2}Set backups\.directory in \.envprofiles\/config\.yaml to a folder on a disk that tells case apart/, args.join(' '));
    }
    assert.equal(runCli(['prune', DEV, '--workspace', root]).status, 1, 'the other profile\'s archive in its folder stops a prune of the first, too');
    assert.deepEqual(fs.readdirSync(path.join(folder, DEV)).filter((name) => name.endsWith('.zip')).sort(), [path.basename(lower.json?.result.archive), path.basename(upper.json?.result.archive)].sort(), 'nothing was deleted');
  });
});

describe('a disk that reads a file wrong for a moment (a FAT disk through fusefat, with other processes at work on it)', () => {
  /**
   * Reads `file` steadily while another thread puts `whole` in its place (renamed, as the tool writes)
   * once the first read has been judged, and waits for that before the read goes on: so the second
   * read is sure to find it, whatever the machine's load.
   */
  function readWhileMended(file: string, whole: string): { read: ReturnType<typeof readSteadily<unknown>>; judged: string[] } {
    const signal = new Int32Array(new SharedArrayBuffer(8));
    const mender = new Worker(`
      const { workerData } = require('node:worker_threads');
      const fs = require('node:fs');
      const signal = new Int32Array(workerData.buffer);
      Atomics.wait(signal, 0, 0);
      fs.writeFileSync(workerData.file + '.tmp', workerData.whole);
      fs.renameSync(workerData.file + '.tmp', workerData.file);
      Atomics.store(signal, 1, 1);
      Atomics.notify(signal, 1);
    `, { eval: true, workerData: { buffer: signal.buffer, file, whole } });
    const judged: string[] = [];
    const read = readSteadily(file, (text) => {
      judged.push(text);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        if (judged.length === 1) {
          Atomics.store(signal, 0, 1);
          Atomics.notify(signal, 0);
          Atomics.wait(signal, 1, 0, 10_000);
        }
        return undefined;
      }
    });
    void mender.terminate();
    return { read, judged };
  }

  it('a file that reads back as zeros, then whole, is read again and taken whole (catalogs and lock files are read so; before, one such read of a catalog refused the backup that was listing itself in it, CATALOG_MISMATCH)', () => {
    const file = path.join(tempDir('envprofiles-steady-'), 'catalog.json');
    const whole = JSON.stringify({ version: 1, profileId: DEV, backups: [] });
    fs.writeFileSync(file, Buffer.alloc(whole.length));
    const { read, judged } = readWhileMended(file, whole);
    assert.deepEqual(read?.value, { version: 1, profileId: DEV, backups: [] });
    assert.deepEqual(judged, ['\0'.repeat(whole.length), whole], 'read twice: zeros, then the whole file');
  });

  it('one that stays damaged is read five times, 10 ms apart, then given back as it is (and a catalog so is refused by name, as before); a missing one is none', () => {
    const folder = tempDir('envprofiles-steady-');
    const backups = new BackupLayout(new WorkspaceLayout(folder), defaultConfig());
    const file = backups.catalogFile(DEV);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{"version": 1, "backups": [');
    const judged: string[] = [];
    const started = performance.now();
    const read = readSteadily(file, (text) => (judged.push(text), undefined));
    assert.ok(performance.now() - started >= 40, 'four pauses of 10 ms');
    assert.deepEqual([read?.text, read?.value, judged.length], ['{"version": 1, "backups": [', undefined, 5]);
    assert.throws(() => readCatalog(backups, DEV), (error: unknown) => error instanceof EnvProfilesError && error.code === 'CATALOG_MISMATCH' && error.message.startsWith(`The backup catalog ${file} cannot be read: `));
    assert.equal(readSteadily(path.join(folder, 'none.json'), () => 1), undefined);
    fs.mkdirSync(path.join(folder, 'a-folder'));
    assert.throws(() => readSteadily(path.join(folder, 'a-folder'), () => 1), /a-folder is not a file/);
  });
});

describe("a WAL database in a folder another user owns (a stopped service's), read by this user", function () {
  before(needsRoot('making files of another user and running the CLI as that user'));

  const NOBODY = 65534;
  /**
   * Node and the CLI bundle where `nobody` can reach them: the checkout may be in a folder only root
   * may enter (CI clones into a fresh `mktemp -d`, mode 0700).
   */
  const runtime = { node: '', cli: '' };
  before(() => {
    const folder = tempDir('envprofiles-runtime-');
    fs.chmodSync(folder, 0o755);
    runtime.node = path.join(folder, 'node');
    try {
      fs.linkSync(process.execPath, runtime.node);
    } catch {
      fs.copyFileSync(process.execPath, runtime.node);
      fs.chmodSync(runtime.node, 0o755);
    }
    fs.cpSync(path.dirname(CLI), path.join(folder, 'dist'), { recursive: true });
    runtime.cli = path.join(folder, 'dist', path.basename(CLI));
  });

  /** The CLI run as `nobody`, whose home (for its code cache) is `home`. */
  function runAsNobody(args: string[], home: string) {
    const run = spawnSync(runtime.node, [runtime.cli, ...args], { uid: NOBODY, gid: NOBODY, encoding: 'utf8', env: { ...process.env, ...NO_TEST_HOOKS, HOME: home, XDG_CACHE_HOME: path.join(home, '.cache') } });
    assert.ok(run.error === undefined, String(run.error));
    return run;
  }

  /** A workspace of `nobody` whose test profile's settings database is `database`, in a folder of root's. */
  async function nobodysWorkspace(database: string): Promise<string> {
    const { root } = await demoWorkspace();
    fs.chmodSync(root, 0o755);
    const profile = path.join(root, '.envprofiles/profiles/test_environment_001.yaml');
    fs.writeFileSync(profile, fs.readFileSync(profile, 'utf8').replace('data/test/settings.sqlite3', database));
    allowFolders(root, path.dirname(database));
    execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, root]);
    return root;
  }

  /** A folder of root's (others may read it, not write it) with a closed WAL database: no -wal, no -shm. */
  async function servicesDatabase(): Promise<string> {
    const folder = tempDir('envprofiles-service-');
    fs.chmodSync(folder, 0o755);
    const file = path.join(folder, 'settings.sqlite3');
    const db = (await engine()).open(file, { readOnly: false, create: true });
    db.exec("PRAGMA journal_mode = WAL; CREATE TABLE tv_trading_variables (name TEXT PRIMARY KEY, value TEXT); CREATE TABLE api_credentials (id INTEGER PRIMARY KEY, label TEXT); INSERT INTO tv_trading_variables VALUES ('owner', 'service')");
    db.close();
    fs.chmodSync(file, 0o644);
    assert.ok(!fs.existsSync(`${file}-shm`) && !fs.existsSync(`${file}-wal`));
    return file;
  }

  it('is validated, backed up and verified: with no -shm, no program has it open, so it is read as immutable', async () => {
    const database = await servicesDatabase();
    const root = await nobodysWorkspace(database);
    const validate = runAsNobody(['validate', 'test_environment_001', '--workspace', root], root);
    assert.equal(validate.status, 0, validate.stdout + validate.stderr);
    const backup = runAsNobody(['backup', 'test_environment_001', '--workspace', root, '--json'], root);
    assert.equal(backup.status, 0, backup.stderr);
    const id = JSON.parse(backup.stdout).result.id;
    const verify = runAsNobody(['verify', id, '--workspace', root], root);
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    assert.ok(!fs.existsSync(`${database}-shm`), 'nothing was written beside it');
    const restored = runCli(['restore', id, '--as-new', 'copy_of_test', '--workspace', root]);
    assert.equal(restored.status, 0, restored.stderr);
    assert.deepEqual(await contentOfDatabase(path.join(root, 'data/copy_of_test/settings.sqlite3')), await contentOfDatabase(database));
  });

  it('a -wal with committed data but no -shm (its program stopped without closing it) is refused in words, never backed up stale', async () => {
    const database = await servicesDatabase();
    const script = `const { DatabaseSync } = require('node:sqlite'); const fs = require('node:fs');
const db = new DatabaseSync(${JSON.stringify(database)}); db.exec('PRAGMA wal_autocheckpoint = 0'); db.exec('CREATE TABLE late (x)');
fs.rmSync(${JSON.stringify(`${database}-shm`)}); process.exit(0);`;
    execFileSync(process.execPath, ['-e', script]);
    assert.ok(fs.statSync(`${database}-wal`).size > 0);
    fs.chmodSync(`${database}-wal`, 0o644);
    const root = await nobodysWorkspace(database);
    const backup = runAsNobody(['backup', 'test_environment_001', '--workspace', root], root);
    assert.equal(backup.status, 1, backup.stderr);
    assert.match(backup.stderr, /error\[WAL_NOT_EMPTY\]: \S+settings\.sqlite3 is in a folder this user cannot write to and its -wal holds committed data, but there is no -shm beside it/);
    assert.match(backup.stderr, /Let the program that owns it open and close it once/);
  });

  it('a copy read that way is kept only when no program opened or wrote the database meanwhile', async () => {
    const database = await servicesDatabase();
    const before = stampOf(database);
    assert.equal(stillUnopened(database, before), true);
    const owner = (await engine()).open(database, { readOnly: false });
    owner.all('SELECT count(*) FROM sqlite_schema');
    try {
      assert.equal(stillUnopened(database, before), false, 'its program opened it (a -shm appeared)');
    } finally {
      owner.close();
    }
    const db = (await engine()).open(database, { readOnly: false });
    db.exec("UPDATE tv_trading_variables SET value = 'changed'");
    db.close();
    assert.ok(!fs.existsSync(`${database}-shm`));
    assert.equal(stillUnopened(database, before), false, 'it was written (a checkpoint into the file)');
  });
});

describe('system errors become typed errors', () => {
  it('ENOSPC, EDQUOT and SQLITE_FULL are DISK_FULL; EACCES, EPERM and EROFS are PERMISSION_DENIED; others (EBADF: a mistake of this tool) are left alone', () => {
    const fsError = (code: string): Error => Object.assign(new Error(`${code}: failed, open '/some/file'`), { code, path: '/some/file' });
    assert.equal(typedSystemError(fsError('ENOSPC'))?.code, 'DISK_FULL');
    assert.equal(typedSystemError(fsError('EDQUOT'))?.code, 'DISK_FULL');
    assert.equal(typedSystemError(Object.assign(new Error('database or disk is full'), { code: 'ERR_SQLITE_ERROR', errcode: 13 }))?.code, 'DISK_FULL');
    for (const code of ['EACCES', 'EPERM', 'EROFS']) {
      const typed = typedSystemError(fsError(code));
      assert.equal(typed?.code, 'PERMISSION_DENIED');
      assert.equal(typed?.file, '/some/file');
      assert.match(typed?.hint ?? '', /then run it again/);
    }
    assert.equal(typedSystemError(fsError('EBADF')), undefined);
    assert.equal(typedSystemError(new Error('something else')), undefined);
  });
});
