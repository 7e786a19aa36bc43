import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { createBackup } from '../src/core/backup/backupCreation';
import type { BackupResult } from '../src/core/backup/backupRequest';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { verifyBackup } from '../src/core/backup/backupVerification';
import { EnvProfilesError } from '../src/core/errors';
import { runCli } from './support/cliRunner';
import { craftArchive } from './support/testHelpers';
import { FUZZED_DATABASES as DATABASES, FUZZED_PROFILE as DEV, fuzzedBackups, KEPT_AS_FOUND, notCompared } from './support/fuzzedBackups';
import { assertSameTree, demoWorkspace, engine, listFilesInProfile, REPO_ROOT, snapshotTree, tempDir, temporaryFiles } from './support/workspaces';

/** The codes that judge an archive, as verify does. */
const ARCHIVE_CODES = ['ARCHIVE_INVALID', 'ARCHIVE_HOSTILE', 'VERIFY_FAILED'];
const RUNS = Number(process.env.ENVPROFILES_LIE_RUNS ?? 60);
const SEED = Number(process.env.ENVPROFILES_LIE_SEED ?? 20261205);

/** The databases the profile file of `id` lists: logical name to relative path. */
function databasesListedBy(root: string, id: string): Record<string, string> {
  const document = YAML.parse(fs.readFileSync(path.join(root, '.envprofiles', 'profiles', `${id}.yaml`), 'utf8')) as { profile: { databases: Record<string, string> } };
  return document.profile.databases;
}

/** The databases (by logical name) and files of files: (by path) a backup's manifest says it holds. */
function heldBy(archive: string): { databases: Set<string>; files: Set<string> } {
  const manifest = JSON.parse(spawnSync('unzip', ['-p', archive, 'manifest.json'], { encoding: 'utf8' }).stdout) as { files: { role: string; logicalName?: string; originalPath: string }[] };
  return {
    databases: new Set(manifest.files.filter((f) => f.role === 'database').map((f) => f.logicalName as string)),
    files: new Set(manifest.files.filter((f) => f.role === 'file').map((f) => f.originalPath)),
  };
}

interface Lie {
  file: string;
  how: string;
}

function liesAbout(archive: string, seed: number, count: number): Lie[] {
  const run = spawnSync('python3', [path.join(REPO_ROOT, 'test/support/manifestLies.py'), archive, tempDir('lies-'), String(seed), String(count)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Lie);
}

describe('manifests that lie plausibly, at random (seeded: ENVPROFILES_LIE_SEED, ENVPROFILES_LIE_RUNS)', () => {
  it(`a copy of a full, an incremental or an emergency backup (a damaged database kept as found) whose manifest has a value of the right kind but false is refused with a typed error and nothing written, or restores (as a new profile, or over the profile) exactly what it says the backup holds, and leaves the rest with a note; what verify finds sound is not refused for the archive's sake (${RUNS} copies)`, async function () {
    this.timeout(900_000);
    const { root, context, full, incremental, emergency, databasesOf: expected, filesOf } = await fuzzedBackups(true);
    assert.ok(emergency);
    const third = Math.floor(RUNS / 3);
    const lies = [
      ...liesAbout(full.archive, SEED, RUNS - 2 * third).map((lie) => ({ ...lie, source: full })),
      ...liesAbout(incremental.archive, SEED + 1, third).map((lie) => ({ ...lie, source: incremental })),
      // One that left a damaged database out and kept its file as found: no lie makes a restore write that file.
      ...liesAbout(emergency.archive, SEED + 2, third).map((lie) => ({ ...lie, source: emergency })),
    ];
    const failures: string[] = [];
    const outcomes = { refused: 0, restored: 0 };
    for (const [run, { file, how, source }] of lies.entries()) {
      const label = `copy ${run} (seed ${SEED}), the ${source.entry.kind} whose manifest says ${how} (${file})`;
      try {
        const verdict = await verifyBackup(context, file).catch((error: unknown) => error);
        if (verdict instanceof Error) assert.ok(verdict instanceof EnvProfilesError, `verify threw an untyped error: ${verdict.stack}`);
        const sound = !(verdict instanceof Error) && (verdict as { ok: boolean }).ok;
        const before = snapshotTree(root, notCompared);
        const assertUntouched = (rel: string, noted: boolean): void => {
          assert.equal(snapshotTree(root, notCompared)[rel], before[rel], `${rel}, which the backup does not hold, changed`);
          assert.ok(noted, `no note says that ${rel} is not in the backup`);
        };
        const asNew = run % 3 === 2 ? undefined : `lied_${run}`;
        const restored = await restoreBackup(context, { reference: file, asNew }).catch((error: unknown) => error);
        if (restored instanceof Error) {
          assert.ok(restored instanceof EnvProfilesError, `restore threw an untyped error: ${restored.stack}`);
          // What verify judges (the archive) must not refuse a restore it found sound; the workspace may (TARGET_EXISTS).
          assert.ok(!sound || !ARCHIVE_CODES.includes(restored.code), `verify found it sound, restore refused it: ${restored.code}: ${restored.message}`);
          assertSameTree(snapshotTree(root, notCompared), before, 'a refused restore wrote');
          outcomes.refused++;
        } else {
          // The databases the profile (new, or restored over) now lists hold the backed-up bytes: as a new
          // profile, whatever names the manifest gave them; over the profile, at the paths its file says.
          const listed = databasesListedBy(root, asNew ?? DEV);
          const wanted = expected.get(source.archive) ?? new Map<string, Buffer>();
          if (asNew) {
            const contents = Object.values(listed).map((rel) => fs.readFileSync(path.join(root, rel)));
            assert.equal(contents.length, wanted.size, `the new profile lists ${JSON.stringify(listed)}`);
            for (const [name, content] of wanted) assert.ok(contents.some((c) => c.equals(content)), `${name} is in no database of the new profile ${JSON.stringify(listed)}`);
          } else {
            // Over the profile, what the backup holds (by its manifest) goes where the profile says; what
            // the profile lists and the backup does not hold is left as it was, and a note says so.
            const held = heldBy(file);
            const notes = (restored as { notes: string[] }).notes;
            for (const [name, content] of wanted) {
              const rel = listed[name];
              assert.ok(rel !== undefined, `the profile no longer lists ${name}`);
              // A record the manifest gives a name the profile does not list, at this database's path, is
              // this database renamed (renamedDatabases): restored under its name now, and a note says so.
              const renamed = notes.some((n) => n.includes(` of this backup is ${name} in the profile now (the same file, `));
              if (held.databases.has(name) || renamed) assert.ok(fs.readFileSync(path.join(root, rel)).equals(content), `${name}, at ${rel} by the profile file, is not the backed-up database${renamed ? ' (restored as renamed)' : ''} (verify: ${JSON.stringify(verdict instanceof Error ? verdict.message : verdict).slice(0, 300)})`);
              else assertUntouched(rel, notes.some((n) => n.startsWith(`${name} (${rel}) is not in this backup`)));
            }
            // What the emergency backup kept as found is not a database it holds: left as it was.
            if (source === emergency) assertUntouched(listed[KEPT_AS_FOUND], notes.some((n) => n.startsWith(`${KEPT_AS_FOUND} (${listed[KEPT_AS_FOUND]}) is not in this backup`)));
            for (const [name, content] of filesOf.get(source.archive) ?? []) {
              if (held.files.has(name)) assert.ok(fs.readFileSync(path.join(root, name)).equals(content), `${name} restored to other bytes than were backed up`);
              else assertUntouched(name, notes.some((n) => n.startsWith(`${name} (in files:) is not in this backup`)));
            }
          }
          const changed = Object.keys(snapshotTree(root, notCompared)).filter((rel) => !(rel in before) && !rel.startsWith(path.join('data', asNew ?? 'dev')) && rel !== path.join('.envprofiles', 'profiles', `${asNew}.yaml`));
          assert.deepEqual(changed, [], 'a restore wrote outside its profile');
          if (asNew) {
            fs.rmSync(path.join(root, 'data', asNew), { recursive: true, force: true });
            fs.rmSync(path.join(root, '.envprofiles', 'profiles', `${asNew}.yaml`), { force: true });
          }
          outcomes.restored++;
        }
      } catch (error) {
        failures.push(`${label}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    assert.deepEqual(failures, []);
    assert.deepEqual(temporaryFiles(root), [], 'no temporary file is left');
    // Most lies are caught; the others change what no restore uses (a reason, a tool version, a mode a restore keeps the target's for).
    assert.ok(outcomes.refused >= lies.length * 0.5, JSON.stringify(outcomes));
  });
});

describe('a backups folder where one archive lies, its catalog lost and rebuilt, then pruned', () => {
  const COPIES = Math.max(2, Math.ceil(RUNS / 4));
  it(`prune (keep: {last: 1}) keeps a backup verified to restore exactly what was backed up, or deletes nothing (${COPIES} copies)`, async function () {
    this.timeout(900_000);
    const { root, context, full: olderFull, incremental: olderIncremental, databasesOf } = await fuzzedBackups();
    const reference = new Map([[olderFull.entry.id, databasesOf.get(olderFull.archive)], [olderIncremental.entry.id, databasesOf.get(olderIncremental.archive)]]);
    // A newer chain, which keep: {last: 1} keeps, and which the lies are about: the older one is what
    // prune would delete, the only sound backups left when the newer ones do not restore.
    const newer = async (kind: 'full' | 'incremental', change: string): Promise<BackupResult> => {
      const connection = (await engine()).open(path.join(root, 'data/dev/market_data.sqlite3'), { readOnly: false });
      connection.exec(change);
      connection.close();
      const backup = await createBackup(context, { profileId: DEV, kind });
      await restoreBackup(context, { reference: backup.archive, asNew: `newer_${kind}` });
      reference.set(backup.entry.id, new Map(DATABASES.map((name) => [name, fs.readFileSync(path.join(root, 'data', `newer_${kind}`, `${name}.sqlite3`))])));
      return backup;
    };
    const full = await newer('full', 'UPDATE price_data SET close = close + 1 WHERE rowid % 5 = 0');
    const incremental = await newer('incremental', 'UPDATE price_data SET close = close - 2 WHERE rowid % 7 = 0');
    assert.deepEqual(incremental.entry.chain, [full.entry.id]);
    const lies = [...liesAbout(full.archive, SEED + 2, Math.ceil(COPIES / 2)).map((lie) => ({ ...lie, source: full })), ...liesAbout(incremental.archive, SEED + 3, Math.floor(COPIES / 2)).map((lie) => ({ ...lie, source: incremental }))];
    const failures: string[] = [];
    const outcomes = { refused: 0, keptAll: 0, pruned: 0 };
    for (const [run, { file, how, source }] of lies.entries()) {
      const copy = tempDir('lying-folder-');
      try {
        fs.cpSync(root, copy, { recursive: true });
        const folder = path.join(copy, '.envprofiles', 'backups', DEV);
        fs.copyFileSync(file, path.join(folder, path.basename(source.archive)));
        fs.rmSync(path.join(folder, 'catalog.json'));
        const profileFile = path.join(copy, '.envprofiles', 'profiles', `${DEV}.yaml`);
        fs.writeFileSync(profileFile, fs.readFileSync(profileFile, 'utf8').replace('    retention_days: 30\n', '    keep:\n      last: 1\n'));
        const rebuilt = runCli(['backups', DEV, '--rebuild-catalog', '--workspace', copy]);
        assert.equal(rebuilt.status, 0, rebuilt.stderr);
        const archives = (): [string, string][] => Object.entries(snapshotTree(folder)).filter(([name]) => name.endsWith('.zip'));
        const before = archives();
        const pruned = runCli(['prune', DEV, '--workspace', copy, '--json']);
        if (pruned.status !== 0) {
          assert.match(pruned.stderr, /^error\[[A-Z_]+\]: /, pruned.stderr);
          assert.doesNotMatch(pruned.stderr, /\n\s+at /, 'no stack trace');
          assert.deepEqual(archives(), before, 'a refused prune deleted or changed an archive');
          outcomes.refused++;
          continue;
        }
        if ((pruned.json?.result.deleted as string[]).length === 0) {
          assert.deepEqual(archives(), before, 'a prune that deleted nothing changed an archive');
          outcomes.keptAll++;
          continue;
        }
        const catalog = (JSON.parse(fs.readFileSync(path.join(folder, 'catalog.json'), 'utf8')) as { backups: { id: string; createdAt: string; verified: { ok: boolean } | null }[] }).backups;
        const verified = catalog.filter((b) => b.verified?.ok).sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
        assert.ok(verified, `prune kept no verified backup: ${JSON.stringify(catalog.map((b) => [b.id, b.verified]))}`);
        const restored = runCli(['restore', verified.id, '--as-new', 'kept', '--workspace', copy]);
        assert.equal(restored.status, 0, restored.stderr);
        const contents = Object.values(databasesListedBy(copy, 'kept')).map((rel) => fs.readFileSync(path.join(copy, rel)));
        for (const [name, content] of reference.get(verified.id) ?? new Map<string, Buffer>()) assert.ok(contents.some((c) => c.equals(content)), `${name} of ${verified.id}, the backup prune kept as verified, did not restore as backed up`);
        outcomes.pruned++;
      } catch (error) {
        failures.push(`copy ${run} (seed ${SEED}), the ${source.entry.kind} whose manifest says ${how}: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        fs.rmSync(copy, { recursive: true, force: true });
      }
    }
    assert.deepEqual(failures, []);
    assert.equal(outcomes.refused + outcomes.keptAll + outcomes.pruned, lies.length, JSON.stringify(outcomes));
    assert.ok(outcomes.pruned > 0, `no copy was pruned at all: ${JSON.stringify(outcomes)}`);
  });
});

describe('what a backup holds less than the profile lists', () => {
  it('a file added to files: after the backup is left as it is by a restore over the profile, and a note says so (before: without a word, as if restored)', async () => {
    const { root } = await demoWorkspace();
    fs.mkdirSync(path.join(root, 'config'));
    fs.writeFileSync(path.join(root, 'config/app.json'), '{"backed": "up"}');
    listFilesInProfile(root, DEV, ['config/app.json']);
    const backup = runCli(['backup', DEV, '--workspace', root, '--json']);
    assert.equal(backup.status, 0, backup.stderr);
    const profileFile = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    fs.writeFileSync(profileFile, fs.readFileSync(profileFile, 'utf8').replace('    - config/app.json\n', '    - config/app.json\n    - config/later.json\n'));
    fs.writeFileSync(path.join(root, 'config/later.json'), '{"added": "later"}');
    fs.writeFileSync(path.join(root, 'config/app.json'), '{"changed": "since"}');
    const note = (verb: string): string => `config/later.json (in files:) is not in this backup (it was added to files: later, or did not exist when the backup was taken); it ${verb} left as it is`;
    const planned = runCli(['restore', backup.json?.result.id as string, '--dry-run', '--workspace', root, '--json']);
    assert.equal(planned.status, 0, planned.stderr);
    assert.ok((planned.json?.result.notes as string[]).includes(note('would be')), planned.stdout);
    const restored = runCli(['restore', backup.json?.result.id as string, '--workspace', root]);
    assert.equal(restored.status, 0, restored.stderr);
    assert.ok(restored.stdout.includes(`note: ${note('was')}`), restored.stdout);
    assert.equal(fs.readFileSync(path.join(root, 'config/app.json'), 'utf8'), '{"backed": "up"}');
    assert.equal(fs.readFileSync(path.join(root, 'config/later.json'), 'utf8'), '{"added": "later"}');
  });

  it('a database the manifest names otherwise, at its path spelt with a trailing slash, is restored as renamed, with that note only (before: also "was at data/dev/settings.sqlite3/ when it was backed up", a move that was none; found by seed 61262)', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    const crafted = craftArchive(backup.archive, 'renamed-path-spelt-otherwise');
    await restoreBackup(context, { reference: backup.archive, asNew: 'reference' });
    const connection = (await engine()).open(path.join(root, 'data/dev/settings.sqlite3'), { readOnly: false });
    connection.exec('CREATE TABLE written_since (x); INSERT INTO written_since VALUES (1)');
    connection.close();
    const restored = runCli(['restore', crafted, '--workspace', root, '--json']);
    assert.equal(restored.status, 0, restored.stderr);
    const aboutSettings = (restored.json?.result.notes as string[]).filter((n) => n.includes('settings'));
    assert.deepEqual(aboutSettings, ['settings0 of this backup is settings in the profile now (the same file, data/dev/settings.sqlite3/), so it was restored as settings'], restored.stdout);
    assert.ok(fs.readFileSync(path.join(root, 'data/dev/settings.sqlite3')).equals(fs.readFileSync(path.join(root, 'data/reference/settings.sqlite3'))), 'settings holds the backed-up database again');
  });

  it('a backup without a copy of the profile file (taken while the file was deleted, or made by hand) restores as a new profile made from its manifest (before: refused, "no profile can be made from it")', async () => {
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    const crafted = craftArchive(backup.archive, 'profile-record-dropped');
    assert.equal((await verifyBackup(context, crafted)).ok, true);
    const restored = runCli(['restore', crafted, '--as-new', 'from_manifest', '--workspace', root, '--json']);
    assert.equal(restored.status, 0, restored.stderr);
    assert.ok((restored.json?.result.notes as string[]).some((n) => n.startsWith("the backup's copy of the profile file is not in the backup, so from_manifest was made from the backup's manifest")), restored.stdout);
    assert.deepEqual(databasesListedBy(root, 'from_manifest'), Object.fromEntries(DATABASES.map((name) => [name, `data/from_manifest/${name}.sqlite3`])));
    await restoreBackup(context, { reference: backup.archive, asNew: 'reference' });
    for (const name of DATABASES) {
      assert.ok(fs.readFileSync(path.join(root, `data/from_manifest/${name}.sqlite3`)).equals(fs.readFileSync(path.join(root, `data/reference/${name}.sqlite3`))), name);
    }
    assert.equal(runCli(['verify', crafted, '--workspace', root]).status, 0);
  });
});
