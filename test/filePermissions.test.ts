import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createBackup } from '../src/core/backup/backupCreation';
import { parseManifest } from '../src/core/backup/backupManifest';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { verifyBackup } from '../src/core/backup/backupVerification';
import { EnvProfilesError } from '../src/core/errors';
import { cloneProfile } from '../src/core/profileClone';
import type { WorkspaceContext } from '../src/core/workspaceContext';
import { demoWorkspace, listFilesInProfile } from './support/workspaces';
import { craftArchive } from './support/testHelpers';
import { runCli } from './support/cliRunner';
import { needsRoot } from './support/needsRoot';

const DEV = 'dev_environment_001';
const SETTINGS = 'data/dev/settings.sqlite3';

const permissions = (file: string): number => fs.statSync(file).mode & 0o777;
const octal = (mode: number): string => mode.toString(8);

/**
 * Every temporary folder an operation makes (the one its journal names, and those in the profile's
 * backup folder), and its permissions, seen at each of its steps and progress reports.
 */
function watchingFolders(context: WorkspaceContext, root: string, seen: Map<string, number>): WorkspaceContext {
  const backups = path.join(root, '.envprofiles/backups', DEV);
  const look = (): void => {
    const folders: string[] = [];
    for (const name of fs.readdirSync(path.join(root, '.envprofiles/journal'))) {
      const journal = JSON.parse(fs.readFileSync(path.join(root, '.envprofiles/journal', name), 'utf8')) as { stagingDir?: string };
      if (journal.stagingDir) folders.push(journal.stagingDir);
    }
    if (fs.existsSync(backups)) folders.push(...fs.readdirSync(backups).filter((name) => name.includes('.envprofiles-tmp-')).map((name) => path.join(backups, name)));
    for (const folder of folders) if (fs.existsSync(folder) && fs.statSync(folder).isDirectory()) seen.set(folder, permissions(folder));
  };
  // Steps (backup) and progress reports (verify, while it rebuilds) both give a look.
  return { ...context, onStep: look, progress: look };
}

describe('file permissions: a copy is never readable by more people than what it was made from', () => {
  it('a backup of a private database (0600) is a private archive; its snapshot folder is private while it is taken; the manifest keeps each file\'s permissions', async () => {
    const { root, context } = await demoWorkspace();
    fs.chmodSync(path.join(root, SETTINGS), 0o600);
    const seen = new Map<string, number>();
    const backup = await createBackup(watchingFolders(context, root, seen), { profileId: DEV, kind: 'full' });
    assert.equal(octal(permissions(backup.archive)), '600');
    assert.ok(seen.size > 0, 'the staging folder was seen');
    for (const [folder, mode] of seen) assert.equal(octal(mode), '700', folder);
    const manifest = JSON.parse(spawnSync('unzip', ['-p', backup.archive, 'manifest.json'], { encoding: 'utf8' }).stdout) as { files: { originalPath: string; mode?: number }[] };
    const modes = Object.fromEntries(manifest.files.map((f) => [f.originalPath, f.mode === undefined ? undefined : octal(f.mode)]));
    assert.equal(modes[SETTINGS], '600');
    assert.equal(modes['data/dev/market_data.sqlite3'], octal(permissions(path.join(root, 'data/dev/market_data.sqlite3'))));
    // A verify rebuilds into a private folder too.
    seen.clear();
    assert.equal((await verifyBackup(watchingFolders(context, root, seen), backup.entry.id)).ok, true);
    assert.ok([...seen.keys()].some((folder) => path.basename(folder).startsWith('.verify.')), [...seen.keys()].join(', '));
    for (const [folder, mode] of seen) assert.equal(octal(mode), '700', folder);
    // Readable by the group and others when every file in it is.
    fs.chmodSync(path.join(root, SETTINGS), 0o644);
    const open = await createBackup(context, { profileId: DEV, kind: 'full' });
    assert.equal(octal(permissions(open.archive)), octal(0o644 & permissions(path.join(root, 'data/dev/strategies.sqlite3'))));
  });

  it('a restore keeps the permissions of the file it replaces; a new file takes those it was backed up with; a clone those of its source', async () => {
    const { root, context } = await demoWorkspace();
    const settings = path.join(root, SETTINGS);
    fs.chmodSync(settings, 0o600);
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    fs.chmodSync(settings, 0o640);
    await restoreBackup(context, { reference: backup.entry.id });
    assert.equal(octal(permissions(settings)), '640', 'the current file\'s permissions win');
    await restoreBackup(context, { reference: backup.entry.id, asNew: 'restored_private' });
    assert.equal(octal(permissions(path.join(root, 'data/restored_private/settings.sqlite3'))), '600', 'as backed up');
    fs.chmodSync(settings, 0o600);
    await cloneProfile(context, { source: DEV, id: 'cloned_private' });
    assert.equal(octal(permissions(path.join(root, 'data/cloned_private/settings.sqlite3'))), '600');
  });

  it('a record with no permission bits (0) restores a database its owner can read and write, and a file its owner can read (before: mode 0, which only root could open)', async () => {
    const { root, context } = await demoWorkspace();
    const profileFile = path.join(root, '.envprofiles/profiles', `${DEV}.yaml`);
    fs.appendFileSync(profileFile, '  files:\n    - config/app.ini\n');
    fs.mkdirSync(path.join(root, 'config'));
    fs.writeFileSync(path.join(root, 'config/app.ini'), 'mode = live\n');
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    const crafted = craftArchive(path.join(root, '.envprofiles/backups', DEV, `${backup.entry.id}.zip`), 'modes-zero');
    const umask = process.umask();
    const created = (bits: number): string => octal(bits & ~umask);
    await restoreBackup(context, { reference: crafted, asNew: 'from_modes_zero' });
    for (const name of ['settings', 'strategies', 'market_data']) assert.equal(octal(permissions(path.join(root, `data/from_modes_zero/${name}.sqlite3`))), created(0o600), name);
    // Over the profile, a file that is gone is created anew from its record.
    fs.rmSync(path.join(root, 'config/app.ini'));
    await restoreBackup(context, { reference: crafted });
    assert.equal(fs.readFileSync(path.join(root, 'config/app.ini'), 'utf8'), 'mode = live\n');
    assert.equal(octal(permissions(path.join(root, 'config/app.ini'))), created(0o400));
  });

  it('an archive whose manifest gives a file more than permission bits (setuid) is refused', () => {
    const manifest = (mode: number) => JSON.stringify({ format: 'envprofiles-backup', formatVersion: 2, backupId: 'xyz.20260101T000000-000Z.full', profileId: 'xyz', kind: 'full', parent: null, chain: [], createdAt: '2026-01-01T00:00:00.000Z', reason: 'manual', files: [{ role: 'profile', originalPath: '.envprofiles/profiles/xyz.yaml', size: 1, sha256: 'a'.repeat(64), entry: 'profile/xyz.yaml', mode }] });
    assert.equal(parseManifest(manifest(0o644), 'x.zip').files[0].mode, 0o644);
    assert.throws(() => parseManifest(manifest(0o4755), 'x.zip'), (e: unknown) => e instanceof EnvProfilesError && e.code === 'ARCHIVE_INVALID' && /permissions that are not permission bits/.test(e.message));
  });
});

describe('a file replaced keeps its owner and permissions', () => {
  it('a switch keeps a private (0600) env file private (before: every switch made it 0644, readable by all)', async () => {
    const { root } = await demoWorkspace();
    const envFile = path.join(root, '.env');
    assert.equal(runCli(['switch', DEV, '--workspace', root]).status, 0);
    fs.chmodSync(envFile, 0o600);
    for (const id of ['test_environment_001', DEV]) {
      const switched = runCli(['switch', id, '--workspace', root]);
      assert.equal(switched.status, 0, switched.stderr);
      assert.equal(octal(permissions(envFile)), '600');
    }
  });

  describe('run as root (sudo) on the files of a service\'s user', function () {
    before(needsRoot('giving files to another owner'));
    const NOBODY = 65534;
    const ownerOf = (file: string): string => `${fs.statSync(file).uid}:${fs.statSync(file).gid}`;

    it('a restore gives each database and file back to its owner, and a switch its env file (before: all became root\'s, and the service could no longer write its database)', async () => {
      const { root, context } = await demoWorkspace();
      fs.writeFileSync(path.join(root, 'app.ini'), 'mode = sandbox\n');
      listFilesInProfile(root, DEV, ['app.ini']);
      const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
      assert.equal(runCli(['switch', 'test_environment_001', '--workspace', root]).status, 0);
      const owned = [...fs.readdirSync(path.join(root, 'data/dev')).map((name) => path.join(root, 'data/dev', name)), path.join(root, 'app.ini'), path.join(root, '.env')];
      for (const file of owned) fs.chownSync(file, NOBODY, NOBODY);
      const restored = runCli(['restore', backup.entry.id, '--workspace', root]);
      assert.equal(restored.status, 0, restored.stderr);
      for (const file of [path.join(root, SETTINGS), path.join(root, 'data/dev/market_data.sqlite3'), path.join(root, 'app.ini')]) assert.equal(ownerOf(file), `${NOBODY}:${NOBODY}`, file);
      const switched = runCli(['switch', DEV, '--workspace', root]);
      assert.equal(switched.status, 0, switched.stderr);
      assert.equal(ownerOf(path.join(root, '.env')), `${NOBODY}:${NOBODY}`);
    });

    it('a database marked immutable (chattr +i) stops the restore, which is rolled back; the hint says how to see and clear the mark (before: "check the owner and permissions", which root passes)', async () => {
      const { root, context } = await demoWorkspace();
      const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
      const strategies = path.join(root, 'data/dev/strategies.sqlite3');
      const before = fs.readFileSync(path.join(root, SETTINGS));
      execFileSync('chattr', ['+i', strategies]);
      try {
        const refused = runCli(['restore', backup.entry.id, '--workspace', root]);
        assert.equal(refused.status, 1, refused.stderr);
        assert.match(refused.stderr, /^error\[PERMISSION_DENIED\]: Permission denied for .*strategies\.sqlite3: EPERM.* The restore was rolled back: every file is as it was\./);
        assert.match(refused.stderr, /\n {2}Check the owner and permissions of that file and its folder \(run as root, this means the file or its folder is marked immutable or append-only: "lsattr" shows it, "chattr -i" clears it\), then run it again\.\n$/);
        assert.ok(fs.readFileSync(path.join(root, SETTINGS)).equals(before), 'settings is as it was');
      } finally {
        execFileSync('chattr', ['-i', strategies]);
      }
      assert.equal(runCli(['restore', backup.entry.id, '--workspace', root]).status, 0);
    });

    it('a database marked immutable stops a delete with its data before anything is gone: every file is put back and the delete can run again (before: the profile file and the databases before it were removed, the error said "run it again", and the rest of the data was left with no profile to delete)', async () => {
      const { root } = await demoWorkspace();
      const backedUp = runCli(['backup', DEV, '--full', '--verify', '--workspace', root]);
      assert.equal(backedUp.status, 0, backedUp.stderr);
      const folder = path.join(root, 'data/dev');
      const strategies = path.join(folder, 'strategies.sqlite3');
      const listing = (): string[] => fs.readdirSync(folder).filter((name) => fs.statSync(path.join(folder, name)).size > 0).map((name) => `${name} ${fs.readFileSync(path.join(folder, name)).toString('base64').length}`).sort();
      const before = listing();
      execFileSync('chattr', ['+i', strategies]);
      try {
        const refused = runCli(['delete', DEV, '--delete-data', '--workspace', root]);
        assert.equal(refused.status, 1, refused.stderr);
        assert.match(refused.stderr, /^error\[PERMISSION_DENIED\]: Deleting dev_environment_001 with its data stopped: \S+\/data\/dev\/strategies\.sqlite3 could not be moved aside to be deleted \(Permission denied for .*EPERM.*\)\. Every file was put back: the profile and all its data are as they were\.\n/);
        assert.match(refused.stderr, /"chattr -i" clears it\), then run it again\.\n$/);
        assert.deepEqual(listing(), before);
        assert.ok(fs.existsSync(path.join(root, '.envprofiles/profiles', `${DEV}.yaml`)), 'the profile file is back');
        assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), []);
        const audit = fs.readFileSync(path.join(root, '.envprofiles/audit.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line)).at(-1);
        assert.deepEqual([audit.event, audit.outcome], ['delete', 'failed']);
      } finally {
        execFileSync('chattr', ['-i', strategies]);
      }
      const deleted = runCli(['delete', DEV, '--delete-data', '--workspace', root]);
      assert.equal(deleted.status, 0, deleted.stderr);
      assert.ok(!fs.existsSync(folder), 'every file is gone, and so is the folder they left empty');
    });

    it('a database restored where there is none, and the folder made for it, take the owner of the folder they are made in (before: root\'s, and the service could not write there)', async () => {
      const { root, context } = await demoWorkspace();
      const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
      fs.rmSync(path.join(root, 'data/dev'), { recursive: true });
      fs.chownSync(path.join(root, 'data'), NOBODY, NOBODY);
      const restored = runCli(['restore', backup.entry.id, '--workspace', root]);
      assert.equal(restored.status, 0, restored.stderr);
      assert.equal(ownerOf(path.join(root, 'data/dev')), `${NOBODY}:${NOBODY}`);
      assert.equal(ownerOf(path.join(root, SETTINGS)), `${NOBODY}:${NOBODY}`);
      const asNew = runCli(['restore', backup.entry.id, '--as-new', 'dev_for_service', '--workspace', root]);
      assert.equal(asNew.status, 0, asNew.stderr);
      assert.equal(ownerOf(path.join(root, 'data/dev_for_service')), `${NOBODY}:${NOBODY}`);
      assert.equal(ownerOf(path.join(root, 'data/dev_for_service/settings.sqlite3')), `${NOBODY}:${NOBODY}`);
      // In a folder of this user's, a new file is this user's.
      fs.rmSync(path.join(root, 'data/dev'), { recursive: true });
      fs.chownSync(path.join(root, 'data'), 0, 0);
      assert.equal(runCli(['restore', backup.entry.id, '--workspace', root]).status, 0);
      assert.equal(ownerOf(path.join(root, SETTINGS)), '0:0');
    });
  });
});
