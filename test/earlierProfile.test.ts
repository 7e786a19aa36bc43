import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CatalogEntry } from '../src/core/backup/backupCatalog';
import { createBackup } from '../src/core/backup/backupCreation';
import { backupsOfEarlierProfile, generationsOf } from '../src/core/backup/earlierProfile';
import { verifyBackup } from '../src/core/backup/backupVerification';
import { deleteProfile } from '../src/core/profileDeletion';
import type { WorkspaceContext } from '../src/core/workspaceContext';
import { runCli } from './support/cliRunner';
import { demoWorkspace, tempDir } from './support/workspaces';

const DEV = 'dev_environment_001';

/**
 * dev with keep rules `last: 1`, three full backups of its data (the middle one verified), then deleted:
 * its backups stay under its id, as delete keeps them.
 */
async function deletedDevWithBackups(): Promise<{ root: string; context: WorkspaceContext; earlier: string[] }> {
  const { root, context } = await demoWorkspace();
  const file = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('    retention_days: 30\n', '    keep:\n      last: 1\n'));
  const earlier: string[] = [];
  for (let i = 0; i < 3; i++) earlier.push((await createBackup(context, { profileId: DEV, kind: 'full' })).entry.id);
  await verifyBackup(context, earlier[1]);
  await verifyBackup(context, earlier[2]);
  await deleteProfile(context, { id: DEV });
  // Delete needed the newest verified; afterwards only the middle one is left verified, so that prune's
  // "newest verified" and "last 1" rules pick different backups.
  const catalogFile = path.join(root, `.envprofiles/backups/${DEV}/catalog.json`);
  const catalog = JSON.parse(fs.readFileSync(catalogFile, 'utf8'));
  for (const entry of catalog.backups) if (entry.id === earlier[2]) entry.verified = null;
  fs.writeFileSync(catalogFile, JSON.stringify(catalog));
  return { root, context, earlier };
}

describe('a new profile that takes the id of a deleted one', function () {
  this.timeout(120_000);

  it('is told about the earlier backups; its first backup is full and its chain never builds on them (before: an incremental on the deleted profile\'s full)', async () => {
    const { root, earlier } = await deletedDevWithBackups();
    const created = runCli(['create', DEV, '--type', 'DEVELOPMENT', '--init-db', 'empty', '--workspace', root, '--json']);
    assert.equal(created.status, 0, created.stderr);
    assert.equal(created.json?.result.notes.length, 1);
    assert.match(created.json?.result.notes[0], new RegExp(`^3 backups of an earlier profile with the id ${DEV} \\(deleted; the newest from `));
    assert.match(runCli(['backups', DEV, '--workspace', root]).stdout, new RegExp(`\\(earlier profile\\)[^]*\\nnote: 3 of the backups listed for ${DEV} \\(marked "earlier profile"\\) were made before the current ${DEV} was created: they hold the data of an earlier profile with this id, which was deleted\\.\\n`));

    const first = runCli(['backup', DEV, '--workspace', root, '--json']);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.json?.result.kind, 'full');
    assert.equal(first.json?.result.parent, null);
    assert.match(first.json?.result.note, /are of an earlier profile with this id .*, so this one is full/);
    const second = runCli(['backup', DEV, '--workspace', root, '--json']);
    assert.equal(second.json?.result.kind, 'incremental');
    assert.equal(second.json?.result.parent, first.json?.result.id);

    const listed = runCli(['backups', DEV, '--workspace', root, '--json']);
    assert.deepEqual([...listed.json?.result.earlierProfile[DEV]].sort(), [...earlier].sort());
    // The earlier profile's verified backup is not this profile's last verified backup.
    assert.equal(runCli(['switch', DEV, '--workspace', root]).status, 0);
    assert.equal(runCli(['status', '--workspace', root, '--json']).json?.result.activeBackups.lastVerified, undefined);
    assert.deepEqual(listed.json?.result.deletedProfiles, []);
  });

  it('prune decides the earlier backups by the deleted profile\'s own rules and keeps its newest verified one; the new rules never sweep them away', async () => {
    const { root, earlier } = await deletedDevWithBackups();
    assert.equal(runCli(['create', DEV, '--type', 'DEVELOPMENT', '--init-db', 'empty', '--workspace', root]).status, 0);
    // The new profile keeps only its last backup; before, that rule counted the earlier ones too and
    // deleted every one of them, the deleted profile's only verified backup included.
    const file = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    fs.writeFileSync(file, `${fs.readFileSync(file, 'utf8').replace(/\n  backup_schedule:[\s\S]*$/, '\n')}  backup_schedule:\n    keep:\n      last: 1\n`);
    const ours = [runCli(['backup', DEV, '--full', '--workspace', root, '--json']), runCli(['backup', DEV, '--full', '--workspace', root, '--json'])].map((r) => r.json?.result.id as string);
    const pruned = runCli(['prune', DEV, '--workspace', root, '--json']);
    assert.equal(pruned.status, 0, pruned.stderr);
    const decisions = Object.fromEntries(pruned.json?.result.decisions.map((d: { id: string; action: string; reasons: string[] }) => [d.id, `${d.action}: ${d.reasons.join('; ')}`]));
    // The new profile's backups were never verified (the earlier one's were): prune verified its newest first.
    assert.deepEqual(pruned.json?.result.verifiedFirst, [{ id: ours[1], sound: true, why: 'none had been verified' }]);
    assert.deepEqual(decisions, {
      [ours[1]]: 'keep: last 1/1; newest verified backup (never deleted)',
      [ours[0]]: 'delete: no rule keeps it',
      [earlier[2]]: 'keep: earlier profile (created 2025-08-08T20:00:00Z): last 1/1',
      [earlier[1]]: 'keep: earlier profile (created 2025-08-08T20:00:00Z): newest verified backup (never deleted)',
      [earlier[0]]: 'delete: earlier profile (created 2025-08-08T20:00:00Z): no rule keeps it',
    });
    assert.equal(pruned.json?.result.earlierProfileRulesFrom, earlier[2]);
    assert.match(runCli(['prune', DEV, '--dry-run', '--workspace', root]).stdout, /are of an earlier profile with the id dev_environment_001, which was deleted: they are pruned by that profile's keep rules/);
  });

  it('each earlier profile under a reused id is pruned apart, by its own rules, keeping its own newest verified backup (before: the two earlier profiles were one group)', async () => {
    const { root, context, earlier } = await deletedDevWithBackups();
    const file = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    const keepLastOne = (): void => fs.writeFileSync(file, `${fs.readFileSync(file, 'utf8').replace(/\n  backup_schedule:[\s\S]*$/, '\n')}  backup_schedule:\n    keep:\n      last: 1\n`);
    const fullBackup = (): string => runCli(['backup', DEV, '--full', '--workspace', root, '--json']).json?.result.id as string;
    // The second profile with the id: three backups, the middle one verified, then deleted.
    assert.equal(runCli(['create', DEV, '--type', 'DEVELOPMENT', '--init-db', 'empty', '--workspace', root]).status, 0);
    keepLastOne();
    const second = [fullBackup(), fullBackup(), fullBackup()];
    await verifyBackup(context, second[1]);
    await verifyBackup(context, second[2]);
    assert.equal(runCli(['delete', DEV, '--workspace', root]).status, 0);
    const catalogFile = path.join(root, `.envprofiles/backups/${DEV}/catalog.json`);
    const catalog = JSON.parse(fs.readFileSync(catalogFile, 'utf8'));
    for (const entry of catalog.backups) if (entry.id === second[2]) entry.verified = null;
    fs.writeFileSync(catalogFile, JSON.stringify(catalog));
    const secondCreated: string = catalog.backups.find((e: CatalogEntry) => e.id === second[0]).profileCreatedAt;
    assert.ok(secondCreated > '2025-08-08T20:00:00Z', 'each backup records its profile\'s created_at');

    const decide = (): Record<string, string> => {
      const pruned = runCli(['prune', DEV, '--dry-run', '--workspace', root, '--json']);
      assert.equal(pruned.status, 0, pruned.stderr);
      return Object.fromEntries(pruned.json?.result.decisions.map((d: { id: string; action: string; reasons: string[] }) => [d.id, `${d.action}: ${d.reasons.join('; ')}`]));
    };
    const firstProfile = {
      [earlier[2]]: 'keep: earlier profile (created 2025-08-08T20:00:00Z): last 1/1',
      [earlier[1]]: 'keep: earlier profile (created 2025-08-08T20:00:00Z): newest verified backup (never deleted)',
      [earlier[0]]: 'delete: earlier profile (created 2025-08-08T20:00:00Z): no rule keeps it',
    };
    // Both deleted: the newer one's backups by the rules in its newest backup, the older one's apart.
    assert.deepEqual(decide(), {
      ...firstProfile,
      [second[2]]: 'keep: last 1/1',
      [second[1]]: 'keep: newest verified backup (never deleted)',
      [second[0]]: 'delete: no rule keeps it',
    });
    // A third profile takes the id: the two earlier ones are still decided apart.
    assert.equal(runCli(['create', DEV, '--type', 'DEVELOPMENT', '--init-db', 'empty', '--workspace', root]).status, 0);
    keepLastOne();
    const third = [fullBackup(), fullBackup()];
    const decisions = decide();
    assert.deepEqual(decisions, {
      ...firstProfile,
      [second[2]]: `keep: earlier profile (created ${secondCreated}): last 1/1`,
      [second[1]]: `keep: earlier profile (created ${secondCreated}): newest verified backup (never deleted)`,
      [second[0]]: `delete: earlier profile (created ${secondCreated}): no rule keeps it`,
      [third[1]]: 'keep: last 1/1',
      [third[0]]: 'delete: no rule keeps it',
    });
    const text = runCli(['prune', DEV, '--dry-run', '--workspace', root]).stdout;
    assert.match(text, new RegExp(`3 backups \\(marked "earlier profile \\(created ${secondCreated.replace(/\./g, '\\.')}\\)"\\) are of an earlier profile with the id ${DEV}, which was deleted: they are pruned by that profile's keep rules, taken from its newest backup ${second[2].replace(/\./g, '\\.')}`));
    assert.match(text, /3 backups \(marked "earlier profile \(created 2025-08-08T20:00:00Z\)"\)/);
  });

  it('restoring an earlier backup over it says whose data came back; clone and restore --as-new into the id are told too', async () => {
    const { root, earlier } = await deletedDevWithBackups();
    assert.equal(runCli(['clone', 'test_environment_001', DEV, '--workspace', root, '--json']).json?.result.notes.length, 1);
    const restored = runCli(['restore', earlier[1], '--workspace', root, '--json']);
    assert.equal(restored.status, 0, restored.stderr);
    const notes: string[] = restored.json?.result.notes;
    assert.ok(notes.some((n) => new RegExp(`^this backup was made of an earlier profile with the id ${DEV}, before this one was created .*; the safety backup ${DEV}\\.\\S+ holds what was replaced$`).test(n)), notes.join('\n'));

    // A second deleted id (test), taken by restore --as-new.
    const testBackup = runCli(['backup', 'test_environment_001', '--full', '--workspace', root, '--json']).json?.result.id;
    assert.equal(runCli(['verify', testBackup, '--workspace', root]).status, 0);
    assert.equal(runCli(['delete', 'test_environment_001', '--workspace', root]).status, 0);
    const asNew = runCli(['restore', earlier[1], '--as-new', 'test_environment_001', '--workspace', root, '--json']);
    assert.equal(asNew.status, 0, asNew.stderr);
    assert.equal(asNew.json?.result.notes[0], 'restored as the new profile test_environment_001');
    assert.match(asNew.json?.result.notes[1], /^1 backup of an earlier profile with the id test_environment_001 \(deleted; /);
    assert.equal(runCli(['restore', earlier[1], '--as-new', 'dev_copy_001', '--workspace', root, '--json']).json?.result.notes.length, 1, 'no backups under that id: nothing more to tell');
  });

  it('without a readable copy of the profile file in the backups (its database was in a folder no longer allowed), a deleted profile\'s prune is refused and an earlier profile\'s backups are all kept', async () => {
    const { root, context } = await demoWorkspace();
    const outside = tempDir('envprofiles-allowed-');
    const config = path.join(root, '.envprofiles/config.yaml');
    const allowing = fs.readFileSync(config, 'utf8');
    fs.writeFileSync(config, allowing.replace('allowed_directories: []', `allowed_directories: [${JSON.stringify(outside)}]`));
    fs.copyFileSync(path.join(root, 'data/dev/market_data.sqlite3'), path.join(outside, 'market_data.sqlite3'));
    const file = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"data/dev/market_data.sqlite3"', JSON.stringify(path.join(outside, 'market_data.sqlite3'))).replace('    retention_days: 30\n', '    keep:\n      last: 1\n'));
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push((await createBackup(context, { profileId: DEV, kind: 'full' })).entry.id);
    await verifyBackup(context, ids[1]);
    await deleteProfile(context, { id: DEV });
    fs.writeFileSync(config, allowing);
    const refused = runCli(['prune', DEV, '--workspace', root]);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, new RegExp(`error\\[PROFILE_NOT_FOUND\\]: No profile "${DEV}" in \\.envprofiles/profiles, and its newest backup ${ids[1].replace(/\./g, '\\.')} holds no readable copy of it`));
    assert.equal(runCli(['create', DEV, '--type', 'DEVELOPMENT', '--init-db', 'empty', '--workspace', root]).status, 0);
    const pruned = runCli(['prune', DEV, '--workspace', root, '--json']);
    assert.equal(pruned.status, 0, pruned.stderr);
    assert.deepEqual(pruned.json?.result.decisions.map((d: { id: string; action: string; reasons: string[] }) => `${d.id} ${d.action}: ${d.reasons[0]}`), [
      `${ids[1]} keep: earlier profile (created 2025-08-08T20:00:00Z): no keep rules: everything is kept`,
      `${ids[0]} keep: earlier profile (created 2025-08-08T20:00:00Z): no keep rules: everything is kept`,
    ]);
    fs.rmSync(outside, { recursive: true, force: true });
  });

  it('splits earlier backups into their profiles by the created_at each records; older backups without it go to the profile created before them', () => {
    const entry = (id: string, createdAt: string, profileCreatedAt?: string): CatalogEntry => ({ id, createdAt, ...(profileCreatedAt ? { profileCreatedAt } : {}) }) as CatalogEntry;
    const backups = [
      entry('a', '2026-01-01T00:00:00Z'),
      entry('b', '2026-02-01T00:00:00Z', '2026-01-15T00:00:00Z'),
      entry('c', '2026-02-10T00:00:00Z'),
      entry('d', '2026-03-05T00:00:00Z', '2026-03-01T00:00:00Z'),
      entry('e', '2026-03-09T00:00:00Z'),
    ];
    assert.deepEqual(generationsOf(backups).map((g) => [g.createdAt, g.backups.map((b) => b.id)]), [
      [undefined, ['a']],
      ['2026-01-15T00:00:00Z', ['b', 'c']],
      ['2026-03-01T00:00:00Z', ['d', 'e']],
    ]);
    assert.deepEqual(generationsOf(backups.filter((b) => !b.profileCreatedAt)).map((g) => g.backups.map((b) => b.id)), [['a', 'c', 'e']], 'none recorded: one group, as before');
  });

  it('tells nothing by a created_at that is missing or later than now (a clock that was ahead)', () => {
    const entries = [{ createdAt: '2026-01-01T00:00:00.000Z' }, { createdAt: '2026-03-01T00:00:00.000Z' }] as CatalogEntry[];
    const now = new Date('2026-06-01T00:00:00Z');
    assert.deepEqual(backupsOfEarlierProfile(entries, { createdAt: '2026-02-01T00:00:00Z' }, now), [entries[0]]);
    assert.deepEqual(backupsOfEarlierProfile(entries, { createdAt: undefined }, now), []);
    assert.deepEqual(backupsOfEarlierProfile(entries, { createdAt: '2026-07-01T00:00:00Z' }, now), []);
    assert.deepEqual(backupsOfEarlierProfile(entries, { createdAt: '2025-07-01T00:00:00+09:00' }, now), []);
  });
});
