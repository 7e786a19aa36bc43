import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createBackup } from '../src/core/backup/backupCreation';
import { runCli } from './support/cliRunner';
import { demoWorkspace, snapshotTree, tempDir } from './support/workspaces';

const DEV = 'dev_environment_001';
const PROD = 'prod_environment_001';
/** What a command may touch without changing anything: the audit log, the lock, SQLite's own -wal/-shm. */
const unchanging = (rel: string): boolean => rel === '.envprofiles/lock' || /-(wal|shm)$/.test(rel);

/** A dry run's line on a backup that has not passed a verification; `reference` as the command line names it. */
const notVerifiedLine = (reference: string): string => `  note: this backup has not passed a verification, and a dry run reads only its manifest, not its data: the restore itself checks every entry (SHA-256) before anything is replaced; "envprofiles verify ${reference}" checks the whole backup now`;
/** The same line for an archive the catalog does not list (a copy), whose verification is not recorded. */
const unlistedLine = (reference: string): string => `  note: this archive is not one the catalog lists, so no verification of it is on record, and a dry run reads only its manifest, not its data: the restore itself checks every entry (SHA-256) before anything is replaced; "envprofiles verify ${reference}" checks the whole backup now (its result is shown, not recorded)`;

/** Replaces `from` with `to` in the development profile's file. */
function editDevProfile(root: string, from: string, to: string): void {
  const file = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(from, to));
}

describe('restore --dry-run', function () {
  this.timeout(60_000);

  it('lists every file the restore would write, the safety backup first and what it would say, and changes nothing; the restore then does and says just that', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    // A database added to the profile since: the backup has nothing for it.
    editDevProfile(root, '    market_data: "data/dev/market_data.sqlite3"\n', '    market_data: "data/dev/market_data.sqlite3"\n    journal: "data/dev/journal.sqlite3"\n');
    fs.copyFileSync(path.join(root, 'data/dev/settings.sqlite3'), path.join(root, 'data/dev/journal.sqlite3'));
    const before = snapshotTree(root, unchanging);

    const dry = runCli(['restore', backup.entry.id, '--dry-run', '--workspace', root, '--json']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.deepEqual(snapshotTree(root, unchanging), before, 'a dry run changes nothing, and takes no safety backup');
    const plan = dry.json?.result.plan;
    assert.deepEqual(plan.writes, ['settings', 'strategies', 'market_data'].map((name) => ({ kind: 'database', name, path: `data/dev/${name}.sqlite3`, exists: true })));
    assert.equal(plan.safetyBackupFirst, true);
    assert.deepEqual(plan.wouldRefuse, []);
    assert.equal(plan.confirmationNeeded, undefined);
    assert.deepEqual(dry.json?.result.notes, [
      'the profile file in the backup differs from the current one; the current one would be kept',
      'journal (data/dev/journal.sqlite3) is not in this backup (it was added to the profile later, or did not exist when the backup was taken); it would be left as it is',
    ]);
    assert.equal(plan.notVerified, true);
    assert.match(runCli(['restore', backup.entry.id, '--dry-run', '--workspace', root]).stdout, /^Dry run: restoring \S+ over dev_environment_001 would write:\n {2}first, a safety backup of dev_environment_001's current state, verified before anything is replaced\n {2}replace data\/dev\/settings\.sqlite3 \(settings\)\n[\s\S]*\nNothing was changed\.\n$/);

    const restored = runCli(['restore', backup.entry.id, '--workspace', root, '--json']);
    assert.equal(restored.status, 0, restored.stderr);
    assert.deepEqual(restored.json?.result.databases, ['settings', 'strategies', 'market_data']);
    assert.ok(restored.json?.result.safetyBackup);
    assert.deepEqual(restored.json?.result.notes, [
      'the profile file in the backup differs from the current one; the current one was kept',
      'journal (data/dev/journal.sqlite3) is not in this backup (it was added to the profile later, or did not exist when the backup was taken); it was left as it is',
    ]);
  });

  it('goes on past what would refuse the restore now (the application is live) and says it, with exit 3; a protected profile needs no confirmation for it, and is told it will', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: PROD, kind: 'full' });
    fs.writeFileSync(path.join(root, 'data/app.lock'), '');
    const before = snapshotTree(root, unchanging);
    const dry = runCli(['restore', backup.entry.id, '--db', 'settings', '--dry-run', '--workspace', root, '--json']);
    assert.equal(dry.status, 3, dry.stderr);
    assert.deepEqual(snapshotTree(root, unchanging), before);
    const plan = dry.json?.result.plan;
    assert.deepEqual(plan.writes, [{ kind: 'database', name: 'settings', path: 'data/prod/settings.sqlite3', exists: true }]);
    assert.equal(plan.confirmationNeeded, PROD);
    assert.equal(plan.wouldRefuse.length, 1);
    assert.match(plan.wouldRefuse[0], /^The application is live \(its lock file data\/app\.lock exists\), so restoring is refused\./);
    assert.match(runCli(['restore', backup.entry.id, '--dry-run', '--workspace', root]).stdout, /\n {2}prod_environment_001 is protected: the restore needs --confirm prod_environment_001 .*\n {2}it would be refused now: The application is live/);
    // The restore itself is refused as the dry run said.
    assert.equal(runCli(['restore', backup.entry.id, '--confirm', PROD, '--workspace', root]).status, 3);
  });

  it('a database the profile has moved since the backup: restored at its new path, the old file left as it is, and both say so', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    editDevProfile(root, 'market_data: "data/dev/market_data.sqlite3"', 'market_data: "data/dev/market_v2.sqlite3"');
    fs.renameSync(path.join(root, 'data/dev/market_data.sqlite3'), path.join(root, 'data/dev/market_v2.sqlite3'));
    fs.writeFileSync(path.join(root, 'data/dev/market_data.sqlite3'), 'another program\'s file now');
    const note = (verb: string, left: string): string => `market_data was at data/dev/market_data.sqlite3 when it was backed up; the profile now has it at data/dev/market_v2.sqlite3, so it ${verb} restored there (data/dev/market_data.sqlite3 ${left} left as it is)`;
    const dry = runCli(['restore', backup.entry.id, '--db', 'market_data', '--dry-run', '--workspace', root, '--json']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.deepEqual(dry.json?.result.plan.writes, [{ kind: 'database', name: 'market_data', path: 'data/dev/market_v2.sqlite3', exists: true }]);
    assert.deepEqual(dry.json?.result.notes, [note('would be', 'would be')]);
    const restored = runCli(['restore', backup.entry.id, '--db', 'market_data', '--workspace', root, '--json']);
    assert.equal(restored.status, 0, restored.stderr);
    assert.deepEqual(restored.json?.result.notes, [note('was', 'was')]);
    assert.equal(fs.readFileSync(path.join(root, 'data/dev/market_data.sqlite3'), 'utf8'), 'another program\'s file now');
    assert.equal(fs.readFileSync(path.join(root, 'data/dev/market_v2.sqlite3')).subarray(0, 15).toString(), 'SQLite format 3');
    // An unmoved database gets no such note.
    assert.ok(!runCli(['restore', backup.entry.id, '--db', 'settings', '--dry-run', '--workspace', root, '--json']).json?.result.notes.some((n: string) => n.includes('when it was backed up')));
  });

  it('names each file it would write by its part in the profile: a database by its name, a files: entry as such (before, by its own path twice)', async () => {
    const { root, context } = await demoWorkspace();
    fs.writeFileSync(path.join(root, 'app.ini'), 'a=1\n');
    fs.mkdirSync(path.join(root, 'conf'));
    fs.writeFileSync(path.join(root, 'conf/feed.ini'), 'b=1\n');
    editDevProfile(root, '  configurations:\n', '  files: [app.ini, ./conf/feed.ini]\n  configurations:\n');
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    fs.rmSync(path.join(root, 'conf/feed.ini'));
    const dry = runCli(['restore', backup.entry.id, '--dry-run', '--workspace', root, '--json']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.deepEqual(dry.json?.result.plan.writes.map((w: { kind: string; name: string; path: string; exists: boolean }) => `${w.kind}: ${w.name} ${w.path} ${w.exists}`), [
      'database: settings data/dev/settings.sqlite3 true',
      'database: strategies data/dev/strategies.sqlite3 true',
      'database: market_data data/dev/market_data.sqlite3 true',
      'file: app.ini app.ini true',
      'file: ./conf/feed.ini conf/feed.ini false',
    ]);
    const text = runCli(['restore', backup.entry.id, '--dry-run', '--workspace', root]).stdout.split('\n');
    assert.deepEqual(text.slice(2, 7), [
      '  replace data/dev/settings.sqlite3 (settings)',
      '  replace data/dev/strategies.sqlite3 (strategies)',
      '  replace data/dev/market_data.sqlite3 (market_data)',
      '  replace app.ini (in files:)',
      '  create  conf/feed.ini (./conf/feed.ini in files:)',
    ]);
  });

  it('--as-new: lists the databases and the profile file it would create, and creates none of them', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    const before = snapshotTree(root, unchanging);
    const dry = runCli(['restore', backup.entry.id, '--as-new', 'dev_copy', '--dry-run', '--workspace', root, '--json']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.deepEqual(snapshotTree(root, unchanging), before);
    assert.deepEqual(dry.json?.result.plan.writes.map((w: { path: string; exists: boolean }) => `${w.path} ${w.exists}`), [
      'data/dev_copy/settings.sqlite3 false', 'data/dev_copy/strategies.sqlite3 false', 'data/dev_copy/market_data.sqlite3 false', '.envprofiles/profiles/dev_copy.yaml false',
    ]);
    assert.deepEqual(dry.json?.result.notes, ['would restore as the new profile dev_copy']);
    assert.equal(dry.json?.result.plan.notVerified, true);
    assert.match(runCli(['restore', backup.entry.id, '--as-new', 'dev_copy', '--dry-run', '--workspace', root]).stdout, /\n {2}create {2}data\/dev_copy\/settings\.sqlite3 \(settings\)\n[\s\S]*\n {2}create {2}\.envprofiles\/profiles\/dev_copy\.yaml \(the profile file\)\n/);
    assert.equal(runCli(['restore', backup.entry.id, '--as-new', DEV, '--dry-run', '--workspace', root]).status, 3, 'an id that exists is still refused');
    // An id that cannot be a file name: a usage error that says what an id may be, with one that would do.
    const unsafe = runCli(['restore', backup.entry.id, '--as-new', '../outside', '--workspace', root]);
    assert.equal(unsafe.status, 2);
    assert.equal(unsafe.stderr, `error[PROFILE_INVALID]: Cannot restore as "../outside": "../outside" contains a path separator. Nothing was changed.\n  Give --as-new an id of 3 to 64 letters, digits, ".", "_" or "-", such as ${DEV}_restored.\n`);
    assert.deepEqual(snapshotTree(root, unchanging), before);
  });

  it('--as-new with the id of a deleted profile whose data was kept: refused (nothing is overwritten), and told that a restore without --as-new brings it back, which it does', async () => {
    const { root } = await demoWorkspace();
    // A clone keeps its databases in data/<its id>/, where --as-new with that id would put them too.
    const COPY = 'dev_copy';
    assert.equal(runCli(['clone', DEV, COPY, '--workspace', root]).status, 0);
    const backedUp = runCli(['backup', COPY, '--full', '--verify', '--workspace', root, '--json']);
    assert.equal(backedUp.status, 0, backedUp.stderr);
    const id = backedUp.json?.result.id as string;
    assert.equal(runCli(['delete', COPY, '--workspace', root]).status, 0);
    const before = snapshotTree(root, unchanging);
    const refused = runCli(['restore', id, '--as-new', COPY, '--workspace', root]);
    assert.equal(refused.status, 3);
    assert.equal(refused.stderr, [
      `error[TARGET_EXISTS]: data/${COPY}/settings.sqlite3 already exists; nothing was changed.`,
      `  Choose another id for --as-new. Or, as ${COPY} has no profile file now (deleted, its data kept?), bring it back where it was by restoring without --as-new ("envprofiles restore ${id}"): what is there now is backed up first.`,
      '',
    ].join('\n'));
    assert.deepEqual(snapshotTree(root, unchanging), before);
    const restored = runCli(['restore', id, '--workspace', root, '--json']);
    assert.equal(restored.status, 0, restored.stderr);
    assert.ok(restored.json?.result.safetyBackup, 'what was there is backed up first');
    assert.ok(fs.existsSync(path.join(root, `.envprofiles/profiles/${COPY}.yaml`)));
    // With the profile back, the id is taken: the other refusal, with its own hint.
    assert.equal(runCli(['restore', id, '--as-new', COPY, '--workspace', root]).stderr, `error[PROFILE_EXISTS]: Profile "${COPY}" already exists (.envprofiles/profiles/${COPY}.yaml).\n  Choose another id for --as-new.\n`);
  });

  it('says when the backup has not passed a verification (the dry run read only its manifest) and how to check it now; a damaged archive is then refused by the restore itself, which says that every file is as it was and where its safety backup is', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    // A copy of the archive with one bit flipped inside an entry, given by a path that needs quoting.
    const damaged = path.join(tempDir(), 'copy of the backup.zip');
    const bytes = fs.readFileSync(path.join(root, '.envprofiles/backups', DEV, `${backup.entry.id}.zip`));
    bytes[Math.floor(bytes.length / 2)] ^= 0x10;
    fs.writeFileSync(damaged, bytes);
    const dry = runCli(['restore', damaged, '--dry-run', '--workspace', root, '--json']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.equal(dry.json?.result.plan.notVerified, true);
    assert.equal(dry.json?.result.plan.listed, false);
    assert.ok(runCli(['restore', damaged, '--dry-run', '--workspace', root]).stdout.endsWith(`\n${unlistedLine(`'${damaged}'`)}\nNothing was changed.\n`));

    const data = (): Record<string, string> => Object.fromEntries(['settings', 'strategies', 'market_data'].map((name) => [name, fs.readFileSync(path.join(root, `data/dev/${name}.sqlite3`)).toString('base64')]));
    const before = data();
    const refused = runCli(['restore', damaged, '--workspace', root, '--json']);
    assert.equal(refused.status, 1, refused.stderr);
    const error = refused.json?.error;
    assert.ok(['ARCHIVE_INVALID', 'VERIFY_FAILED'].includes(error.code), JSON.stringify(error));
    const safety = runCli(['backups', DEV, '--workspace', root, '--json']).json?.result.backups.find((b: { reason: string }) => b.reason !== 'manual');
    assert.ok(safety, 'the safety backup is listed');
    assert.match(error.message, new RegExp(`^${damaged.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: entry "[^"]+"[: ].* The restore was rolled back: every file is as it was\. The safety backup ${safety.id} taken before it was kept\.$`));
    assert.deepEqual(data(), before);

    // An intact copy verifies, but its result is not recorded (it is not the listed archive), and both say so.
    const copy = path.join(tempDir(), 'intact copy.zip');
    fs.copyFileSync(path.join(root, '.envprofiles/backups', DEV, `${backup.entry.id}.zip`), copy);
    const copyVerified = runCli(['verify', copy, '--workspace', root]);
    assert.equal(copyVerified.status, 0, copyVerified.stderr);
    assert.ok(copyVerified.stdout.endsWith(`\n  not recorded: ${copy} is not an archive this workspace's catalog lists (a copy, or one from elsewhere), so the result is not kept; only a listed archive's verification is recorded.\n`), copyVerified.stdout);
    assert.equal(runCli(['verify', copy, '--workspace', root, '--json']).json?.result.recorded, false);
    assert.ok(runCli(['restore', copy, '--dry-run', '--workspace', root]).stdout.includes(`\n${unlistedLine(`'${copy}'`)}\n`));

    // Not verified, the listed backup gets the line too, under its id; verified, it does not.
    assert.ok(runCli(['restore', backup.entry.id, '--dry-run', '--workspace', root]).stdout.includes(`\n${notVerifiedLine(backup.entry.id)}\n`));
    const listedVerified = runCli(['verify', backup.entry.id, '--workspace', root, '--json']);
    assert.equal(listedVerified.status, 0);
    assert.equal(listedVerified.json?.result.recorded, true);
    assert.ok(!runCli(['verify', backup.entry.id, '--workspace', root]).stdout.includes('not recorded'));
    const verified = runCli(['restore', backup.entry.id, '--dry-run', '--workspace', root, '--json']);
    assert.equal(verified.json?.result.plan.notVerified, false);
    assert.equal(verified.json?.result.plan.listed, true);
    assert.ok(!runCli(['restore', backup.entry.id, '--dry-run', '--workspace', root]).stdout.includes('has not passed a verification'));
  });

  it('says when a verified backup, or the archive it builds on, has changed on the disk since it was verified (the catalog keeps each archive\'s SHA-256), and offers verify; as a new profile too', async () => {
    const { root, context } = await demoWorkspace();
    const full = await createBackup(context, { profileId: DEV, kind: 'full' });
    const incremental = await createBackup(context, { profileId: DEV, kind: 'incremental' });
    for (const id of [full.entry.id, incremental.entry.id]) assert.equal(runCli(['verify', id, '--workspace', root]).status, 0);
    const dryRun = (...extra: string[]) => runCli(['restore', incremental.entry.id, '--dry-run', ...extra, '--workspace', root]);
    assert.equal(dryRun('--json').json?.result.plan.changedSinceVerified, undefined, 'as verified: nothing to say');
    assert.ok(!dryRun().stdout.includes('passed a verification, but'));

    // One byte of the full archive's data changed: the manifest still reads, so only its SHA-256 tells.
    const fullArchive = path.join(root, '.envprofiles/backups', DEV, `${full.entry.id}.zip`);
    const bytes = fs.readFileSync(fullArchive);
    bytes[Math.floor(bytes.length / 3)] ^= 0x01;
    fs.writeFileSync(fullArchive, bytes);
    const before = snapshotTree(root, unchanging);
    const said = `the archive of ${full.entry.id}, which it builds on, changed since it was verified`;
    const line = `  note: this backup passed a verification, but ${said}: the restore checks every entry and stops at damage, replacing nothing; "envprofiles verify ${incremental.entry.id}" says now whether it is still sound`;
    const over = dryRun();
    assert.equal(over.status, 0, over.stderr);
    assert.ok(over.stdout.endsWith(`\n${line}\nNothing was changed.\n`), over.stdout);
    assert.equal(dryRun('--json').json?.result.plan.changedSinceVerified, said);
    assert.ok(dryRun('--as-new', 'dev_copy').stdout.endsWith(`\n${line}\nNothing was changed.\n`));
    assert.deepEqual(snapshotTree(root, unchanging), before, 'the dry runs changed nothing');

    // The backup's own archive changed: named as such.
    assert.equal(runCli(['restore', full.entry.id, '--dry-run', '--workspace', root, '--json']).json?.result.plan.changedSinceVerified, 'its archive changed since it was verified');
  });
});
