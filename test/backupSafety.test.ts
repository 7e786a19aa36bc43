import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createBackup } from '../src/core/backup/backupCreation';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { EnvProfilesError } from '../src/core/errors';
import { runCli } from './support/cliRunner';
import { demoWorkspace, engine, listFilesInProfile, snapshotTree, tempDir, temporaryFiles, assertSameTree } from './support/workspaces';
import { craftArchive } from './support/testHelpers';
import { killAtEveryStep, killAtRandomMoments, startHeld, stepsOf } from './support/steppedRuns';

const DEV = 'dev_environment_001';
const KILLS = Number(process.env.ENVPROFILES_KILL_RUNS ?? 24);


const ignoreSqliteCompanions = (rel: string): boolean => rel.endsWith('-shm') || rel.endsWith('-wal') || rel.includes('.envprofiles/backups');

describe('hostile archives are refused before anything is written', () => {
  const cases: [string, RegExp][] = [
    ['dotdot', /entry "\.\.\/escape\.txt" climbs out with "\.\."/],
    ['folder-entry', /entry "extra\/" has a name that is not a plain relative file path/],
    ['dot-segment', /entry "\.\/x\.txt" has a name that is not a plain relative file path/],
    ['absolute', /entry "\/tmp\/envprofiles-absolute\.txt" has an absolute path/],
    ['drive', /entry "C:\/envprofiles-drive\.txt" has a drive letter/],
    ['symlink', /entry "files\/link" is a symbolic link/],
    ['duplicate', /entry "db\/settings\.sqlite3" appears twice/],
    ['unlisted', /entry "extra\.txt" is not listed in the manifest/],
    ['size-lie', /entry "db\/settings\.sqlite3" is \d+ bytes but the manifest says \d+/],
    ['bomb', /entry "db\/settings\.sqlite3" claims a compression ratio of \d+:1 \(a zip bomb\)/],
    ['many-entries', /\.zip has 100,0\d\d entries, more than any backup holds \(at most 100,000\); the archive was refused/],
    ['segments-lie', /entry "db\/settings\.sqlite3" is \d+ compressed bytes but its pieces in the manifest add up to \d+/],
    ['image-size-claim', /entry "db\/settings\.sqlite3" is a whole image of \d+ bytes, but the manifest says the database is \d+/],
    ['file-escape', /the backup would write a file at \.\.\/escape-file\.txt: "\.\.\/escape-file\.txt" points outside the workspace folder/],
    // Before: verify found it sound, and only restore refused it.
    ['file-into-store', /manifest\.json gives a file the path \.envprofiles\/config\.yaml, inside \.envprofiles, where only the profile file is backed up from; the archive was refused/],
    ['profile-escape', /manifest\.json has a profile id that is not a safe name: "\.\.\/\.\.\/escape" contains a path separator/],
    ['name-escape', /manifest\.json names a database "\.\.\/escape", which is not a database name/],
    // Before: verify failed on its staging file's name (IO_ERROR), restore --as-new on the profile it wrote.
    ['name-too-long', /manifest\.json names a database "a{79}, which is not a database name/],
    // Before: restore --as-new failed on the profile it wrote, naming that file (never written).
    ['db-file-name-too-long', /manifest\.json gives database settings the path "data\/dev\/a{70}, which does not end in a file name \(of at most 255 bytes\)/],
    ['control-path', /manifest\.json gives database settings the path "data\/dev\/\\u001b\[2Jsettings\.sqlite3" \(in JSON notation\), which holds a control character/],
  ];
  for (const [mode, message] of cases) {
    it(`${mode}`, async () => {
      const { root, context } = await demoWorkspace();
      const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
      const hostile = craftArchive(backup.archive, mode);
      const before = snapshotTree(root, ignoreSqliteCompanions);
      await assert.rejects(restoreBackup(context, { reference: hostile }), (error: unknown) => {
        assert.ok(error instanceof EnvProfilesError, String(error));
        assert.equal(error.code, 'ARCHIVE_HOSTILE', error.message);
        assert.equal(error.kind, 'refused');
        assert.match(error.message, message);
        assert.ok(error.message.includes(hostile), 'names the archive');
        return true;
      });
      await assert.rejects(restoreBackup(context, { reference: hostile, asNew: 'from_hostile' }), (e: unknown) => e instanceof EnvProfilesError && e.code === 'ARCHIVE_HOSTILE');
      assertSameTree(snapshotTree(root, ignoreSqliteCompanions), before, 'nothing may be written');
      assert.ok(!fs.existsSync(path.join(os.tmpdir(), 'envprofiles-absolute.txt')));
      assert.ok(!fs.existsSync(path.join(path.dirname(hostile), '..', 'escape.txt')));
      assert.ok(!fs.existsSync(path.join(root, '..', 'escape-file.txt')));
      const cli = runCli(['restore', hostile, '--workspace', root]);
      assert.equal(cli.status, 3, cli.stderr);
      assert.match(cli.stderr, /error\[ARCHIVE_HOSTILE\]/);
      // verify names it by its id when its manifest was read, else by its path (before: "crafted-dotdot FAILED verification").
      // A file that would be written outside the workspace is the restore's refusal: the archive itself is sound.
      if (mode === 'file-escape') return;
      const verified = runCli(['verify', hostile, '--workspace', root]);
      assert.equal(verified.status, 1, verified.stderr);
      assert.ok(verified.stdout.startsWith(`${/manifest\.json/.test(message.source) ? backup.entry.id : hostile} FAILED verification:\n`), verified.stdout);
    });
  }
});

describe('a manifest with a field of the wrong kind (damaged, or made by hand)', () => {
  const cases: [string, RegExp][] = [
    ['created-not-time', /manifest\.json has a createdAt that is not a time \(null\)\./],
    ['created-date-only', /manifest\.json has a createdAt that is not a time \("2026-12-03"\)\./],
    ['reason-object', /manifest\.json has a reason that is not text \(\{\}\)\./],
    ['pages-stored-negative', /manifest\.json has a count of stored pages for settings that is not a count \(-1\)\./],
    ['user-version-object', /manifest\.json has a user_version for settings that is not a 32-bit integer \(\{"v":3\}\)\./],
    ['journal-mode-unknown', /manifest\.json has a journal mode for settings that is neither "wal" nor "delete" \("memory"\)\./],
    ['format-version-object', /manifest\.json has format version \{"major":2\}; this tool reads versions 1, 2 and 3\./],
    ['page-index-sha-missing', /manifest\.json has a record for database settings without its page index or the page index's SHA-256\./],
    ['entry-empty', /manifest\.json has a record for \.envprofiles\/profiles\/dev_environment_001\.yaml whose entry is neither a name nor null \(""\)\./],
    // Before: verified as four databases, and restored twice as a new profile.
    ['database-twice', /manifest\.json lists the database settings twice\./],
    // Before: verified as sound; a restore refused it only on its targets, as "reached through a symbolic link".
    ['file-twice', /manifest\.json lists the file \.envprofiles\/profiles\/dev_environment_001\.yaml twice\./],
    ['profile-twice', /manifest\.json lists more than one profile file \(the second is \.envprofiles\/profiles\/other_profile\.yaml\)\./],
    ['left-out-and-backed-up', /manifest\.json lists the database settings both as backed up and as left out\./],
    // Before: "is not JSON (Unexpected token '\ufeff', ...)", the character it named invisible.
    ['manifest-bom', /manifest\.json begins with a byte order mark \(U\+FEFF\), which JSON does not allow \(an editor that saves "UTF-8 with BOM" writes one\)\./],
    // Before: found sound by verify, then refused by restore (on the empty path; over another profile).
    ['profile-path-empty', /manifest\.json has a record for a file \("profile"\) whose path is empty\./],
    ['profile-id-lie', /manifest\.json says it is a backup of DEV_ENVIRONMENT_001, but names the backup dev_environment_001\.\d{8}T\d{6}-\d{3}Z\.full, which is not one of its\./],
    ['database-same-variable', /manifest\.json lists the databases settings and SETTINGS, which a profile cannot both have \(both would be ENVPROFILE_DB_SETTINGS\)\./],
  ];
  for (const [mode, message] of cases) {
    it(`${mode}: verify, restore and a catalog rebuild call it damaged and name the field (before, a restore of a createdAt that is not a time failed as "a bug")`, async () => {
      const { root, context } = await demoWorkspace();
      const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
      const damaged = craftArchive(backup.archive, mode);
      const before = snapshotTree(root, ignoreSqliteCompanions);
      for (const args of [['restore', damaged, '--as-new', 'from_damaged'], ['restore', damaged, '--as-new', 'from_damaged', '--dry-run'], ['verify', damaged]]) {
        const run = runCli([...args, '--workspace', root]);
        assert.equal(run.status, 1, `${args.join(' ')}: ${run.stderr}`);
        assert.match(`${run.stdout}${run.stderr}`, message, args.join(' '));
        assert.doesNotMatch(run.stderr, /a bug|INTERNAL/);
      }
      assertSameTree(snapshotTree(root, ignoreSqliteCompanions), before, 'nothing may be written');
      // In the backups folder under its own name, a rebuild skips it rather than listing what it says.
      fs.renameSync(damaged, backup.archive);
      const rebuilt = runCli(['backups', DEV, '--rebuild-catalog', '--dry-run', '--workspace', root]);
      assert.equal(rebuilt.status, 0, rebuilt.stderr);
      assert.match(rebuilt.stdout, new RegExp(`skipped ${backup.entry.id.replace(/\./g, '\\.')}\\.zip: \\S+: ${message.source}`));
    });
  }
});

describe('a backup\'s copy of the profile file that no edit can make into a new profile\'s (damaged, or made by hand)', () => {
  const cases: [string, RegExp][] = [
    ['profile-copy-not-yaml', /is not valid YAML \(line \d+, column \d+: Nested mappings are not allowed in compact mappings\)/],
    ['profile-copy-key-twice', /is not valid YAML \(line \d+, column \d+: the key "\w+" is written a second time here, in the same mapping; keep one of the two \(YAML keys must be unique\)\)/],
    ['profile-copy-list', /has no "profile:" mapping written out in it/],
    ['profile-copy-alias', /has no "profile:" mapping written out in it/],
    ['profile-copy-databases-list', /has a "databases:" that is not a mapping written out in it/],
  ];
  for (const [mode, why] of cases) {
    it(`${mode}: restore --as-new makes the new profile from the manifest and says why (before: INTERNAL, "a bug")`, async () => {
      const { root, context } = await demoWorkspace();
      const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
      const crafted = craftArchive(backup.archive, mode);
      const planned = runCli(['restore', crafted, '--as-new', 'from_copy', '--dry-run', '--workspace', root, '--json']);
      assert.equal(planned.status, 0, planned.stderr);
      const restored = runCli(['restore', crafted, '--as-new', 'from_copy', '--workspace', root, '--json']);
      assert.equal(restored.status, 0, restored.stderr);
      for (const [run, made] of [[planned, 'would be'], [restored, 'was']] as const) {
        const note = (run.json?.result.notes as string[]).find((n) => n.startsWith('the backup\'s copy of the profile file'));
        assert.match(note ?? '', new RegExp(`^the backup's copy of the profile file ${why.source}, so from_copy ${made} made from the backup's manifest: its databases, type BACKUP, no configuration$`));
      }
      const validated = runCli(['validate', 'from_copy', '--workspace', root]);
      assert.equal(validated.status, 0, validated.stderr);
      const profile = fs.readFileSync(path.join(root, '.envprofiles/profiles/from_copy.yaml'), 'utf8');
      assert.match(profile, /^ {2}type: BACKUP$/m);
      assert.match(profile, new RegExp(`^ {2}restored_from: ${backup.entry.id.replace(/\./g, '\\.')}$`, 'm'));
      // The databases are the backup's: the same bytes as those of the untouched archive restored as new.
      assert.equal(runCli(['restore', backup.entry.id, '--as-new', 'from_original', '--workspace', root]).status, 0);
      for (const name of ['settings', 'strategies', 'market_data']) {
        assert.ok(fs.readFileSync(path.join(root, `data/from_copy/${name}.sqlite3`)).equals(fs.readFileSync(path.join(root, `data/from_original/${name}.sqlite3`))), name);
      }
    });
  }
});

describe('a backup\'s copy of the profile file that does not say where the backup found its databases', () => {
  it('restored over a profile whose file is missing: the safety backup holds the files replaced, and the copy is not put back (before: it backed up the copy\'s settings_v2 as settings, and replaced settings without a copy)', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    const crafted = craftArchive(backup.archive, 'profile-copy-elsewhere');
    // Since the backup: settings changed, and a database is where the copy says settings is.
    const settings = (await engine()).open(path.join(root, 'data/dev/settings.sqlite3'), { readOnly: false });
    settings.exec("CREATE TABLE marker(x); INSERT INTO marker VALUES ('written after the backup')");
    settings.close();
    fs.copyFileSync(path.join(root, 'data/dev/strategies.sqlite3'), path.join(root, 'data/dev/settings_v2.sqlite3'));
    const profileFile = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    fs.rmSync(profileFile);
    const why = /^the backup's copy of the profile file does not agree with the backup's manifest \(it puts settings at data\/dev\/settings_v2\.sqlite3, where the backup found it at data\/dev\/settings\.sqlite3\), so it (would not be|was not) put back: the databases (would go|went) where the backup found them/;
    const planned = runCli(['restore', crafted, '--dry-run', '--workspace', root, '--json']);
    assert.equal(planned.status, 0, planned.stderr);
    assert.ok((planned.json?.result.notes as string[]).some((n) => why.test(n)), planned.stdout);
    assert.deepEqual((planned.json?.result.plan.writes as { path: string }[]).map((w) => w.path), ['data/dev/settings.sqlite3', 'data/dev/strategies.sqlite3', 'data/dev/market_data.sqlite3'], 'no profile file');
    const restored = runCli(['restore', crafted, '--workspace', root, '--json']);
    assert.equal(restored.status, 0, restored.stderr);
    assert.ok((restored.json?.result.notes as string[]).some((n) => why.test(n)), restored.stdout);
    assert.equal(fs.existsSync(profileFile), false, 'the copy was not put back');
    // What was replaced is in the safety backup, under the path it was at.
    const safety = restored.json?.result.safetyBackup as string;
    assert.equal(runCli(['restore', safety, '--as-new', 'before_restore', '--workspace', root]).status, 0);
    const before = (await engine()).open(path.join(root, 'data/before_restore/settings.sqlite3'), { readOnly: true });
    try {
      assert.deepEqual(before.all('SELECT x FROM marker').map((row) => row.x), ['written after the backup']);
    } finally {
      before.close();
    }
  });
});

describe('a folder where a restored file goes', () => {
  it('is refused before anything is written, also in a dry run (before: moved aside, then its removal failed as "a bug")', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    const target = path.join(root, 'data/dev/settings.sqlite3');
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${target}${suffix}`, { force: true });
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'notes.txt'), 'the user\'s');
    const before = snapshotTree(root, ignoreSqliteCompanions);
    for (const extra of [[], ['--dry-run'], ['--db', 'settings']]) {
      const refused = runCli(['restore', backup.entry.id, ...extra, '--workspace', root]);
      assert.equal(refused.status, 3, refused.stderr);
      assert.equal(refused.stderr, `error[TARGET_EXISTS]: data/dev/settings.sqlite3, where settings of backup ${backup.entry.id} would be restored, is a folder, not a file; nothing was changed.\n  Move it away (or give settings another path in the profile), then restore again.\n`);
    }
    assertSameTree(snapshotTree(root, ignoreSqliteCompanions), before, 'nothing may be written');
  });

  it('moved aside by an earlier version\'s committed restore, is kept beside its target by the next command, which then works (before: every command failed on it)', async () => {
    const { root } = await demoWorkspace();
    const target = path.join(root, 'data/dev/settings.sqlite3');
    const aside = path.join(root, 'data/dev/.settings.sqlite3.envprofiles-tmp-99999-0000');
    fs.mkdirSync(aside);
    fs.writeFileSync(path.join(aside, 'notes.txt'), 'the user\'s');
    const journal = { operation: 'restore', phase: 'committed', startedAt: new Date().toISOString(), profileId: DEV, backupId: `${DEV}.20260101T000000-000Z.full`, stagingDir: path.join(root, `.envprofiles/backups/${DEV}/.restore.envprofiles-tmp-99999-0000`), swaps: [{ target, incoming: path.join(root, 'data/dev/.settings.sqlite3.envprofiles-tmp-99999-0001'), keptOld: [{ path: aside, from: target }] }] };
    fs.mkdirSync(path.join(root, '.envprofiles/journal'), { recursive: true });
    fs.writeFileSync(path.join(root, `.envprofiles/journal/restore-${DEV}.json`), JSON.stringify(journal));
    const listed = runCli(['list', '--workspace', root]);
    assert.equal(listed.status, 0, listed.stderr);
    const kept = fs.readdirSync(path.join(root, 'data/dev')).filter((name) => name.startsWith('settings.sqlite3.before-restore-folder-'));
    assert.equal(kept.length, 1);
    assert.equal(fs.readFileSync(path.join(root, 'data/dev', kept[0], 'notes.txt'), 'utf8'), 'the user\'s');
    assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), []);
  });
});

describe('file names near the file system\'s 255-byte limit', () => {
  // 80 Korean syllables: 240 bytes, a name the file system takes but ".<name>.envprofiles-tmp-…" exceeded.
  const LONG = `${'설정'.repeat(40)}.sqlite3`;
  const namesIn = (dir: string): string[] => fs.readdirSync(dir);

  async function longNamedWorkspace(): Promise<{ root: string; context: Awaited<ReturnType<typeof demoWorkspace>>['context']; file: string }> {
    const { root, context } = await demoWorkspace();
    const file = path.join(root, 'data/dev', LONG);
    fs.renameSync(path.join(root, 'data/dev/settings.sqlite3'), file);
    for (const suffix of ['-wal', '-shm']) fs.rmSync(path.join(root, `data/dev/settings.sqlite3${suffix}`), { force: true });
    const profileFile = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    fs.writeFileSync(profileFile, fs.readFileSync(profileFile, 'utf8').replace('data/dev/settings.sqlite3', `data/dev/${LONG}`));
    return { root, context, file };
  }

  it('a database with a 240-byte file name is restored (before: its temporary name was too long, and the journal left behind failed every command)', async () => {
    const { root, context, file } = await longNamedWorkspace();
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    const tables = async (): Promise<string> => {
      const db = (await engine()).open(file, { readOnly: true });
      try {
        return JSON.stringify(db.all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"));
      } finally {
        db.close();
      }
    };
    const backedUp = await tables();
    const db = (await engine()).open(file, { readOnly: false });
    db.exec('CREATE TABLE after_backup (x)');
    db.close();
    assert.notEqual(await tables(), backedUp);
    const restored = runCli(['restore', backup.entry.id, '--workspace', root]);
    assert.equal(restored.status, 0, restored.stderr);
    assert.equal(await tables(), backedUp, 'the database is the backup\'s again');
    assert.deepEqual(temporaryFiles(root), []);
    assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), []);
  });

  it('a damaged database with a 240-byte file name is kept beside it under a name that fits', async () => {
    const { root, context, file } = await longNamedWorkspace();
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    fs.writeFileSync(file, 'not a database any more');
    const restored = runCli(['restore', backup.entry.id, '--workspace', root]);
    assert.equal(restored.status, 0, restored.stderr);
    const kept = namesIn(path.join(root, 'data/dev')).filter((name) => name.includes('.before-restore-') && !/-(wal|shm)$/.test(name));
    assert.equal(kept.length, 1, kept.join(', '));
    assert.ok(Buffer.byteLength(kept[0]) <= 255 - '-journal'.length, `${Buffer.byteLength(kept[0])} bytes`);
    assert.ok(kept[0].startsWith('설정설정'), kept[0]);
    assert.equal(fs.readFileSync(path.join(root, 'data/dev', kept[0]), 'utf8'), 'not a database any more');
    assert.ok(restored.stdout.includes(kept[0]), 'the note names the kept file');
  });

  it('a restore journal of an earlier version naming a temporary file too long to exist is rolled back by the next command (before: every command failed on it)', async () => {
    const { root, file } = await longNamedWorkspace();
    const before = fs.readFileSync(file);
    const tooLong = path.join(root, 'data/dev', `.${LONG}.envprofiles-tmp-99999-0000abcd`);
    const journal = { operation: 'restore', phase: 'prepared', startedAt: new Date().toISOString(), profileId: DEV, backupId: `${DEV}.20260101T000000-000Z.full`, stagingDir: path.join(root, `.envprofiles/backups/${DEV}/.restore.envprofiles-tmp-99999-0000`), swaps: [{ target: file, incoming: tooLong, keptOld: [{ path: `${tooLong}-kept`, from: file }] }] };
    fs.mkdirSync(path.join(root, '.envprofiles/journal'), { recursive: true });
    fs.writeFileSync(path.join(root, `.envprofiles/journal/restore-${DEV}.json`), JSON.stringify(journal));
    const listed = runCli(['list', '--workspace', root]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stderr, /rolled back the interrupted restore/);
    assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), []);
    assert.ok(fs.readFileSync(file).equals(before));
  });

  it('a database name longer than 64 characters is refused by validation (before: every backup failed on its snapshot\'s name)', async () => {
    const { root } = await demoWorkspace();
    const profileFile = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    fs.writeFileSync(profileFile, fs.readFileSync(profileFile, 'utf8').replace('    settings: ', `    ${'s'.repeat(65)}: `));
    const refused = runCli(['backup', DEV, '--workspace', root]);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /error\[PROFILE_INVALID\]: .*profile\.databases\.s{65}: "s{20}…" is 65 characters long: a database name may have at most 64\n/);
  });
});

describe('a path of the backup that a symbolic link in the workspace now leads outside', () => {
  it('is refused naming the link, not the archive, before anything is written (before: ARCHIVE_HOSTILE, "do not use this archive"); --as-new, which does not write there, restores', async () => {
    const { root, context } = await demoWorkspace();
    const profileFile = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    fs.writeFileSync(path.join(root, 'app.ini'), 'mode = sandbox\n');
    listFilesInProfile(root, DEV, ['app.ini']);
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    const outside = path.join(tempDir('envprofiles-outside-'), 'app.ini');
    fs.writeFileSync(outside, 'not the workspace\'s\n');
    fs.rmSync(path.join(root, 'app.ini'));
    fs.symlinkSync(outside, path.join(root, 'app.ini'));
    // With the profile file, its own validation names the link.
    const withProfile = runCli(['restore', backup.entry.id, '--workspace', root]);
    assert.equal(withProfile.status, 1, withProfile.stderr);
    assert.match(withProfile.stderr, /^error\[PROFILE_INVALID\]: .*profile\.files\.0: "app\.ini" leads outside the workspace folder through a symbolic link/);
    // Without it, the restore goes by the backup's paths, and says the link is at fault.
    fs.rmSync(profileFile);
    const before = snapshotTree(root, ignoreSqliteCompanions);
    const refused = runCli(['restore', backup.entry.id, '--workspace', root]);
    assert.equal(refused.status, 3, refused.stderr);
    assert.equal(refused.stderr, `error[TARGET_EXISTS]: app.ini, where a file of backup ${backup.entry.id} would be restored, leads outside the workspace folder through a symbolic link (to ${outside}); nothing was changed.\n  The backup is not at fault: a symbolic link in the workspace leads elsewhere. Remove or correct that link, then restore again.\n`);
    assertSameTree(snapshotTree(root, ignoreSqliteCompanions), before, 'nothing may be written');
    assert.equal(fs.readFileSync(outside, 'utf8'), 'not the workspace\'s\n');
    const asNew = runCli(['restore', backup.entry.id, '--as-new', 'dev_again', '--workspace', root]);
    assert.equal(asNew.status, 0, asNew.stderr);
    assert.equal(fs.readFileSync(outside, 'utf8'), 'not the workspace\'s\n');
  });
});

describe('one file under two names', () => {
  it('a restore by the backup\'s own paths that would write one file twice (two databases, one through a folder link) is refused before anything is written (before: replaced twice, and the rollback lost the data)', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    const aliased = craftArchive(backup.archive, 'db-alias');
    fs.symlinkSync('dev', path.join(root, 'data/devlink'));
    // Without its profile file, a restore goes by the backup's paths.
    fs.rmSync(path.join(root, `.envprofiles/profiles/${DEV}.yaml`));
    const before = snapshotTree(root, ignoreSqliteCompanions);
    const refused = runCli(['restore', aliased, '--workspace', root]);
    assert.equal(refused.status, 3, refused.stderr);
    assert.match(refused.stderr, /^error\[TARGET_EXISTS\]: settings and strategies of backup \S+ would both be restored to data\/dev\/settings\.sqlite3 \(one file, reached through a symbolic link\); nothing was changed\.\n {2}Restore the backup as a new profile instead/);
    assertSameTree(snapshotTree(root, ignoreSqliteCompanions), before, 'nothing may be written');
    const asNew = runCli(['restore', aliased, '--as-new', 'dev_apart', '--workspace', root]);
    assert.equal(asNew.status, 0, asNew.stderr);
  });
});

describe('text from an archive reaches the terminal with its control characters escaped', () => {
  it('a manifest whose reason holds escape sequences: listed after a catalog rebuild, printed as \\x1b, never as the raw byte', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    const crafted = craftArchive(backup.archive, 'terminal-escape');
    fs.renameSync(crafted, backup.archive);
    assert.equal(runCli(['backups', DEV, '--rebuild-catalog', '--workspace', root]).status, 0);
    const listed = runCli(['backups', DEV, '--workspace', root]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.ok(!listed.stdout.includes('\x1b') && !listed.stdout.includes('\x07'), 'no raw control character');
    assert.match(listed.stdout, /manual\\x1b\]0;pwned\\x07\\x1b\[2J/);
  });

  it('a reason with a right-to-left override is printed as \\u202e (it made the rest of its line read backwards), and the columns after it stay in line; --reason refuses one', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    fs.renameSync(craftArchive(backup.archive, 'bidi-reason'), backup.archive);
    assert.equal(runCli(['backups', DEV, '--rebuild-catalog', '--workspace', root]).status, 0);
    // A second backup with a Korean reason: wide characters take two columns each.
    assert.equal(runCli(['backup', DEV, '--reason', '마이그레이션 전', '--workspace', root]).status, 0);
    const listed = runCli(['backups', DEV, '--workspace', root]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.ok(!listed.stdout.includes('\u202e'), 'no raw override');
    const rows = listed.stdout.split('\n').slice(0, 3);
    assert.match(rows[2], /manual\\u202e\)deifirev\( ko {2}no$/);
    // VERIFIED starts in the same terminal column on every row (a Hangul syllable takes two).
    const columns = (text: string): number => [...text].reduce((n, c) => n + (/[\uac00-\ud7a3]/.test(c) ? 2 : 1), 0);
    const column = (row: string): number => columns(row.slice(0, row.lastIndexOf(row.endsWith('VERIFIED') ? 'VERIFIED' : 'no')));
    assert.deepEqual(rows.map(column), [column(rows[0]), column(rows[0]), column(rows[0])], rows.join('\n'));
    const refused = runCli(['backup', DEV, '--reason', 'x\u202ey', '--workspace', root]);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /holds a character that reorders text \(a right-to-left override or isolate\)/);
  });
});

describe('an incremental that claims more pages than its chain holds', () => {
  it('is refused before a huge sparse file is made, and nothing is left', async () => {
    const { root, context } = await demoWorkspace();
    await createBackup(context, { profileId: DEV, kind: 'full' });
    const db = (await engine()).open(path.join(root, 'data/dev/market_data.sqlite3'), { readOnly: false });
    db.exec('UPDATE price_data SET close = close + 1');
    db.close();
    const incremental = await createBackup(context, { profileId: DEV, kind: 'incremental' });
    const hostile = craftArchive(incremental.archive, 'pages-size-claim');
    const before = snapshotTree(root, ignoreSqliteCompanions);
    await assert.rejects(restoreBackup(context, { reference: hostile, asNew: 'from_claim' }), (error: unknown) => error instanceof EnvProfilesError && error.code === 'VERIFY_FAILED' && /claims a database of \d+ bytes, but its chain holds at most \d+/.test(error.message));
    await assert.rejects(restoreBackup(context, { reference: hostile }), (error: unknown) => error instanceof EnvProfilesError && error.code === 'VERIFY_FAILED');
    // The refused restore over the profile took its safety backup first: everything else is as it was.
    const after = snapshotTree(root, ignoreSqliteCompanions);
    assert.deepEqual(Object.keys(after).filter((rel) => !(rel in before) && !rel.startsWith(`.envprofiles/backups/${DEV}/`)), []);
    assert.deepEqual(temporaryFiles(root), []);
  });
});

async function digest(file: string): Promise<string> {
  const db = (await engine()).open(file, { readOnly: true });
  try {
    return JSON.stringify(db.all('SELECT count(*) AS n, sum(close) AS s FROM price_data'));
  } finally {
    db.close();
  }
}

const dataTree = (root: string): Record<string, string> => snapshotTree(path.join(root, 'data'), (rel) => rel.endsWith('-shm') || rel.endsWith('-wal'));

/** After an interrupted backup and the next command: the data is untouched, the catalog and the archives agree, nothing is left over. Returns the listed ids. */
function assertBackupsSettled(root: string, dataBefore: Record<string, string>, context: string): string[] {
  const next = runCli(['backups', DEV, '--workspace', root, '--json']);
  assert.equal(next.status, 0, next.stderr);
  const listed: string[] = (next.json?.result.backups ?? []).map((b: { id: string }) => b.id).sort();
  const dir = path.join(root, '.envprofiles/backups', DEV);
  const onDisk = fs.readdirSync(dir).filter((f) => f.endsWith('.zip')).map((f) => f.slice(0, -4)).sort();
  assert.deepEqual(onDisk, listed, `${context}: archives and catalog agree`);
  assert.deepEqual(temporaryFiles(root), [], `${context}: leftovers`);
  assertSameTree(dataTree(root), dataBefore, `${context}: the data must not change`);
  return listed;
}

/** After an interrupted restore and the next command: market_data is one whole state, sound, and nothing is left over. Returns that state. */
async function assertRestoreSettled(root: string, file: string, context: string): Promise<string> {
  const next = runCli(['status', '--workspace', root, '--json']);
  assert.equal(next.status, 0, next.stderr);
  const check = (await engine()).open(file, { readOnly: true });
  assert.equal(check.all('PRAGMA integrity_check')[0].integrity_check, 'ok', context);
  check.close();
  assert.deepEqual(temporaryFiles(root), [], `${context}: leftovers`);
  assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), [], `${context}: journal left`);
  return digest(file);
}

async function changeMarketData(file: string, close: number): Promise<string> {
  const db = (await engine()).open(file, { readOnly: false });
  db.exec(`UPDATE price_data SET close = ${close} WHERE rowid % 3 = 0`);
  db.close();
  return digest(file);
}

/** A table of each of the profile's databases, and a change to it that `changeProfile` makes. */
const PROFILE_TABLES: [database: string, table: string, change: string][] = [
  ['settings', 'tv_trading_variables', "UPDATE tv_trading_variables SET value = 'v$'"],
  ['strategies', 'strategy_profiles', "UPDATE strategy_profiles SET description = 'd$'"],
  ['market_data', 'price_data', 'UPDATE price_data SET close = $ WHERE rowid % 3 = 0'],
];

/** Changes every database of the dev profile (so a restore that swapped only some of them shows). */
async function changeProfile(root: string, mark: number): Promise<void> {
  for (const [database, , change] of PROFILE_TABLES) {
    const db = (await engine()).open(path.join(root, `data/dev/${database}.sqlite3`), { readOnly: false });
    db.exec(change.replace('$', String(mark)));
    db.close();
  }
}

/** The rows of each changed table, all three databases together. */
async function profileState(root: string): Promise<string> {
  const rows: unknown[] = [];
  for (const [database, table] of PROFILE_TABLES) {
    const db = (await engine()).open(path.join(root, `data/dev/${database}.sqlite3`), { readOnly: true });
    rows.push(db.all(`SELECT * FROM ${table} ORDER BY rowid`));
    db.close();
  }
  return JSON.stringify(rows);
}

describe('kill -9 during backup and restore', function () {
  this.timeout(600_000);

  it('during backup, at every step: no partial archive is listed, the catalog is the commit point, the data is intact', async () => {
    const { root } = await demoWorkspace(3000);
    const dataBefore = dataTree(root);
    const args = ['backup', DEV, '--full', '--workspace', root];
    const steps = stepsOf(args);
    const committedAt = steps.indexOf('catalog-updated');
    assert.ok(committedAt > steps.indexOf('archive-written') && steps.indexOf('archive-written') > 0, `steps: ${steps.join(', ')}`);
    let listedBefore = assertBackupsSettled(root, dataBefore, 'after the undisturbed backup');
    await killAtEveryStep({
      steps,
      prepare: () => args,
      check: ({ index, context }) => {
        const listed = assertBackupsSettled(root, dataBefore, context);
        assert.equal(listed.length, listedBefore.length + (index >= committedAt ? 1 : 0), `${context}: ${index >= committedAt ? 'the backup is kept' : 'nothing is added'}`);
        listedBefore = listed;
      },
    });
    for (const id of listedBefore.slice(-2)) assert.equal(runCli(['verify', id, '--workspace', root]).status, 0, id);
  });

  it('killed once its archive is listed, then its catalog reads back as zeros: the next command keeps the whole archive (before: deleted, a listed backup lost), says to rebuild, and the rebuild lists it', async () => {
    const { root } = await demoWorkspace(3000);
    const held = startHeld(['backup', DEV, '--full', '--workspace', root], 'catalog-updated');
    process.kill(await held.reached, 'SIGKILL');
    assert.equal((await held.finished).signal, 'SIGKILL');
    const folder = path.join(root, '.envprofiles/backups', DEV);
    const [archive] = fs.readdirSync(folder).filter((name) => name.endsWith('.zip'));
    const id = archive.slice(0, -'.zip'.length);
    // What a failing disk (a FAT disk through fusefat, under load) gives back for the catalog that lists it.
    const catalog = path.join(folder, 'catalog.json');
    assert.ok(fs.readFileSync(catalog, 'utf8').includes(id), 'the backup had listed itself');
    fs.writeFileSync(catalog, Buffer.alloc(fs.statSync(catalog).size));
    const next = runCli(['status', '--workspace', root]);
    assert.equal(next.status, 0, next.stderr);
    assert.ok(fs.existsSync(path.join(folder, archive)), `the archive is kept: ${next.stderr}`);
    assert.match(next.stderr, new RegExp(`kept the archive ${id}\\.zip of an interrupted backup of ${DEV}, which is whole: its catalog \\S+ cannot be read to tell whether it lists it\\. Rebuild the catalog from the archives: envprofiles backups ${DEV} --rebuild-catalog`));
    assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), [], 'the journal was settled');
    const rebuild = runCli(['backups', DEV, '--rebuild-catalog', '--json', '--workspace', root]);
    assert.equal(rebuild.status, 0, rebuild.stderr);
    assert.equal(runCli(['verify', id, '--workspace', root]).status, 0, 'listed again, and sound');
  });

  it(`during backup, at random moments (${KILLS} runs): the data is intact, no partial archive is listed, leftovers are cleaned by the next command`, async () => {
    const { root } = await demoWorkspace(3000);
    const dataBefore = dataTree(root);
    await killAtRandomMoments({
      runs: KILLS,
      stepDelayMs: 15,
      undisturbed: ['backup', DEV, '--workspace', root],
      prepare: (run) => ['backup', DEV, '--workspace', root, ...(run % 3 === 0 ? ['--full'] : [])],
      check: ({ context }) => void assertBackupsSettled(root, dataBefore, context),
    });
    // Every listed backup is sound.
    for (const id of fs.readdirSync(path.join(root, '.envprofiles/backups', DEV)).filter((f) => f.endsWith('.zip')).map((f) => f.slice(0, -4)).slice(-3)) {
      assert.equal(runCli(['verify', id, '--workspace', root]).status, 0, id);
    }
  });

  it('during restore, at every step (its safety backup\'s too): the old state before the commit, the restored one after it', async () => {
    const { root, context } = await demoWorkspace(3000);
    const file = path.join(root, 'data/dev/market_data.sqlite3');
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    const restoredState = await digest(file);
    const args = ['restore', backup.entry.id, '--db', 'market_data', '--workspace', root];
    await changeMarketData(file, 999);
    const steps = stepsOf(args);
    const committedAt = steps.lastIndexOf('committed');
    assert.ok(steps.indexOf('catalog-updated') >= 0 && committedAt > steps.indexOf('catalog-updated'), `steps: ${steps.join(', ')}`);
    let changedState = '';
    await killAtEveryStep({
      steps,
      prepare: async (index) => {
        changedState = await changeMarketData(file, index + 1000);
        return args;
      },
      check: async ({ index, context }) => {
        const now = await assertRestoreSettled(root, file, context);
        assert.equal(now, index >= committedAt ? restoredState : changedState, `${context}: ${index >= committedAt ? 'the restored' : 'the old'} state expected`);
      },
    });
  });

  it('during a restore of the whole profile, at every step: all three databases old before the commit, all restored after it, never a mix', async () => {
    const { root, context } = await demoWorkspace(3000);
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    const restoredState = await profileState(root);
    const args = ['restore', backup.entry.id, '--workspace', root];
    await changeProfile(root, 999);
    const steps = stepsOf(args);
    const committedAt = steps.lastIndexOf('committed');
    assert.equal(steps.filter((step) => step.startsWith('swapped:')).length, 3, `steps: ${steps.join(', ')}`);
    let changedState = '';
    await killAtEveryStep({
      steps,
      prepare: async (index) => {
        await changeProfile(root, index + 1000);
        changedState = await profileState(root);
        return args;
      },
      check: async ({ index, context }) => {
        await assertRestoreSettled(root, path.join(root, 'data/dev/market_data.sqlite3'), context);
        assert.equal(await profileState(root), index >= committedAt ? restoredState : changedState, `${context}: ${index >= committedAt ? 'the restored' : 'the old'} state of every database expected`);
      },
    });
  });

  it(`during restore, at random moments (${KILLS} runs): each database is either the old or the new state, never a mix; the next command settles it`, async () => {
    const { root, context } = await demoWorkspace(3000);
    const file = path.join(root, 'data/dev/market_data.sqlite3');
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    const restoredState = await digest(file);
    const args = ['restore', backup.entry.id, '--db', 'market_data', '--workspace', root];
    let changedState = '';
    await killAtRandomMoments({
      runs: KILLS,
      stepDelayMs: 15,
      undisturbed: args,
      prepare: async (run) => {
        changedState = await changeMarketData(file, run + 1000);
        return args;
      },
      check: async ({ context }) => {
        const now = await assertRestoreSettled(root, file, context);
        assert.ok(now === restoredState || now === changedState, `${context}: market_data is neither the old nor the restored state`);
      },
    });
  });
});
