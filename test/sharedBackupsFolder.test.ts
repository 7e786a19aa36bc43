import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readAudit } from '../src/core/auditLog';
import { isBeingWritten } from '../src/core/atomicFile';
import { readCatalog } from '../src/core/backup/backupCatalog';
import { createBackup } from '../src/core/backup/backupCreation';
import { BackupLayout } from '../src/core/backup/backupLayout';
import { pruneBackups } from '../src/core/backup/backupPruning';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { verifyBackup } from '../src/core/backup/backupVerification';
import { rebuildCatalog } from '../src/core/backup/catalogRebuild';
import { EnvProfilesError } from '../src/core/errors';
import { workspaceConfigFor } from '../src/core/workspaceConfig';
import { createWorkspaceContext, type WorkspaceContext } from '../src/core/workspaceContext';
import { runCli } from './support/cliRunner';
import { startCli, startHeld } from './support/steppedRuns';
import { besideDir, demoWorkspace, engine } from './support/workspaces';

const DEV = 'dev_environment_001';

/** Two workspaces whose dev profiles back up into one folder (the first one's), keeping only the last backup. */
async function twoWorkspacesSharingBackups(): Promise<{ mine: { root: string; context: WorkspaceContext }; theirs: { root: string; context: WorkspaceContext }; shared: string }> {
  const mine = await demoWorkspace();
  const theirs = await demoWorkspace();
  const shared = path.join(mine.root, '.envprofiles/backups');
  // A folder outside a workspace must exist before it takes backups (see BackupLayout.requireRoot).
  fs.mkdirSync(shared, { recursive: true });
  const config = path.join(theirs.root, '.envprofiles/config.yaml');
  fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('directory: .envprofiles/backups', `directory: ${shared}`));
  for (const root of [mine.root, theirs.root]) {
    const profile = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    fs.writeFileSync(profile, fs.readFileSync(profile, 'utf8').replace('    retention_days: 30', '    keep:\n      last: 1'));
  }
  return { mine, theirs, shared };
}

function catalogOf(context: WorkspaceContext) {
  return readCatalog(new BackupLayout(context.layout, workspaceConfigFor(context)), DEV);
}

/**
 * Holds the other workspace's command (`theirs`) at `step`, with the catalog's lock held, while a prune
 * and a listing run here; then lets it go. The prune deletes `deleted`; neither finds a disagreement.
 */
async function pruneAndListWhileHeld(theirs: string[], step: string, mine: string, deleted: string[]): Promise<void> {
  const held = startHeld(theirs, step);
  await held.reached;
  const prune = startCli(['prune', DEV, '--workspace', mine, '--json']);
  const listing = startCli(['backups', DEV, '--workspace', mine, '--json']);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  held.release();
  const [their, pruned, listed] = await Promise.all([held.finished, prune, listing]);
  assert.equal(their.code, 0, their.stderr);
  assert.equal(pruned.code, 0, pruned.stdout + pruned.stderr);
  assert.deepEqual((JSON.parse(pruned.stdout) as { result: { deleted: string[] } }).result.deleted, deleted);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual((JSON.parse(listed.stdout) as { result: { disagreements: object } }).result.disagreements, {}, listed.stdout);
}

describe('two workspaces that share a backups folder and a profile id', () => {
  it("each backup records the workspace that made it; listing says which are another's; prune keeps those (that workspace's rules decide); a restore of one says whose data it brought", async () => {
    const { mine, theirs } = await twoWorkspacesSharingBackups();
    const older = await createBackup(mine.context, { profileId: DEV, kind: 'full' });
    const theirBackup = await createBackup(theirs.context, { profileId: DEV, kind: 'full' });
    const newest = await createBackup(mine.context, { profileId: DEV, kind: 'full' });
    assert.deepEqual(catalogOf(mine.context).map((e) => e.origin?.workspace), [mine.root, theirs.root, mine.root]);
    assert.match(runCli(['backups', DEV, '--workspace', mine.root]).stdout, new RegExp(`note: 1 of the backups listed for ${DEV} was made by the workspace at ${theirs.root}, `));
    // Their next incremental builds on their own backup, not on mine (the newest in the shared catalog).
    const theirNext = await createBackup(theirs.context, { profileId: DEV });
    assert.equal(theirNext.entry.kind, 'incremental');
    assert.equal(theirNext.entry.parent, theirBackup.entry.id);

    const listed = runCli(['backups', DEV, '--workspace', mine.root, '--json']);
    assert.deepEqual(listed.json?.result.sharedWith, { [DEV]: { [theirs.root]: 2 } });
    assert.match(runCli(['backups', DEV, '--workspace', mine.root]).stdout, new RegExp(`note: 2 of the backups listed for ${DEV} were made by the workspace at ${theirs.root}, which uses the same backups folder and profile id\\.\\n  Prune here keeps them`));

    // keep: {last: 1}: mine would delete everything but its newest; the other workspace's stays.
    const plan = await pruneBackups(mine.context, DEV, true);
    const decision = (id: string) => plan.decisions.find((d) => d.id === id);
    assert.equal(decision(newest.entry.id)?.action, 'keep');
    assert.equal(decision(older.entry.id)?.action, 'delete');
    assert.equal(decision(theirBackup.entry.id)?.action, 'keep');
    assert.deepEqual(decision(theirBackup.entry.id)?.reasons, [`made by the workspace at ${theirs.root}, which shares this backups folder (its own prune decides)`, `needed by ${theirNext.entry.id}`]);
    await pruneBackups(mine.context, DEV, false);
    assert.deepEqual(catalogOf(mine.context).map((e) => e.id), [theirBackup.entry.id, newest.entry.id, theirNext.entry.id]);

    const restored = await restoreBackup(mine.context, { reference: theirBackup.entry.id });
    assert.ok(restored.notes.includes(`this backup was made by the workspace at ${theirs.root}, which shares the backups folder: that workspace's data is now in this one`), restored.notes.join('\n'));

    // The origin is in the manifest too, so a rebuilt catalog still knows it.
    await rebuildCatalog(mine.context, DEV, false);
    assert.equal(catalogOf(mine.context).find((e) => e.id === theirBackup.entry.id)?.origin?.workspace, theirs.root);
  });

  it("the rules decide among this workspace's own backups: the other's newer backups neither use up `last` nor stand in for this one's newest verified", async () => {
    const { mine, theirs } = await twoWorkspacesSharingBackups();
    const myOlder = await createBackup(mine.context, { profileId: DEV, kind: 'full' });
    const myNewest = await createBackup(mine.context, { profileId: DEV, kind: 'full' });
    await verifyBackup(mine.context, myOlder.entry.id);
    const theirNewer = await createBackup(theirs.context, { profileId: DEV, kind: 'full' });
    await verifyBackup(theirs.context, theirNewer.entry.id);
    const plan = await pruneBackups(mine.context, DEV, true);
    const reasons = (id: string) => plan.decisions.find((d) => d.id === id)?.reasons;
    assert.deepEqual(reasons(myNewest.entry.id), ['last 1/1']);
    assert.deepEqual(reasons(myOlder.entry.id), ['newest verified backup (never deleted)']);
    assert.equal(plan.decisions.find((d) => d.id === theirNewer.entry.id)?.action, 'keep');
  });

  it('a copy of a workspace, with its own copy of the backups folder, is not another workspace sharing it', async () => {
    const original = await demoWorkspace();
    const first = await createBackup(original.context, { profileId: DEV, kind: 'full' });
    const copyRoot = `${original.root}-copy`;
    fs.cpSync(original.root, copyRoot, { recursive: true });
    const copy = createWorkspaceContext(copyRoot, await engine());
    // The copied catalog says the original made these backups, and the original still exists, but it
    // writes its backups to its own folder: in the copy they are the copy's.
    const next = await createBackup(copy, { profileId: DEV });
    assert.equal(next.entry.parent, first.entry.id, 'the copy builds on the copied chain');
    assert.deepEqual(runCli(['backups', DEV, '--workspace', copyRoot, '--json']).json?.result.sharedWith, {});
    fs.rmSync(copyRoot, { recursive: true, force: true });
  });

  it('a workspace that was moved (its old folder is gone) is not another workspace: its backups follow the rules again', async () => {
    const { mine, theirs } = await twoWorkspacesSharingBackups();
    const theirBackup = await createBackup(theirs.context, { profileId: DEV, kind: 'full' });
    await createBackup(mine.context, { profileId: DEV, kind: 'full' });
    const movedRoot = besideDir(theirs.root, 'moved');
    fs.renameSync(theirs.root, movedRoot);
    const plan = await pruneBackups(mine.context, DEV, true);
    assert.equal(plan.decisions.find((d) => d.id === theirBackup.entry.id)?.action, 'delete');
    assert.deepEqual(runCli(['backups', DEV, '--workspace', mine.root, '--json']).json?.result.sharedWith, {});
    // And the moved workspace, at its new place, takes its backups for its own (the old folder is gone).
    const moved = createWorkspaceContext(movedRoot, await engine());
    assert.equal((await pruneBackups(moved, DEV, true)).decisions.find((d) => d.id === theirBackup.entry.id)?.reasons.some((r) => r.startsWith('made by')), false);
  });

  it('an archive of another workspace restored by its path: the restore says whose data it brought (before: nothing); one of this workspace says nothing of the kind', async () => {
    const mine = await demoWorkspace();
    const theirs = await demoWorkspace();
    const theirArchive = (await createBackup(theirs.context, { profileId: DEV, kind: 'full' })).archive;
    const restored = runCli(['restore', theirArchive, '--workspace', mine.root, '--json']);
    assert.equal(restored.status, 0, restored.stderr);
    assert.ok(restored.json?.result.notes.includes(`this backup was made by the workspace at ${theirs.root}, not this one (or before this workspace was moved): that data is now in this one`), restored.stdout);
    const asNew = runCli(['restore', theirArchive, '--as-new', 'dev_from_theirs', '--workspace', mine.root, '--json']);
    assert.deepEqual(asNew.json?.result.notes, [`restored as the new profile dev_from_theirs, from a backup made by the workspace at ${theirs.root}`]);
    const own = (await createBackup(mine.context, { profileId: DEV, kind: 'full' })).archive;
    const ownRestore = runCli(['restore', own, '--workspace', mine.root, '--json']);
    assert.equal(ownRestore.status, 0, ownRestore.stderr);
    assert.ok(!ownRestore.json?.result.notes.some((n: string) => n.includes('made by')), ownRestore.stdout);
  });
  it('backups of both at the same moment: each waits for the other\'s change of the catalog (its lock), and both are listed (before: the later write dropped the other\'s backup)', async function () {
    this.timeout(60_000);
    const { mine, theirs, shared } = await twoWorkspacesSharingBackups();
    const lock = path.join(shared, DEV, 'catalog.json.lock');
    // Mine has read the catalog under its lock and is about to write it back.
    const held = startHeld(['backup', DEV, '--full', '--workspace', mine.root], 'catalog-locked');
    const heldPid = await held.reached;
    assert.equal((JSON.parse(fs.readFileSync(lock, 'utf8')) as { pid: number }).pid, heldPid);
    let theirsDone = false;
    const theirRun = startCli(['backup', DEV, '--full', '--workspace', theirs.root]).then((done) => {
      theirsDone = true;
      return done;
    });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(theirsDone, false, 'their backup waits for the catalog');
    held.release();
    const [ours, their] = await Promise.all([held.finished, theirRun]);
    assert.deepEqual([ours.code, their.code], [0, 0], `${ours.stderr}\n${their.stderr}`);
    // It said what it waited for, once (before: nothing until its 2-minute limit).
    assert.equal(their.stderr.match(/^warning: The backup catalog of dev_environment_001 is held by another operation: backup dev_environment_001 \(process (\d+) on .*\), likely a workspace that shares this backups folder; waiting for it \(at most 2 minutes\)\.$/gm)?.length, 1, their.stderr);
    assert.ok(their.stderr.includes(`(process ${heldPid} on `), their.stderr);
    assert.deepEqual(catalogOf(mine.context).map((e) => e.origin?.workspace).sort(), [mine.root, theirs.root].sort());
    assert.equal(fs.existsSync(lock), false);
    const listed = runCli(['backups', DEV, '--workspace', mine.root, '--json']);
    assert.deepEqual(listed.json?.result.disagreements, {}, JSON.stringify(listed.json?.result));
    assert.equal(runCli(['prune', DEV, '--dry-run', '--workspace', theirs.root]).status, 0);
  });

  it("the other workspace's backup, between putting its archive in place and listing it: a prune and a listing here wait for it and find catalog and folder agreeing (before: CATALOG_MISMATCH, \"rebuild the catalog\"); a rebuild here lists it once (before: twice, and the catalog could no longer be read)", async function () {
    this.timeout(90_000);
    const { mine, theirs } = await twoWorkspacesSharingBackups();
    const older = await createBackup(mine.context, { profileId: DEV, kind: 'full' });
    const newest = await createBackup(mine.context, { profileId: DEV, kind: 'full' });
    // Theirs holds the catalog's lock, its archive in place and not yet listed.
    await pruneAndListWhileHeld(['backup', DEV, '--full', '--workspace', theirs.root], 'catalog-locked', mine.root, [older.entry.id]);
    // A rebuild here reads the folder while their next backup is in that state.
    const next = startHeld(['backup', DEV, '--full', '--workspace', theirs.root], 'catalog-locked');
    await next.reached;
    const rebuild = rebuildCatalog(mine.context, DEV, false);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    next.release();
    const [theirNext, rebuilt] = await Promise.all([next.finished, rebuild]);
    assert.equal(theirNext.code, 0, theirNext.stderr);
    const theirIds = catalogOf(theirs.context).filter((e) => e.origin?.workspace === theirs.root).map((e) => e.id);
    assert.equal(theirIds.length, 2, 'both of their backups are listed');
    assert.deepEqual(rebuilt.entries.map((e) => e.id).sort(), [newest.entry.id, ...theirIds].sort(), JSON.stringify(rebuilt));
    assert.deepEqual(catalogOf(mine.context).map((e) => e.id).sort(), [newest.entry.id, ...theirIds].sort(), 'each listed once, the pruned one gone');
    const after = runCli(['backups', DEV, '--workspace', mine.root, '--json']);
    assert.deepEqual(after.json?.result.disagreements, {}, JSON.stringify(after.json));
  });

  it("a rebuild here takes in what the other workspace changed while it read the archives: a backup it listed meanwhile stays listed, one it pruned meanwhile is dropped (before: the new backup was left out of the rebuilt catalog)", async function () {
    this.timeout(90_000);
    const { mine, theirs } = await twoWorkspacesSharingBackups();
    const mineOnly = await createBackup(mine.context, { profileId: DEV, kind: 'full' });
    const theirOlder = await createBackup(theirs.context, { profileId: DEV, kind: 'full' });
    const theirNewer = await createBackup(theirs.context, { profileId: DEV, kind: 'full' });
    let theirsMeanwhile: ReturnType<typeof runCli>[] = [];
    const rebuilding = { ...mine.context, onStep: (step: string) => {
      // The archives are read; before this rebuild writes the catalog, theirs makes a backup and prunes the older ones.
      if (step === 'catalog-rebuild-read') theirsMeanwhile = [runCli(['backup', DEV, '--full', '--workspace', theirs.root, '--json']), runCli(['prune', DEV, '--workspace', theirs.root, '--json'])];
    } };
    const rebuilt = await rebuildCatalog(rebuilding, DEV, false);
    assert.deepEqual(theirsMeanwhile.map((r) => r.status), [0, 0], theirsMeanwhile.map((r) => r.stdout + r.stderr).join('\n'));
    const made = theirsMeanwhile[0].json?.result.id as string;
    assert.deepEqual(theirsMeanwhile[1].json?.result.deleted.sort(), [theirOlder.entry.id, theirNewer.entry.id].sort());
    const expected = [mineOnly.entry.id, made].sort();
    assert.deepEqual(rebuilt.entries.map((e) => e.id).sort(), expected);
    assert.deepEqual(rebuilt.dropped.sort(), [theirOlder.entry.id, theirNewer.entry.id].sort());
    assert.deepEqual(catalogOf(mine.context).map((e) => e.id).sort(), expected);
    assert.deepEqual(runCli(['backups', DEV, '--workspace', mine.root, '--json']).json?.result.disagreements, {});
  });

  it("the other workspace's prune, between unlisting its archives and deleting them: a prune and a listing here find catalog and folder agreeing (before: CATALOG_MISMATCH)", async function () {
    this.timeout(90_000);
    const { mine, theirs } = await twoWorkspacesSharingBackups();
    const myOlder = await createBackup(mine.context, { profileId: DEV, kind: 'full' });
    await createBackup(mine.context, { profileId: DEV, kind: 'full' });
    const theirOlder = await createBackup(theirs.context, { profileId: DEV, kind: 'full' });
    await createBackup(theirs.context, { profileId: DEV, kind: 'full' });
    await pruneAndListWhileHeld(['prune', DEV, '--workspace', theirs.root], 'prune-catalog-written', mine.root, [myOlder.entry.id]);
    assert.equal(catalogOf(mine.context).some((e) => e.id === theirOlder.entry.id), false);
    assert.equal(catalogOf(mine.context).length, 2);
  });

  it('a catalog lock left by a killed process is taken over by the next change, and removed by the next command; one of another machine counts as held until it is ten minutes old', async () => {
    const { mine, shared } = await twoWorkspacesSharingBackups();
    await createBackup(mine.context, { profileId: DEV, kind: 'full' });
    const lock = path.join(shared, DEV, 'catalog.json.lock');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const stale = JSON.stringify({ pid: dead, host: os.hostname(), since: new Date().toISOString(), operation: 'backup (killed)' });
    fs.writeFileSync(lock, stale);
    assert.equal(runCli(['status', '--workspace', mine.root]).status, 0);
    assert.equal(fs.existsSync(lock), false, 'recovery removed it');
    fs.writeFileSync(lock, stale);
    const next = await createBackup(mine.context, { profileId: DEV, kind: 'full' });
    assert.ok(catalogOf(mine.context).some((e) => e.id === next.entry.id));
    assert.equal(fs.existsSync(lock), false);
    // Another machine's: alive for all anyone here can tell, until it is ten minutes old.
    const elsewhere = JSON.stringify({ pid: 1, host: `not-${os.hostname()}`, since: new Date().toISOString(), operation: 'backup' });
    fs.writeFileSync(lock, elsewhere);
    assert.equal(runCli(['status', '--workspace', mine.root]).status, 0);
    assert.equal(fs.readFileSync(lock, 'utf8'), elsewhere, 'recovery leaves it');
    const old = new Date(Date.now() - 11 * 60_000);
    fs.utimesSync(lock, old, old);
    const after = await createBackup(mine.context, { profileId: DEV, kind: 'full' });
    assert.ok(catalogOf(mine.context).some((e) => e.id === after.entry.id));
    assert.equal(fs.existsSync(lock), false);
  });
  it('a catalog lock that names this very process, which does not hold it (left by a release that could not read it back), is taken over at once (before: this process waited for itself for two minutes, then refused)', async function () {
    this.timeout(30_000);
    const { mine, shared } = await twoWorkspacesSharingBackups();
    await createBackup(mine.context, { profileId: DEV, kind: 'full' });
    const lock = path.join(shared, DEV, 'catalog.json.lock');
    // What a FAT disk through FUSE left when it read the lock back as zeros at its release.
    fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString(), operation: `backup ${DEV}` }));
    const started = Date.now();
    const next = await createBackup(mine.context, { profileId: DEV, kind: 'incremental' });
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assert.ok(catalogOf(mine.context).some((e) => e.id === next.entry.id));
    assert.equal(fs.existsSync(lock), false);
  });
  it('backups of both started in the same millisecond take two ids: the later one no longer replaces the earlier one\'s archive under their one name', async function () {
    this.timeout(60_000);
    const { mine, theirs, shared } = await twoWorkspacesSharingBackups();
    const folder = path.join(shared, DEV);
    fs.mkdirSync(folder, { recursive: true });
    // Mine has started its archive (under a temporary name that carries its id) and waits there.
    const held = startHeld(['backup', DEV, '--full', '--workspace', mine.root], 'journal-written');
    await held.reached;
    const temporary = fs.readdirSync(folder).find((name) => name.includes('.zip.envprofiles-tmp-'));
    const id = /^\.(.+)\.zip\.envprofiles-tmp-/.exec(temporary ?? '')?.[1] ?? '';
    const stamp = /\.(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)-(\d{3})Z\.full$/.exec(id);
    assert.ok(stamp, `${temporary}`);
    const sameMillisecond = new Date(`${stamp[1]}-${stamp[2]}-${stamp[3]}T${stamp[4]}:${stamp[5]}:${stamp[6]}.${stamp[7]}Z`);
    // Theirs starts in that very millisecond.
    const their = await createBackup({ ...theirs.context, now: () => sameMillisecond }, { profileId: DEV, kind: 'full' });
    assert.notEqual(their.entry.id, id);
    held.release();
    const ours = await held.finished;
    assert.equal(ours.code, 0, ours.stderr);
    const listed = catalogOf(mine.context);
    assert.deepEqual(listed.map((e) => e.id).sort(), [id, their.entry.id].sort());
    for (const entry of listed) {
      const result = await verifyBackup(mine.context, entry.id);
      assert.equal(result.ok, true, `${entry.id}: ${result.problems.join('; ')}`);
    }
  });
  it('an archive that appears under the new backup\'s name while it is written (another tool\'s) is never replaced: the backup is refused (TARGET_EXISTS), that archive stays as it was, nothing is listed', async () => {
    const { mine, shared } = await twoWorkspacesSharingBackups();
    const folder = path.join(shared, DEV);
    let intruder = '';
    const appearing = { ...mine.context, onStep: (step: string) => {
      if (step !== 'journal-written') return;
      const temporary = fs.readdirSync(folder).find((name) => name.includes('.zip.envprofiles-tmp-')) ?? '';
      intruder = path.join(folder, temporary.slice(1, temporary.indexOf('.envprofiles-tmp-')));
      fs.writeFileSync(intruder, 'another backup');
    } };
    await assert.rejects(createBackup(appearing, { profileId: DEV, kind: 'full' }), (error: unknown) => {
      assert.ok(error instanceof EnvProfilesError && error.code === 'TARGET_EXISTS', String(error));
      assert.match(error.message, /appeared while this backup was being written: .* It was left as it is, and this backup was not kept\.$/);
      return true;
    });
    assert.equal(fs.readFileSync(intruder, 'utf8'), 'another backup');
    assert.deepEqual(catalogOf(mine.context), []);
    // Refused, as anything that would be written over a file already there is (exit 3), and said so in the audit log.
    assert.deepEqual(readAudit(mine.context).filter((e) => e.event === 'backup').map((e) => `${e.profile} ${e.outcome}`), [`${DEV} refused`]);
    assert.deepEqual(fs.readdirSync(folder).filter((name) => name.includes('envprofiles-tmp')), []);
  });
});

describe('a backups folder on a share that another machine writes into too', () => {
  it("another machine's files being written there (its process id means nothing here) are left alone until nothing has touched them for ten minutes; this machine's killed writers' are removed at once (before: removed at once too, and the other machine's backup failed)", async () => {
    const { root } = await demoWorkspace();
    const backup = runCli(['backup', DEV, '--json', '--workspace', root]);
    assert.equal(backup.status, 0, backup.stderr);
    const folder = path.join(root, '.envprofiles/backups', DEV);
    // A process that has ended: its id names no process here, as another machine's writer's does not.
    const ended = spawnSync('true').pid ?? 0;
    const ownTag = `h${createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8)}`;
    const otherTag = ownTag === 'h00000000' ? 'h11111111' : 'h00000000';
    const theirArchive = path.join(folder, `.${DEV}.20261204T101010-000Z.full.zip.envprofiles-tmp-${ended}-0a1b2c3d-${otherTag}`);
    const theirStaging = path.join(folder, `.backup.envprofiles-tmp-${ended}-mip0abc-${otherTag}`);
    const ownLeftovers = [`.catalog.json.envprofiles-tmp-${ended}-0a1b2c3d-${ownTag}`, `.catalog.json.envprofiles-tmp-${ended}-0a1b2c3e`].map((name) => path.join(folder, name));
    fs.writeFileSync(theirArchive, 'PK… being written on another machine');
    fs.mkdirSync(theirStaging);
    fs.writeFileSync(path.join(theirStaging, 'snapshot.sqlite3'), 'a snapshot being written');
    for (const file of ownLeftovers) fs.writeFileSync(file, 'left by a killed writer of this machine');
    // The staging folder itself unchanged for an hour: what is written in it counts.
    const hourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(theirStaging, hourAgo, hourAgo);
    assert.equal(isBeingWritten(theirArchive.replace(/\/\.([^/]+)\.envprofiles-tmp-.*$/, '/$1')), true, 'its archive is being written: its id is taken');
    const ownInFlight = path.join(folder, `.${DEV}.20261204T101011-000Z.full.zip.envprofiles-tmp-${process.pid}-0a1b2c3d-${ownTag}`);
    fs.writeFileSync(ownInFlight, 'PK… being written by this very process');
    assert.equal(isBeingWritten(ownInFlight.replace(/\/\.([^/]+)\.envprofiles-tmp-.*$/, '/$1')), true, "this process's own archive in flight is being written too");
    fs.rmSync(ownInFlight);

    const first = runCli(['status', '--workspace', root]);
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(ownLeftovers.filter((file) => fs.existsSync(file)), [], "this machine's are removed at once (the name without a tag too: written before tags)");
    assert.ok(fs.existsSync(theirArchive) && fs.existsSync(path.join(theirStaging, 'snapshot.sqlite3')), "the other machine's are left alone");

    const elevenMinutesAgo = new Date(Date.now() - 11 * 60_000);
    for (const file of [theirArchive, path.join(theirStaging, 'snapshot.sqlite3'), theirStaging]) fs.utimesSync(file, elevenMinutesAgo, elevenMinutesAgo);
    assert.equal(isBeingWritten(theirArchive.replace(/\/\.([^/]+)\.envprofiles-tmp-.*$/, '/$1')), false, 'untouched for ten minutes: abandoned');
    const second = runCli(['status', '--workspace', root]);
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(fs.readdirSync(folder).filter((name) => name.includes('envprofiles-tmp')), [], 'untouched for ten minutes: a killed writer\'s, removed');
    assert.equal(runCli(['verify', backup.json?.result.id, '--workspace', root]).status, 0, 'the backup beside them is as it was');
  });
});
