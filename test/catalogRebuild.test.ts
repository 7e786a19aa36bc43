import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCatalog, type CatalogEntry } from '../src/core/backup/backupCatalog';
import { createBackup } from '../src/core/backup/backupCreation';
import { BackupLayout } from '../src/core/backup/backupLayout';
import { verifyBackup } from '../src/core/backup/backupVerification';
import { rebuildCatalog } from '../src/core/backup/catalogRebuild';
import { defaultConfig } from '../src/core/workspaceConfig';
import type { WorkspaceContext } from '../src/core/workspaceContext';
import { runCli } from './support/cliRunner';
import { NO_TEST_HOOKS } from './support/steppedRuns';
import { craftArchive } from './support/testHelpers';
import { CLI, demoWorkspace } from './support/workspaces';
import { localTimestamp, localTimeZone } from '../src/core/localTime';

const DEV = 'dev_environment_001';

function catalogOf(context: WorkspaceContext, profileId = DEV): CatalogEntry[] {
  return readCatalog(new BackupLayout(context.layout, defaultConfig()), profileId);
}

/** A demo workspace with a full backup of DEV and two incrementals after it, the first verified. */
async function withChain() {
  const workspace = await demoWorkspace();
  const { context } = workspace;
  const full = await createBackup(context, { profileId: DEV, kind: 'full' });
  const first = await createBackup(context, { profileId: DEV, kind: 'incremental' });
  const second = await createBackup(context, { profileId: DEV, kind: 'incremental' });
  await verifyBackup(context, first.entry.id);
  const dir = path.join(workspace.root, '.envprofiles/backups', DEV);
  return { ...workspace, dir, ids: [full.entry.id, first.entry.id, second.entry.id], catalogFile: path.join(dir, 'catalog.json') };
}

/** withChain with the second incremental verified too and a profile that keeps its last backup only; and its catalog's JSON, to edit. */
async function withVerifiedChainKeepingOne() {
  const chain = await withChain();
  await verifyBackup(chain.context, chain.ids[2]);
  const profileFile = path.join(chain.root, `.envprofiles/profiles/${DEV}.yaml`);
  fs.writeFileSync(profileFile, fs.readFileSync(profileFile, 'utf8').replace('    retention_days: 30', '    keep: {last: 1}'));
  return { ...chain, catalog: JSON.parse(fs.readFileSync(chain.catalogFile, 'utf8')) as { backups: CatalogEntry[] } };
}

describe('rebuilding a backup catalog from the archives', () => {
  it('with no backup folder for it: a profile without backups is said to be one, an unknown id gets the known profiles (before: "check the profile id" for both)', async () => {
    const { root } = await demoWorkspace();
    const none = runCli(['backups', 'test_environment_001', '--rebuild-catalog', '--workspace', root]);
    assert.equal(none.status, 1);
    assert.equal(none.stderr, `error[BACKUP_NOT_FOUND]: test_environment_001 has no backups in ${path.join(root, '.envprofiles/backups')} (there is no folder ${path.join(root, '.envprofiles/backups/test_environment_001')}), so there is no catalog to rebuild. Nothing was changed.\n  Back it up: envprofiles backup test_environment_001 --verify. If its backups are in another folder, set backups.directory in config.yaml to that folder.\n`);
    const typo = runCli(['backups', 'tset_environment_001', '--rebuild-catalog', '--dry-run', '--workspace', root]);
    assert.equal(typo.status, 1);
    assert.match(typo.stderr, /^error\[PROFILE_NOT_FOUND\]: No profile "tset_environment_001" in \.envprofiles\/profiles\.\n(.*\n)? {2}Did you mean test_environment_001\? Known profiles: /);
    assert.ok(!fs.existsSync(path.join(root, '.envprofiles/backups')), 'nothing was made');
  });

  it('a lost catalog: prune refuses and points at the rebuild; the dry run changes nothing; the rebuild lists every archive as it was', async () => {
    const { root, context, ids, catalogFile } = await withChain();
    const original = catalogOf(context);
    fs.rmSync(catalogFile);
    // The listing does not just say "No backups" beside a folder of archives.
    const listed = runCli(['backups', DEV, '--workspace', root, '--json']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.json?.result.backups, []);
    assert.equal(listed.json?.result.disagreements[DEV].length, 3);
    const text = runCli(['backups', DEV, '--workspace', root]).stdout;
    assert.match(text, new RegExp(`No backups of ${DEV} in .*\\nnote: the catalog of ${DEV} disagrees with its folder: ${ids[0]}\\.zip is in \\S+ but not in the catalog; .*\\n  Rebuild it from the archives: envprofiles backups ${DEV} --rebuild-catalog`));
    const prune = runCli(['prune', DEV, '--dry-run', '--workspace', root]);
    assert.equal(prune.status, 1, prune.stderr);
    assert.match(prune.stderr, /CATALOG_MISMATCH[\s\S]*envprofiles backups dev_environment_001 --rebuild-catalog/);

    const dry = runCli(['backups', DEV, '--rebuild-catalog', '--dry-run', '--workspace', root, '--json']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.deepEqual(dry.json?.result?.added, ids);
    assert.ok(!fs.existsSync(catalogFile), 'a dry run writes nothing');

    const done = runCli(['backups', DEV, '--rebuild-catalog', '--workspace', root]);
    assert.equal(done.status, 0, done.stderr);
    assert.match(done.stdout, /Rebuilt the catalog of dev_environment_001: 3 backups[\s\S]*added \(not verified yet\) \(3\)[\s\S]*Verify the backups that are not verified: envprofiles verify --unverified dev_environment_001\n/);
    // Everything the catalog knew comes back from the archives, except which ones were verified.
    assert.deepEqual(catalogOf(context), original.map((e) => ({ ...e, verified: null })));
    assert.equal(runCli(['prune', DEV, '--dry-run', '--workspace', root]).status, 0);
    // The command it gives verifies them all, oldest first; run again, it has nothing left to do.
    const verified = runCli(['verify', '--unverified', DEV, '--workspace', root]);
    assert.equal(verified.status, 0, verified.stderr);
    assert.deepEqual(verified.stdout.trim().split('\n'), [...ids.map((id) => `${id}: sound (3 databases rebuilt and checked)`), `Verified 3 backups of ${DEV}: 3 sound, 0 FAILED.`]);
    assert.deepEqual(catalogOf(context).map((e) => e.verified?.ok), [true, true, true]);
    assert.match(runCli(['verify', '--unverified', DEV, '--workspace', root]).stdout, /^Every backup of dev_environment_001 \(3\) has been verified already/);
    assert.equal(runCli(['verify', '--unverified', 'no_such_profile', '--workspace', root]).status, 1, 'an unknown profile is an error');
    assert.equal(runCli(['verify', '--unverified', 'test_environment_001', '--workspace', root]).stdout, 'test_environment_001 has no backups yet: nothing to verify.\n');
    assert.equal(runCli(['verify', '--workspace', root]).status, 2, 'a backup or --unverified is needed');
  });

  it('a record that says less than its archive of what a backup builds on (a catalog edited or merged by hand): prune refuses before deleting what an incremental needs, a backup does not build on it, and the rebuild amends it, keeping its verification', async () => {
    const { root, context, ids, catalogFile, catalog } = await withVerifiedChainKeepingOne();
    const [full, first, second] = ids;
    Object.assign(catalog.backups[1], { verified: null });
    Object.assign(catalog.backups[2], { kind: 'full', parent: null, chain: [] });
    fs.writeFileSync(catalogFile, JSON.stringify(catalog));
    // Before: the full and the first incremental were deleted, and the newest could never be restored.
    for (const args of [['prune', DEV, '--dry-run'], ['prune', DEV]]) {
      const refused = runCli([...args, '--workspace', root]);
      assert.equal(refused.status, 1, refused.stdout);
      assert.match(refused.stderr, new RegExp(`^error\\[CATALOG_MISMATCH\\]: The backup catalog of ${DEV} disagrees with the archives on disk: the catalog records ${second} as full, its archive as incremental on ${full}, ${first}\\.\\n`));
    }
    assert.deepEqual(catalogOf(context).map((e) => e.id), ids, 'nothing was deleted');
    // Nor is a backup built on that record (its chain would have lacked the full).
    const next = runCli(['backup', DEV, '--verify', '--json', '--workspace', root]);
    assert.equal(next.status, 0, next.stderr);
    assert.equal(next.json?.result.kind, 'full');
    assert.equal(next.json?.result.verification.ok, true);
    assert.match(next.json?.result.note, new RegExp(`^the catalog's record of ${second}, which this backup would have built on, disagrees with its archive \\(its archive builds on ${full}, ${first}, the catalog says on nothing\\), so this one is full; make the catalog match the archives: envprofiles backups ${DEV} --rebuild-catalog`));
    const rebuilt = await rebuildCatalog(context, DEV, false);
    assert.deepEqual(rebuilt.amended, [second]);
    assert.deepEqual(catalogOf(context).slice(0, 3).map((e) => [e.kind, e.chain.length, e.verified?.ok ?? null]), [['full', 0, null], ['incremental', 1, null], ['incremental', 2, true]]);
    assert.equal(runCli(['prune', DEV, '--dry-run', '--workspace', root]).status, 0);
  });

  it('a catalog entry whose time is not that of its id (a catalog edited or merged by hand): prune refuses, naming both times, as it would have kept and deleted by it; the listing says so; the rebuild takes the archive\'s time', async () => {
    const { root, context, ids, catalogFile, catalog } = await withVerifiedChainKeepingOne();
    const [full, first, second] = ids;
    // The oldest backup made to look the newest: keep: {last: 1} would have kept its chain alone.
    const taken = catalog.backups[0].createdAt as string;
    const later = new Date(Date.parse(catalog.backups[2].createdAt) + 5000).toISOString();
    catalog.backups[0].createdAt = later;
    fs.writeFileSync(catalogFile, JSON.stringify(catalog));
    const zone = localTimeZone();
    const disagreement = `the catalog says ${full} was taken at ${localTimestamp(later, zone)}, but its id says ${localTimestamp(taken, zone)} (${zone} time)`;
    for (const args of [['prune', DEV, '--dry-run'], ['prune', DEV]]) {
      const refused = runCli([...args, '--workspace', root]);
      assert.equal(refused.status, 1, refused.stdout);
      assert.ok(refused.stderr.startsWith(`error[CATALOG_MISMATCH]: The backup catalog of ${DEV} disagrees with the archives on disk: ${disagreement}.\n`), refused.stderr);
    }
    assert.deepEqual(catalogOf(context).map((e) => e.id).sort(), [...ids].sort(), 'nothing was deleted');
    const listed = runCli(['backups', DEV, '--workspace', root, '--json']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.json?.result.disagreements[DEV], [disagreement]);
    const rebuilt = await rebuildCatalog(context, DEV, false);
    assert.deepEqual(rebuilt.amended, [full]);
    assert.deepEqual(catalogOf(context).map((e) => [e.id, e.createdAt]), ids.map((id, i) => [id, i === 0 ? taken : catalog.backups[i].createdAt]));
    const pruned = runCli(['prune', DEV, '--workspace', root, '--json']);
    assert.equal(pruned.status, 0, pruned.stderr);
    assert.deepEqual(catalogOf(context).map((e) => e.id), [full, first, second], 'the newest backup and the chain it needs are kept');
  });

  it('a catalog entry whose id is not a backup id (it would lead prune outside the folder) makes the catalog unreadable: refused, then rebuilt', async () => {
    const { root, context, ids, dir, catalogFile } = await withChain();
    // An archive outside the backup folder, of the very size the tampered entry claims.
    const victim = path.join(root, 'victim.zip');
    fs.copyFileSync(path.join(dir, `${ids[0]}.zip`), victim);
    const catalog = JSON.parse(fs.readFileSync(catalogFile, 'utf8'));
    catalog.backups[0].id = path.relative(dir, victim).replace(/\.zip$/, '');
    fs.writeFileSync(catalogFile, JSON.stringify(catalog));
    for (const args of [['backups', DEV], ['prune', DEV]]) {
      const refused = runCli([...args, '--workspace', root]);
      assert.equal(refused.status, 1, refused.stdout);
      assert.match(refused.stderr, /error\[CATALOG_MISMATCH\]: The backup catalog \S+ cannot be read: entry 1 has an id that is not a backup id \("\.\.\/\.\.\/\.\.\/victim"\)[\s\S]*--rebuild-catalog/);
      assert.deepEqual(runCli([...args, '--workspace', root, '--json']).json?.error.nextStep, { action: 'rebuild-catalog', profileId: DEV });
    }
    assert.ok(fs.existsSync(victim), 'nothing outside the folder was touched');
    await rebuildCatalog(context, DEV, false);
    assert.deepEqual(catalogOf(context).map((e) => e.id), ids);
  });

  it('a catalog entry with a field of the wrong kind (a time that is not one, a reason that is not text, an origin without its folder) is a catalog that cannot be read, naming the field (before: listing, prune and delete failed as "a bug"); a rebuild keeps the good entries\' verification', async () => {
    const { root, context, ids, catalogFile } = await withChain();
    const original = fs.readFileSync(catalogFile, 'utf8');
    const cases: [(entry: Record<string, any>) => void, RegExp][] = [
      [(e) => (e.createdAt = 'yesterday'), new RegExp(`entry 1 \\(${ids[0].replace(/\./g, '\\.')}\\) has a createdAt that is not a time \\("yesterday"\\)`)],
      [(e) => (e.verified = { ...e.verified, at: 'x', ok: true, detail: '' }), /entry 1 \(\S+\) has a verification record that is not one: its time is "x"/],
      [(e) => (e.reason = {}), /entry 1 \(\S+\) has a reason that is not text \(\{\}\)/],
      [(e) => (e.origin = { host: 'vm', workspace: null }), /entry 1 \(\S+\) has an origin that is not a host and a workspace folder \(\{"host":"vm","workspace":null\}\)/],
      [(e) => (e.profileId = null), /entry 1 \(\S+\) has a profile id that is not text \(null\)/],
    ];
    for (const [damage, expected] of cases) {
      const catalog = JSON.parse(original);
      damage(catalog.backups[0]);
      fs.writeFileSync(catalogFile, JSON.stringify(catalog));
      for (const args of [['backups', DEV], ['prune', DEV, '--dry-run'], ['restore', ids[2], '--dry-run']]) {
        const refused = runCli([...args, '--workspace', root]);
        assert.equal(refused.status, 1, `${args.join(' ')}: ${refused.stdout}`);
        assert.match(refused.stderr, /^error\[CATALOG_MISMATCH\]: The backup catalog \S+ cannot be read: /, args.join(' '));
        assert.match(refused.stderr, expected, args.join(' '));
      }
      // delete's dry run names it among what would refuse the delete now.
      const deleting = runCli(['delete', DEV, '--dry-run', '--workspace', root]);
      assert.equal(deleting.status, 3, deleting.stderr);
      assert.match(deleting.stdout, expected);
    }
    const rebuilt = await rebuildCatalog(context, DEV, false);
    assert.deepEqual([rebuilt.added, rebuilt.unchanged], [[ids[0]], ids.slice(1)], 'the entry that is not one is listed again from its archive');
    assert.deepEqual(catalogOf(context).map((e) => e.verified?.ok ?? null), [null, true, null], 'the verification of the first incremental is kept');
  });

  it('a catalog entry without its profile id belongs to the catalog\'s profile: listed, built on and pruned, and written back with it (before: the next backup failed as "a bug")', async () => {
    const { root, ids, catalogFile } = await withChain();
    const catalog = JSON.parse(fs.readFileSync(catalogFile, 'utf8'));
    for (const entry of catalog.backups) delete entry.profileId;
    fs.writeFileSync(catalogFile, JSON.stringify(catalog));
    const listed = runCli(['backups', DEV, '--workspace', root, '--json']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.json?.result.backups.map((b: CatalogEntry) => b.profileId), [DEV, DEV, DEV]);
    const next = runCli(['backup', DEV, '--workspace', root, '--json']);
    assert.equal(next.status, 0, next.stderr);
    assert.deepEqual(next.json?.result.chain, ids, 'the incremental builds on the entries without a profile id');
    assert.equal(runCli(['prune', DEV, '--dry-run', '--workspace', root]).status, 0);
    assert.deepEqual(JSON.parse(fs.readFileSync(catalogFile, 'utf8')).backups.map((e: CatalogEntry) => e.profileId), [DEV, DEV, DEV, DEV]);
  });

  it('a catalog saved by an editor that writes a byte order mark ("UTF-8 with BOM") reads as it was: listed, built on, with its verification, and written back without the mark (before: unreadable, so the next backup was full and unlisted, and a rebuild lost every verification)', async () => {
    const { root, ids, catalogFile } = await withChain();
    fs.writeFileSync(catalogFile, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fs.readFileSync(catalogFile)]));
    const listed = runCli(['backups', DEV, '--workspace', root, '--json']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.json?.result.backups.map((b: CatalogEntry) => [b.id, b.verified?.ok ?? null]), [[ids[2], null], [ids[1], true], [ids[0], null]]);
    const next = runCli(['backup', DEV, '--workspace', root, '--json']);
    assert.equal(next.status, 0, next.stderr);
    assert.deepEqual(next.json?.result.chain, ids, 'the incremental builds on the chain the catalog lists');
    assert.notEqual(fs.readFileSync(catalogFile)[0], 0xef, 'written back without the mark');
  });

  it('a catalog that cannot be read stops neither the other profiles (list, verify, restore by id) nor a backup of its own, which is saved as a full backup, unlisted, until a rebuild lists it', async () => {
    const { root, context, ids, catalogFile } = await withChain();
    const prod = await createBackup(context, { profileId: 'prod_environment_001', kind: 'full' });
    await verifyBackup(context, prod.entry.id);
    const damaged = '{"version": 1, "backups": [ {"id": ';
    fs.writeFileSync(catalogFile, damaged);
    // Before: every one of these failed with the dev catalog's CATALOG_MISMATCH.
    const listed = runCli(['backups', '--workspace', root, '--json']);
    assert.equal(listed.status, 1);
    assert.deepEqual(listed.json?.result.backups.map((e: CatalogEntry) => e.id), [prod.entry.id]);
    assert.match(listed.json?.result.unreadableCatalogs[DEV], /catalog\.json cannot be read/);
    assert.match(runCli(['backups', '--workspace', root]).stdout, new RegExp(`\\nFAILED ${DEV} \\[CATALOG_MISMATCH\\]: The backup catalog .* cannot be read: .* Its backups are not listed\\.\\n  Rebuild it from the archives`));
    assert.equal(runCli(['verify', prod.entry.id, '--workspace', root]).status, 0);
    const restoreProd = runCli(['restore', prod.entry.id, '--dry-run', '--workspace', root]);
    assert.equal(restoreProd.status, 0, restoreProd.stderr);
    const scrub = runCli(['verify', '--all', '--json', '--workspace', root]);
    assert.equal(scrub.status, 1, 'a scrub that could not read a catalog fails');
    assert.deepEqual([scrub.json?.result.profiles.map((p: { profileId: string }) => p.profileId), Object.keys(scrub.json?.result.unreadableCatalogs)], [['prod_environment_001'], [DEV]]);
    assert.match(runCli(['verify', '--all', '--workspace', root]).stdout, /\nFAILED dev_environment_001 \[CATALOG_MISMATCH\]: .* Its backups were not verified\.\n[\s\S]*Verified 1 backup of 1 profile: 1 sound, 0 FAILED; 1 profile could not be verified \(see above\)\.\n$/);
    // A backup id of the profile whose catalog cannot be read is answered with that catalog's error.
    assert.match(runCli(['verify', ids[0], '--workspace', root]).stderr, /^error\[CATALOG_MISMATCH\]: The backup catalog .*dev_environment_001\/catalog\.json cannot be read/);
    // Its own backup saves the data: full (no chain without the catalog), verified by its archive, not listed.
    const backedUp = runCli(['backup', DEV, '--incremental', '--verify', '--json', '--workspace', root]);
    assert.equal(backedUp.status, 0, backedUp.stderr);
    const made = backedUp.json?.result;
    assert.deepEqual([made.kind, made.verification.ok, made.verification.recorded], ['full', true, false]);
    assert.match(made.unlisted, /catalog\.json cannot be read/);
    assert.match(made.note, /So this backup is full \(no chain can be trusted without the catalog\) and is not listed in it; its archive is kept, and rebuilding the catalog from the archives lists it/);
    assert.ok(fs.existsSync(made.archive));
    assert.equal(fs.readFileSync(catalogFile, 'utf8'), damaged, 'the catalog is left as it was, for the rebuild');
    const emergency = runCli(['backup', '--all', '--reason', 'emergency', '--json', '--workspace', root]);
    assert.equal(emergency.status, 0, emergency.stderr);
    assert.equal(emergency.json?.result.backups.length, 3);
    // Verify and restore by the archive's path; the verification says why it is not recorded.
    const verified = runCli(['verify', made.archive, '--workspace', root]);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout, /not recorded: The backup catalog .* cannot be read: .* Rebuild it from the archives: .* Then verify again to record the result\./);
    const restored = runCli(['restore', made.archive, '--workspace', root]);
    assert.equal(restored.status, 0, restored.stderr);
    assert.match(restored.stdout, /note: the safety backup \S+ is not listed in the catalog of dev_environment_001, which cannot be read; rebuilding the catalog from the archives lists it with the others: envprofiles backups dev_environment_001 --rebuild-catalog/);
    const rebuilt = await rebuildCatalog(context, DEV, false);
    assert.equal(rebuilt.entries.length, ids.length + 3, 'the three chain backups, the unlisted backup, the emergency one and the safety backup');
    assert.ok(rebuilt.entries.some((e) => e.id === made.id));
  });

  it('a catalog written by a newer version is neither read nor rewritten: each command says to update (not to rebuild), a backup saves the data as full and unlisted; a version that is no version is a catalog that cannot be read', async () => {
    const { root, ids, catalogFile } = await withChain();
    const newer = fs.readFileSync(catalogFile, 'utf8').replace('"version": 1', '"version": 2').replace('"backups": [', '"retentionLocks": ["x"], "backups": [');
    fs.writeFileSync(catalogFile, newer);
    const update = /^error\[CATALOG_MISMATCH\]: The backup catalog \S+ was written by a newer version of Environment Profiles \(catalog version 2; this version reads version 1\), so it is left as it is\.\n {2}Update Environment Profiles \(the extension and the envprofiles command\) to list, verify, restore or prune the backups of dev_environment_001\./;
    // Before, each of these read it as version 1, and prune and verify rewrote it so (dropping what they did not know).
    for (const args of [['backups', DEV], ['prune', DEV], ['verify', ids[0]], ['restore', ids[0], '--dry-run'], ['delete', DEV]]) {
      const run = runCli([...args, '--workspace', root]);
      assert.equal(run.status, 1, args.join(' '));
      assert.match(run.stderr, update, args.join(' '));
    }
    const backedUp = runCli(['backup', DEV, '--json', '--workspace', root]);
    assert.equal(backedUp.status, 0, backedUp.stderr);
    assert.equal(backedUp.json?.result.kind, 'full');
    assert.match(backedUp.json?.result.note, /was written by a newer version .* So this backup is full .* and is not listed in it; its archive is kept, and the newer version lists it with the others once it rebuilds the catalog/);
    assert.equal(fs.readFileSync(catalogFile, 'utf8'), newer, 'the newer catalog keeps every byte');
    // A restore by the archive's path works, and its safety backup, unlisted, is said to be listed by the newer version (not by a rebuild with this one).
    const restored = runCli(['restore', backedUp.json?.result.archive, '--workspace', root]);
    assert.equal(restored.status, 0, restored.stderr);
    assert.match(restored.stdout, /note: the safety backup \S+ is not listed in the catalog of dev_environment_001, which cannot be read; the newer version lists it with the others once it rebuilds the catalog\n/);
    assert.equal(fs.readFileSync(catalogFile, 'utf8'), newer);
    fs.writeFileSync(catalogFile, newer.replace('"version": 2', '"version": "1"'));
    assert.match(runCli(['backups', DEV, '--workspace', root]).stderr, /^error\[CATALOG_MISMATCH\]: The backup catalog \S+ cannot be read: it has version "1", not 1\.\n {2}Rebuild it from the archives/);
  });

  it('a catalog of another profile (its backups folder copied or renamed) is one that cannot be read: before, its backups were built on and pruned as this profile\'s', async () => {
    const { root, dir } = await withChain();
    const other = path.join(path.dirname(dir), 'test_environment_001');
    fs.cpSync(dir, other, { recursive: true });
    const listed = runCli(['backups', 'test_environment_001', '--workspace', root]);
    assert.equal(listed.status, 1);
    assert.match(listed.stderr, /^error\[CATALOG_MISMATCH\]: The backup catalog \S+test_environment_001\/catalog\.json cannot be read: it lists backups of the profile "dev_environment_001", not of test_environment_001 \(a backups folder renamed or copied\?\)\.\n {2}Rebuild it from the archives/);
    const backedUp = runCli(['backup', 'test_environment_001', '--incremental', '--json', '--workspace', root]);
    assert.equal(backedUp.status, 0, backedUp.stderr);
    assert.equal(backedUp.json?.result.kind, 'full');
    assert.equal(runCli(['prune', 'test_environment_001', '--workspace', root]).status, 1);
    assert.equal(fs.readdirSync(other).filter((name) => name.startsWith(DEV)).length, 3, 'nothing of the copy was deleted');
  });

  it('a folder or a named pipe named catalog.json is a catalog that cannot be read (before: "a bug", EISDIR; a pipe made commands wait for ever), and the rebuild moves it aside', async () => {
    const { root, context, ids, catalogFile } = await withChain();
    fs.rmSync(catalogFile);
    fs.mkdirSync(catalogFile);
    const listed = runCli(['backups', DEV, '--workspace', root]);
    assert.equal(listed.status, 1);
    assert.match(listed.stderr, /^error\[CATALOG_MISMATCH\]: The backup catalog \S+ cannot be read: it is a folder, not a file\.\n {2}Rebuild it from the archives/);
    const rebuilt = await rebuildCatalog(context, DEV, false);
    assert.ok(fs.statSync(rebuilt.unreadableCatalogMovedTo as string).isDirectory());
    assert.deepEqual(catalogOf(context).map((e) => e.id), ids);
    // A named pipe there made every command that reads the catalog wait for ever.
    fs.rmSync(catalogFile);
    spawnSync('mkfifo', [catalogFile]);
    const piped = spawnSync(process.execPath, [CLI, 'backups', DEV, '--workspace', root], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...NO_TEST_HOOKS } });
    assert.equal(piped.status, 1, piped.stderr);
    assert.match(piped.stderr, /cannot be read: it is a pipe, a socket or a device, not a file\./);
  });

  it('a catalog that lists a backup twice cannot be read (before: listed, decided by prune and verified twice); its rebuild, like that of any catalog with a bad entry, keeps what the good entries say of verification (before: every backup lost it)', async () => {
    const { root, context, ids, catalogFile } = await withChain();
    const catalog = JSON.parse(fs.readFileSync(catalogFile, 'utf8'));
    assert.equal(catalog.backups[1].verified?.ok, true, 'the first incremental is verified');
    catalog.backups.push({ ...catalog.backups[0] }, { id: 'not a backup id' });
    fs.writeFileSync(catalogFile, JSON.stringify(catalog));
    const listed = runCli(['backups', DEV, '--workspace', root]);
    assert.equal(listed.status, 1);
    assert.match(listed.stderr, new RegExp(`cannot be read: entry 5 has an id that is not a backup id`));
    catalog.backups.pop();
    fs.writeFileSync(catalogFile, JSON.stringify(catalog));
    assert.match(runCli(['backups', DEV, '--workspace', root]).stderr, new RegExp(`^error\\[CATALOG_MISMATCH\\]: The backup catalog \\S+ cannot be read: it lists ${ids[0].replace(/\./g, '\\.')} twice\\.\\n {2}Rebuild it from the archives`));
    catalog.backups.push({ id: 'not a backup id' });
    fs.writeFileSync(catalogFile, JSON.stringify(catalog));
    const rebuilt = await rebuildCatalog(context, DEV, false);
    assert.deepEqual([rebuilt.unchanged, rebuilt.added], [ids, []]);
    assert.deepEqual(catalogOf(context).map((e) => e.verified?.ok ?? null), [null, true, null], 'the verification of the first incremental is kept');
  });

  it('an unreadable catalog is moved aside (kept), and its backups listed again', async () => {
    const { context, dir, ids, catalogFile } = await withChain();
    fs.writeFileSync(catalogFile, '{"version": 1, "backups": [ {"id": ');
    const result = await rebuildCatalog(context, DEV, false);
    assert.ok(result.unreadableCatalogMovedTo?.startsWith(path.join(dir, 'catalog.json.unreadable-')));
    assert.equal(fs.readFileSync(result.unreadableCatalogMovedTo as string, 'utf8'), '{"version": 1, "backups": [ {"id": ');
    assert.deepEqual(catalogOf(context).map((e) => e.id), ids);
  });

  it('keeps what is still true (verification), drops entries whose archive is gone, resets a replaced archive, skips what is not a backup of this profile, reports broken chains', async () => {
    const { context, dir, ids, catalogFile } = await withChain();
    const [full, first, second] = ids;
    await verifyBackup(context, second);
    const verifiedBefore = catalogOf(context).find((e) => e.id === first)?.verified;
    assert.ok(verifiedBefore?.ok);
    // Another profile's backup, a renamed archive, a file that is no ZIP, a hostile archive.
    const other = await createBackup(context, { profileId: 'test_environment_001' });
    fs.copyFileSync(other.archive, path.join(dir, path.basename(other.archive)));
    fs.copyFileSync(path.join(dir, `${second}.zip`), path.join(dir, 'renamed.zip'));
    fs.writeFileSync(path.join(dir, 'notes.zip'), 'not a zip at all');
    fs.renameSync(craftArchive(path.join(dir, `${second}.zip`), 'dotdot'), path.join(dir, 'hostile.zip'));
    // The second incremental's archive is replaced by other bytes under its name; the full one is deleted.
    const replacement = craftArchive(path.join(dir, `${second}.zip`), 'flip');
    fs.renameSync(replacement, path.join(dir, `${second}.zip`));
    // The full's archive survives only under another name; the first incremental's also has an identical copy.
    fs.copyFileSync(path.join(dir, `${full}.zip`), path.join(dir, 'moved.zip'));
    fs.copyFileSync(path.join(dir, `${first}.zip`), path.join(dir, 'copy.zip'));
    fs.rmSync(path.join(dir, `${full}.zip`));
    const catalogBefore = fs.readFileSync(catalogFile, 'utf8');

    const dry = await rebuildCatalog(context, DEV, true);
    assert.equal(fs.readFileSync(catalogFile, 'utf8'), catalogBefore, 'a dry run writes nothing');
    const result = await rebuildCatalog(context, DEV, false);
    assert.deepEqual({ ...dry, dryRun: false }, result, 'the dry run tells what the rebuild does');
    assert.deepEqual(result.dropped, [full]);
    assert.deepEqual(result.unchanged, [first]);
    assert.deepEqual(result.added, []);
    const skipped = Object.fromEntries(result.skipped.map((s) => [s.file, s.reason]));
    assert.match(skipped[path.basename(other.archive)], /a backup of "test_environment_001", not of "dev_environment_001"/);
    assert.match(skipped['moved.zip'], new RegExp(`its manifest names it ${full}; rename it to ${full}\\.zip to list it`));
    assert.match(skipped['copy.zip'], new RegExp(`it is an identical copy of ${first}\\.zip, which is in this folder; remove it, or move it out of the folder`));
    // renamed.zip is the original of the second incremental, whose archive was replaced: which is sound only a verify tells.
    assert.match(skipped['renamed.zip'], new RegExp(`it holds the backup ${second} too, but is not the same file as ${second}\\.zip in this folder; verify both .*, keep the sound one as ${second}\\.zip, and move the other out of the folder`));
    assert.match(skipped['notes.zip'], /is not a ZIP archive, so not a backup/);
    assert.match(skipped['hostile.zip'], /\.\./);
    assert.ok(result.brokenChains.includes(`${first} needs ${full}, which is missing`), result.brokenChains.join('; '));
    const after = catalogOf(context);
    assert.deepEqual(after.map((e) => e.id), [first, second]);
    assert.deepEqual(after.find((e) => e.id === first)?.verified, verifiedBefore, 'the verification of an unchanged archive is kept');
    assert.deepEqual(result.corrected, [second]);
    assert.equal(after.find((e) => e.id === second)?.verified, null, 'a replaced archive is no longer the one that was verified');
    assert.ok(fs.existsSync(path.join(dir, 'notes.zip')) && fs.existsSync(path.join(dir, 'hostile.zip')), 'skipped files are left where they are');
  });

  it('an archive removed while the rebuild reads it (a prune of a workspace that shares the folder) is dropped, not a failure (before: "a bug", ENOENT); a link that leads nowhere is still skipped, with its reason', async () => {
    const { context, dir, ids } = await withChain();
    const second = ids[2];
    fs.symlinkSync(path.join(dir, 'nowhere.zip'), path.join(dir, 'dangling.zip'));
    let opened = 0;
    const removing = { ...context, onStep: (step: string) => {
      // The second incremental's archive (its name sorts last) goes just after the rebuild opened it.
      if (step === 'catalog-rebuild-archive-opened' && ++opened === 3) fs.rmSync(path.join(dir, `${second}.zip`));
    } };
    const result = await rebuildCatalog(removing, DEV, false);
    assert.equal(fs.existsSync(path.join(dir, `${second}.zip`)), false, 'the archive was removed during the rebuild');
    assert.deepEqual(result.dropped, [second]);
    assert.deepEqual(result.entries.map((e) => e.id), ids.slice(0, 2));
    assert.deepEqual(result.skipped.map((s) => s.file), ['dangling.zip']);
    assert.deepEqual(catalogOf(context).map((e) => e.id), ids.slice(0, 2));
  });
});
