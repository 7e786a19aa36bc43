import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseEnv } from 'node:util';
import { journalPathProblem } from '../src/core/journalPaths';
import type { OperationJournal } from '../src/core/operationJournal';
import { runCli } from './support/cliRunner';
import { killAtEveryStep, killAtRandomMoments, startHeld, stepsOf } from './support/steppedRuns';
import { allowFolders, demoWorkspace, tempDir, temporaryFiles } from './support/workspaces';

const DEV = 'dev_environment_001';
const TEST = 'test_environment_001';
const KILLS = Number(process.env.ENVPROFILES_KILL_RUNS ?? 24);
/** Each step pauses this long in the runs killed at random moments, so more of them land inside a transaction. */
const STEP_DELAY_MS = 25;

function readActive(root: string): string | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, '.envprofiles/state.json'), 'utf8')).active;
  } catch {
    return null;
  }
}

/** State, env file and links must all name the same profile; nothing half-done may remain. */
function assertConsistent(root: string, allowed: string[], context: string): string {
  const active = readActive(root);
  assert.ok(active && allowed.includes(active), `${context}: active is ${active}`);
  const env = parseEnv(fs.readFileSync(path.join(root, '.env'), 'utf8'));
  assert.equal(env.ENVPROFILE_ID, active, `${context}: env file names ${env.ENVPROFILE_ID}, state names ${active}`);
  const folder = active === DEV ? 'dev' : 'test';
  for (const db of ['settings', 'strategies', 'market_data']) {
    assert.equal(fs.readlinkSync(path.join(root, 'data', `${db}.sqlite3`)), `${folder}/${db}.sqlite3`, `${context}: link ${db}`);
    assert.equal(env[`ENVPROFILE_DB_${db.toUpperCase()}`], path.join(root, 'data', folder, `${db}.sqlite3`));
  }
  assert.deepEqual(temporaryFiles(root), [], `${context}: temporary files left`);
  assert.deepEqual(fs.existsSync(path.join(root, '.envprofiles/journal')) ? fs.readdirSync(path.join(root, '.envprofiles/journal')) : [], [], `${context}: journal left`);
  assert.ok(!fs.existsSync(path.join(root, '.envprofiles/lock')), `${context}: lock left`);
  return active;
}

describe('kill -9 during a switch or a clone', function () {
  this.timeout(300_000);
  const journalFile = (root: string): string => path.join(root, '.envprofiles/journal/switch.json');

  it('during switch, at every step: before the commit the next command rolls it back, after it finishes it', async () => {
    const { root } = await demoWorkspace();
    assert.equal(runCli(['switch', DEV, '--workspace', root]).status, 0);
    const steps = stepsOf(['switch', TEST, '--workspace', root]);
    assert.equal(runCli(['switch', DEV, '--workspace', root]).status, 0);
    const journalAt = steps.indexOf('journal-written');
    const committedAt = steps.indexOf('committed');
    assert.ok(journalAt >= 0 && committedAt > journalAt + 1, `steps: ${steps.join(', ')}`);
    await killAtEveryStep({
      steps,
      prepare: () => ['switch', TEST, '--workspace', root],
      check: ({ index, context }) => {
        const journalLeft = fs.existsSync(journalFile(root));
        assert.equal(journalLeft, index >= journalAt, `${context}: the journal exists from journal-written on`);
        const next = runCli(['status', '--workspace', root, '--json']);
        assert.equal(next.status, 0, next.stderr);
        assert.equal(next.json?.recovered?.length, journalLeft ? 1 : 0, `${context}: ${next.json?.recovered}`);
        assert.equal(assertConsistent(root, [DEV, TEST], context), index >= committedAt ? TEST : DEV, context);
        assert.equal(next.json?.result.inSync, true, `${context}: ${next.json?.result.drift}`);
        if (readActive(root) === TEST) assert.equal(runCli(['switch', DEV, '--workspace', root]).status, 0);
      },
    });
  });

  it(`during switch, at random moments (${KILLS} runs): the next command leaves state, env file and links in agreement`, async () => {
    const { root } = await demoWorkspace();
    assert.equal(runCli(['switch', DEV, '--workspace', root]).status, 0);
    let from = DEV;
    let target = TEST;
    await killAtRandomMoments({
      runs: KILLS,
      stepDelayMs: STEP_DELAY_MS,
      undisturbed: ['switch', TEST, '--workspace', root],
      prepare: () => {
        from = readActive(root) as string;
        target = from === DEV ? TEST : DEV;
        return ['switch', target, '--workspace', root];
      },
      check: ({ finished, context }) => {
        const journalLeft = fs.existsSync(journalFile(root));
        const next = runCli(['status', '--workspace', root, '--json']);
        assert.equal(next.status, 0, next.stderr);
        const active = assertConsistent(root, [from, target], context);
        if (journalLeft) assert.ok(next.json?.recovered?.length === 1, `${context}: recovery reported`);
        assert.equal(next.json?.result.inSync, true, `${context}: ${next.json?.result.drift}`);
        if (finished) assert.equal(active, target, context);
      },
    });
  });

  /** The outcome of an interrupted clone once the next command has run: the whole clone, or nothing of it. */
  function assertWholeOrNothing(root: string, id: string, context: string): boolean {
    const next = runCli(['list', '--workspace', root, '--json']);
    assert.equal(next.status, 0, next.stderr);
    const listed = next.json?.result.profiles.find((p: { id: string }) => p.id === id);
    if (listed) {
      assert.ok(listed.valid, `${context}: listed clone is invalid`);
      const validation = runCli(['validate', id, '--full', '--workspace', root]);
      assert.equal(validation.status, 0, `${context}: ${validation.stdout}`);
    } else {
      assert.ok(!fs.existsSync(path.join(root, 'data', id)), `${context}: data/${id} left behind without a profile`);
    }
    assert.deepEqual(temporaryFiles(root), [], `${context}: temporary files left`);
    assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), [], `${context}: journal left`);
    return Boolean(listed);
  }

  it('during clone, at every step: nothing of it before the commit, the whole clone after it', async () => {
    const { root } = await demoWorkspace(4000);
    const steps = stepsOf(['clone', DEV, 'probe_clone', '--workspace', root]);
    assert.equal(runCli(['validate', 'probe_clone', '--full', '--workspace', root]).status, 0);
    const committedAt = steps.indexOf('committed');
    assert.ok(steps.indexOf('profile-written') > 0 && committedAt > 0, `steps: ${steps.join(', ')}`);
    const id = (index: number): string => `clone_at_${index + 1}`;
    await killAtEveryStep({
      steps,
      prepare: (index) => ['clone', DEV, id(index), '--workspace', root],
      check: ({ index, context }) => {
        assert.equal(assertWholeOrNothing(root, id(index), context), index >= committedAt, `${context}: ${index >= committedAt ? 'the whole clone' : 'nothing'} expected`);
      },
    });
  });

  it(`during clone, at random moments (${KILLS} runs): either the whole clone exists and validates, or nothing of it`, async () => {
    const { root } = await demoWorkspace(4000);
    await killAtRandomMoments({
      runs: KILLS,
      stepDelayMs: STEP_DELAY_MS,
      undisturbed: ['clone', DEV, 'probe_clone', '--workspace', root],
      prepare: (run) => ['clone', DEV, `clone_${run}`, '--workspace', root],
      check: ({ run, context }) => void assertWholeOrNothing(root, `clone_${run}`, context),
    });
  });
});

describe('an interrupted clone, and files someone made at its paths before the next command', function () {
  this.timeout(120_000);

  /** Kills a clone of DEV into `id` once its first database is in place; returns the journal it left. */
  function interruptedClone(root: string, id: string): Record<string, unknown> {
    // Its steps: journal-written, claimed:<settings>, database:settings, …
    const killed = runCli(['clone', DEV, id, '--workspace', root], { env: { ENVPROFILES_TEST_KILL_AT_STEP: '3' } });
    assert.equal(killed.status, null, `killed at its third step: ${killed.stderr}`);
    return JSON.parse(fs.readFileSync(path.join(root, `.envprofiles/journal/clone-${id}.json`), 'utf8'));
  }

  /** A database (a copy of the development one) and a profile file made by hand where the interrupted clone's would have been. */
  function madeByHand(root: string, id: string): { database: string; profileFile: string } {
    // No command runs meanwhile: the first one would roll the clone back.
    const database = path.join(root, `data/${id}/strategies.sqlite3`);
    fs.mkdirSync(path.dirname(database), { recursive: true });
    fs.copyFileSync(path.join(root, 'data/dev/strategies.sqlite3'), database);
    const profileFile = path.join(root, `.envprofiles/profiles/${id}.yaml`);
    fs.writeFileSync(profileFile, fs.readFileSync(path.join(root, `.envprofiles/profiles/${DEV}.yaml`), 'utf8').replace(`id: "${DEV}"`, `id: "${id}"`));
    return { database, profileFile };
  }

  it('the next command rolls back only what the clone made: a database and a profile file made by hand at its paths stay (before: removed with it)', async () => {
    const { root } = await demoWorkspace();
    const id = 'half_clone';
    interruptedClone(root, id);
    const settings = path.join(root, `data/${id}/settings.sqlite3`);
    assert.ok(fs.existsSync(settings), 'the clone put its first database in place');
    const { database, profileFile } = madeByHand(root, id);
    const databaseBytes = fs.readFileSync(database);
    const profileText = fs.readFileSync(profileFile, 'utf8');
    const next = runCli(['list', '--workspace', root]);
    assert.equal(next.status, 0, next.stderr);
    assert.match(next.stderr, /rolled back the interrupted clone/);
    assert.ok(!fs.existsSync(settings), 'the clone\'s own database is removed');
    assert.deepEqual(fs.readFileSync(database), databaseBytes, 'the database made by hand stays, byte for byte');
    assert.equal(fs.readFileSync(profileFile, 'utf8'), profileText, 'the profile file written by hand stays');
    assert.deepEqual(temporaryFiles(root), []);
    assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), []);
  });

  it('a database made at one of its paths while the clone makes its copy there is never replaced: the clone stops (TARGET_EXISTS, naming it) and undoes only its own files (before: the clone put its copy over it)', async () => {
    const { root } = await demoWorkspace();
    const id = 'raced_clone';
    // Its copy is made and checked under a temporary name; held right before the rename into place.
    const held = startHeld(['clone', DEV, id, '--workspace', root], `claimed:data/${id}/strategies.sqlite3`);
    await held.reached;
    const { database } = madeByHand(root, id);
    fs.rmSync(path.join(root, `.envprofiles/profiles/${id}.yaml`));
    const databaseBytes = fs.readFileSync(database);
    held.release();
    const finished = await held.finished;
    assert.equal(finished.code, 3, finished.stderr);
    assert.match(finished.stderr, new RegExp(`TARGET_EXISTS.*data/${id}/strategies\\.sqlite3 was made by something else while this operation was making it there, so it was left as it is`));
    assert.deepEqual(fs.readFileSync(database), databaseBytes, 'the database made meanwhile stays, byte for byte');
    assert.ok(!fs.existsSync(path.join(root, `data/${id}/settings.sqlite3`)), 'the clone\'s own database is removed');
    assert.ok(!fs.existsSync(path.join(root, `.envprofiles/profiles/${id}.yaml`)));
    assert.deepEqual(temporaryFiles(root), []);
    assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), []);
  });

  it('a profile file made at its path while the clone writes its own is never replaced: the clone stops (PROFILE_EXISTS) and undoes only its own files (before: the clone put its file over it)', async () => {
    const { root } = await demoWorkspace();
    const id = 'raced_profile';
    // Its profile file is written and fsynced under a temporary name; held right before it takes its name.
    const held = startHeld(['clone', DEV, id, '--workspace', root], 'profile-ready');
    await held.reached;
    const profileFile = path.join(root, `.envprofiles/profiles/${id}.yaml`);
    fs.writeFileSync(profileFile, `# written by hand\n${fs.readFileSync(path.join(root, `.envprofiles/profiles/${DEV}.yaml`), 'utf8').replace(`id: "${DEV}"`, `id: "${id}"`)}`);
    const profileText = fs.readFileSync(profileFile, 'utf8');
    held.release();
    const finished = await held.finished;
    assert.equal(finished.code, 3, finished.stderr);
    assert.match(finished.stderr, new RegExp(`PROFILE_EXISTS.*profiles/${id}\\.yaml\\): it was made by something else while this profile was being written, and was left as it is`));
    assert.equal(fs.readFileSync(profileFile, 'utf8'), profileText, 'the profile file made meanwhile stays');
    assert.ok(!fs.existsSync(path.join(root, `data/${id}`)), 'the clone\'s databases and their folder are removed');
    assert.deepEqual(temporaryFiles(root), []);
    assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), []);
  });

  it('a journal of an earlier version (no madeFiles, no profileSha256) is rolled back as it was: every created path removed', async () => {
    const { root } = await demoWorkspace();
    const id = 'old_clone';
    const journal = interruptedClone(root, id);
    assert.ok(Array.isArray(journal.madeFiles) && typeof journal.profileSha256 === 'string', JSON.stringify(journal));
    delete journal.madeFiles;
    delete journal.profileSha256;
    fs.writeFileSync(path.join(root, `.envprofiles/journal/clone-${id}.json`), JSON.stringify(journal));
    const { database, profileFile } = madeByHand(root, id);
    assert.equal(runCli(['list', '--workspace', root]).status, 0);
    assert.ok(!fs.existsSync(database) && !fs.existsSync(profileFile));
  });
});

describe('kill -9 during a delete with its data', function () {
  this.timeout(300_000);

  /**
   * Every file under data/<id> with its bytes' digest, and whether the profile file is there. An empty
   * -wal is left out: SQLite removes it when the last connection closes (the delete's check that no
   * program has the databases open does so before anything else).
   */
  function profileOnDisk(root: string, id: string): { profileFile: boolean; data: string[] } {
    const folder = path.join(root, 'data', id);
    const names = fs.existsSync(folder) ? fs.readdirSync(folder).sort() : [];
    const data = names.filter((name) => !(name.endsWith('-wal') && fs.statSync(path.join(folder, name)).size === 0)).map((name) => `${name} ${createHash('sha256').update(fs.readFileSync(path.join(folder, name))).digest('hex')}`);
    return { profileFile: fs.existsSync(path.join(root, '.envprofiles/profiles', `${id}.yaml`)), data };
  }

  it('at every step: before the commit the profile and every data file are put back byte for byte, after it all are gone; the next command says which', async () => {
    const { root } = await demoWorkspace(4000);
    const made = (id: string): void => {
      for (const args of [['clone', DEV, id], ['backup', id, '--full', '--verify']]) {
        const run = runCli([...args, '--workspace', root]);
        assert.equal(run.status, 0, run.stderr);
      }
    };
    made('probe_delete');
    const steps = stepsOf(['delete', 'probe_delete', '--delete-data', '--workspace', root]);
    const committedAt = steps.indexOf('committed');
    assert.deepEqual(steps, ['journal-written', 'aside:profile', 'aside:settings', 'aside:strategies', 'aside:market_data', 'committed']);
    const devBefore = profileOnDisk(root, 'dev');
    const id = (index: number): string => `delete_at_${index + 1}`;
    let before = profileOnDisk(root, id(0));
    await killAtEveryStep({
      steps,
      prepare: (index) => {
        made(id(index));
        before = profileOnDisk(root, id(index));
        assert.ok(before.profileFile && before.data.some((file) => file.startsWith('market_data.sqlite3 ')), before.data.join(', '));
        return ['delete', id(index), '--delete-data', '--workspace', root];
      },
      check: ({ index, context }) => {
        const next = runCli(['list', '--json', '--workspace', root]);
        assert.equal(next.status, 0, next.stderr);
        const finished = index >= committedAt;
        const said = finished ? `finished the interrupted delete of ${id(index)} and its data` : `rolled back the interrupted delete of ${id(index)}: the profile and its data are as they were`;
        assert.deepEqual(next.json?.recovered, [said], context);
        assert.deepEqual(profileOnDisk(root, id(index)), finished ? { profileFile: false, data: [] } : before, context);
        assert.equal(fs.existsSync(path.join(root, 'data', id(index))), !finished, `${context}: the data folder it left empty is ${finished ? 'removed' : 'kept'}`);
        assert.equal(next.json?.result.profiles.some((p: { id: string }) => p.id === id(index)), !finished, context);
        assert.deepEqual(temporaryFiles(root), [], `${context}: temporary files left`);
        assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), [], `${context}: journal left`);
        assert.deepEqual(profileOnDisk(root, 'dev'), devBefore, `${context}: another profile's data changed`);
        if (!finished) {
          // Put back whole: the delete runs to its end now.
          const again = runCli(['delete', id(index), '--delete-data', '--workspace', root]);
          assert.equal(again.status, 0, `${context}: ${again.stderr}`);
          assert.deepEqual(profileOnDisk(root, id(index)), { profileFile: false, data: [] }, context);
          assert.ok(!fs.existsSync(path.join(root, 'data', id(index))), context);
        }
      },
    });
  });
});

describe('a journal damaged after it was written', () => {
  it('is kept aside, not deleted without a word: the next command says which operation was neither finished nor rolled back and what to check; the audit log records it', async () => {
    const { root } = await demoWorkspace();
    const journal = path.join(root, '.envprofiles/journal/restore-dev_environment_001.json');
    // Journals are written whole (temporary file, fsync, rename): this one was damaged on the disk since.
    fs.mkdirSync(path.dirname(journal), { recursive: true });
    fs.writeFileSync(journal, '{"operation":"restore","phase":"sw');
    const status = runCli(['status', '--json', '--workspace', root]);
    assert.equal(status.status, 0, status.stderr);
    const [aside] = fs.readdirSync(path.dirname(journal));
    assert.match(aside, /^restore-dev_environment_001\.json\.unreadable-\S+$/);
    assert.equal(fs.readFileSync(path.join(path.dirname(journal), aside), 'utf8'), '{"operation":"restore","phase":"sw');
    const said = `the journal .envprofiles/journal/restore-dev_environment_001.json could not be read (damaged), so the restore it describes was neither finished nor rolled back; it was kept as .envprofiles/journal/${aside}. Check that operation's files ("envprofiles validate dev_environment_001"; a restore's safety backup, listed by "envprofiles backups", holds the state before it), then delete that file`;
    assert.equal(status.stderr, `warning: Recovery: ${said}.\n`, 'said once');
    assert.deepEqual(status.json?.recovered, [said]);
    const audit = fs.readFileSync(path.join(root, '.envprofiles/audit.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual([audit.at(-1).event, audit.at(-1).outcome], ['recover', 'failed']);
    // Once aside, it is no journal: the next command says nothing.
    assert.equal(runCli(['status', '--workspace', root]).stderr, '');
  });

  it('whole but with fields recovery cannot act on (a hand edit), of every operation, is kept aside the same way (before: every command failed as "a bug" until it was removed)', async () => {
    const { root } = await demoWorkspace();
    const dir = path.join(root, '.envprofiles/journal');
    fs.mkdirSync(dir, { recursive: true });
    const journals: Record<string, unknown> = {
      switch: { operation: 'switch', phase: 'prepared', startedAt: '2026-12-03T00:00:00.000Z', from: null, to: DEV, outputs: [{ path: 5, before: { kind: 'absent' } }] },
      'backup-x': { operation: 'backup', startedAt: '2026-12-03T00:00:00.000Z', profileId: DEV, backupId: 'x', archiveTemp: null },
      'restore-x': { operation: 'restore', phase: 'prepared', profileId: DEV, backupId: 'x', stagingDir: '/nowhere', swaps: {} },
      'prune-x': { operation: 'prune', profileId: DEV, catalogFile: 'c', archives: [{ id: 'x' }] },
      'clone-x': { operation: 'clone', phase: 'prepared', source: DEV, target: 'x', profileFile: 'p', createdFiles: [7], createdDirectories: [], workDirectories: [] },
      'delete-x': { operation: 'delete', phase: 'committed', profileId: DEV, profileFile: 'p', aside: [{ from: 'f' }] },
    };
    for (const [name, journal] of Object.entries(journals)) fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(journal));
    const status = runCli(['status', '--json', '--workspace', root]);
    assert.equal(status.status, 0, status.stderr);
    assert.doesNotMatch(status.stderr, /a bug/);
    assert.equal(status.json?.recovered?.length, 6, status.stderr);
    for (const name of Object.keys(journals)) {
      assert.ok(status.json?.recovered?.some((line: string) => line.startsWith(`the journal .envprofiles/journal/${name}.json could not be read (damaged)`)), name);
    }
    assert.deepEqual(fs.readdirSync(dir).map((file) => file.replace(/\.unreadable-.*$/, '')).sort(), Object.keys(journals).map((name) => `${name}.json`).sort(), 'each kept aside');
    assert.equal(runCli(['list', '--workspace', root]).status, 0);
  });

  it('whole, but naming paths its operation never writes (one that came with the workspace, a clone of someone\'s repository), is kept aside and never acted on: before, "list" removed a folder outside the workspace, and could write any file', async () => {
    const { root } = await demoWorkspace();
    const dir = path.join(root, '.envprofiles/journal');
    fs.mkdirSync(dir, { recursive: true });
    const victim = tempDir('envprofiles-victim-');
    const file = (name: string) => path.join(victim, name);
    for (const name of ['kept.txt', 'settings.sqlite3', 'settings.sqlite3.envprofiles-tmp-1-00000000', 'old.txt']) fs.writeFileSync(file(name), `${name}: the user's\n`);
    fs.mkdirSync(file('folder'));
    fs.writeFileSync(path.join(file('folder'), 'inside.txt'), 'the user\'s\n');
    const stamp = '2026-12-03T00:00:00.000Z';
    const inWorkspace = path.join(root, 'data/dev/settings.sqlite3');
    const journals: Record<string, [unknown, string]> = {
      'backup-dev_environment_001': [{ operation: 'backup', startedAt: stamp, profileId: DEV, backupId: `${DEV}.20261203T000000-000Z.full`, archiveTemp: file('kept.txt'), archiveFinal: file(`${DEV}.20261203T000000-000Z.full.zip`), stagingDir: file('folder') }, `${file('kept.txt')} is not a temporary name this tool gives`],
      switch: [{ operation: 'switch', phase: 'prepared', startedAt: stamp, from: null, to: DEV, outputs: [{ path: file('old.txt'), before: { kind: 'file', contentBase64: Buffer.from('written by the journal\n').toString('base64'), mode: 0o644 } }] }, `${file('old.txt')} is not inside the workspace, where a switch writes its env file and links`],
      // A restore that "did not find" its target before: its rollback removes what is there.
      'restore-dev_environment_001': [{ operation: 'restore', phase: 'prepared', startedAt: stamp, profileId: DEV, backupId: 'x', stagingDir: path.join(root, '.x.envprofiles-tmp-1'), swaps: [{ target: file('settings.sqlite3'), incoming: file('settings.sqlite3.envprofiles-tmp-1-00000000'), keptOld: [] }] }, `${file('settings.sqlite3')} is not inside the workspace or a folder its config.yaml allows`],
      'restore-test_environment_001': [{ operation: 'restore', phase: 'committed', startedAt: stamp, profileId: TEST, backupId: 'x', stagingDir: path.join(root, '.x.envprofiles-tmp-1'), swaps: [{ target: inWorkspace, incoming: `${inWorkspace}.envprofiles-tmp-1-00000000`, keptOld: [{ path: file('old.txt'), from: inWorkspace }] }] }, `${file('old.txt')} is not a temporary file beside ${inWorkspace}`],
      'clone-new_profile': [{ operation: 'clone', phase: 'prepared', startedAt: stamp, source: DEV, target: 'new_profile', profileFile: path.join(root, '.envprofiles/profiles/new_profile.yaml'), createdFiles: [file('kept.txt')], createdDirectories: [], workDirectories: [] }, `${file('kept.txt')} is not inside the workspace or a folder its config.yaml allows`],
      // A committed delete removes what it moved aside; a prepared one renames it back over what it came from.
      'delete-dev_environment_001': [{ operation: 'delete', phase: 'committed', startedAt: stamp, profileId: DEV, profileFile: path.join(root, `.envprofiles/profiles/${DEV}.yaml`), aside: [{ from: file('settings.sqlite3'), path: file('settings.sqlite3.envprofiles-tmp-1-00000000') }] }, `${file('settings.sqlite3')} is not inside the workspace or a folder its config.yaml allows`],
      'delete-test_environment_001': [{ operation: 'delete', phase: 'prepared', startedAt: stamp, profileId: TEST, profileFile: path.join(root, `.envprofiles/profiles/${TEST}.yaml`), aside: [{ from: inWorkspace, path: file('old.txt') }] }, `${file('old.txt')} is not a temporary file beside ${inWorkspace}`],
      'delete-prod_environment_001': [{ operation: 'delete', phase: 'committed', startedAt: stamp, profileId: 'prod_environment_001', profileFile: file('kept.txt'), aside: [] }, `${file('kept.txt')} is not the profile file of prod_environment_001`],
    };
    for (const [name, [journal]] of Object.entries(journals)) fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(journal));
    const before = fs.readdirSync(victim).map((name) => [name, fs.statSync(file(name)).isFile() ? fs.readFileSync(file(name), 'utf8') : 'folder']);
    const listed = runCli(['list', '--json', '--workspace', root]);
    assert.equal(listed.status, 0, listed.stderr);
    for (const [name, [, why]] of Object.entries(journals)) {
      const said = (listed.json?.recovered as string[] | undefined)?.find((line) => line.startsWith(`the journal .envprofiles/journal/${name}.json `));
      assert.equal(said?.split(', so the ')[0], `the journal .envprofiles/journal/${name}.json names a path its ${name.split('-')[0]} never writes (${why}): it was not written by this tool in this workspace, or was edited since`, name);
    }
    assert.deepEqual(fs.readdirSync(victim).map((name) => [name, fs.statSync(file(name)).isFile() ? fs.readFileSync(file(name), 'utf8') : 'folder']), before, 'nothing outside the workspace removed or written');
    assert.equal(fs.readFileSync(path.join(file('folder'), 'inside.txt'), 'utf8'), 'the user\'s\n');
    assert.deepEqual(fs.readdirSync(dir).map((name) => name.replace(/\.unreadable-.*$/, '')).sort(), Object.keys(journals).map((name) => `${name}.json`).sort(), 'each kept aside');
    assert.ok(fs.existsSync(inWorkspace), 'the workspace\'s database is where it was');
  });

  it('the paths of real journals pass: a switch\'s link output that leads to a database in an allowed folder outside, a restore into that folder, a clone\'s new folder that is the allowed folder itself', async () => {
    const { root, context } = await demoWorkspace();
    const allowed = tempDir('envprofiles-allowed-');
    allowFolders(root, allowed);
    const outside = path.join(allowed, 'settings.sqlite3');
    fs.copyFileSync(path.join(root, 'data/dev/settings.sqlite3'), outside);
    const link = path.join(root, 'data/settings.sqlite3');
    fs.rmSync(link, { force: true });
    fs.symlinkSync(outside, link);
    const stamp = new Date().toISOString();
    const journals = [
      { operation: 'switch', phase: 'prepared', startedAt: stamp, from: TEST, to: DEV, outputs: [{ path: link, before: { kind: 'symlink', target: 'test/settings.sqlite3' } }] },
      { operation: 'restore', phase: 'prepared', startedAt: stamp, profileId: DEV, backupId: 'x', stagingDir: path.join(root, `.envprofiles/backups/${DEV}/.restore.envprofiles-tmp-1-a`), swaps: [{ target: outside, incoming: path.join(allowed, '.settings.sqlite3.envprofiles-tmp-1-00000000'), keptOld: [{ path: path.join(allowed, '.settings.sqlite3-wal.envprofiles-tmp-1-00000001'), from: `${outside}-wal`, keepAs: `${outside}.before-restore-x` }] }] },
      { operation: 'clone', phase: 'prepared', startedAt: stamp, source: DEV, target: 'new_profile', profileFile: path.join(root, '.envprofiles/profiles/new_profile.yaml'), createdFiles: [path.join(allowed, 'new/settings.sqlite3')], createdDirectories: [allowed, path.join(allowed, 'new')], workDirectories: [path.join(allowed, 'new')] },
      { operation: 'delete', phase: 'committed', startedAt: stamp, profileId: DEV, profileFile: path.join(root, `.envprofiles/profiles/${DEV}.yaml`), aside: [{ from: path.join(root, `.envprofiles/profiles/${DEV}.yaml`), path: path.join(root, `.envprofiles/profiles/.${DEV}.yaml.envprofiles-tmp-1-a`) }, { from: `${outside}-wal`, path: path.join(allowed, '.settings.sqlite3-wal.envprofiles-tmp-1-b') }, { from: outside, path: path.join(allowed, '.settings.sqlite3.envprofiles-tmp-1-c') }] },
    ] as OperationJournal[];
    for (const journal of journals) assert.equal(journalPathProblem(journal, context), undefined, journal.operation);
    // And the same restore with a target beside the allowed folder is not.
    const beside = { ...journals[1], swaps: [{ target: `${allowed}-x/settings.sqlite3`, incoming: `${allowed}-x/.settings.sqlite3.envprofiles-tmp-1-0`, keptOld: [] }] } as OperationJournal;
    assert.equal(journalPathProblem(beside, context), `${allowed}-x/settings.sqlite3 is not inside the workspace or a folder its config.yaml allows`);
  });
});

describe('a restore that puts a missing profile file back, and one written meanwhile', function () {
  this.timeout(120_000);

  /** A backup of DEV, then DEV's profile file removed (its data kept), as a restore finds it. */
  function backedUpThenProfileRemoved(root: string): { id: string; profileFile: string; backedUp: string } {
    const backup = runCli(['backup', DEV, '--json', '--workspace', root]);
    assert.equal(backup.status, 0, backup.stderr);
    const profileFile = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    const backedUp = fs.readFileSync(profileFile, 'utf8');
    fs.rmSync(profileFile);
    return { id: backup.json?.result.id as string, profileFile, backedUp };
  }

  it('with nothing written meanwhile, the backup\'s copy is put back and said so', async () => {
    const { root } = await demoWorkspace();
    const { id, profileFile, backedUp } = backedUpThenProfileRemoved(root);
    const restored = runCli(['restore', id, '--workspace', root]);
    assert.equal(restored.status, 0, restored.stderr);
    assert.equal(fs.readFileSync(profileFile, 'utf8'), backedUp);
    assert.match(restored.stdout + restored.stderr, /the profile file was missing and was restored from the backup/);
  });

  it('a profile file written while the restore ran is left as it is, and said so (before: the backup\'s copy replaced it)', async () => {
    const { root } = await demoWorkspace();
    const { id, profileFile, backedUp } = backedUpThenProfileRemoved(root);
    // Held once the databases are swapped in and committed, right before the profile file is put back.
    const held = startHeld(['restore', id, '--workspace', root], 'committed');
    await held.reached;
    const written = `# written by hand while the restore ran\n${backedUp}`;
    fs.writeFileSync(profileFile, written);
    held.release();
    const finished = await held.finished;
    assert.equal(finished.code, 0, finished.stderr);
    assert.equal(fs.readFileSync(profileFile, 'utf8'), written, 'the profile file written meanwhile stays');
    const output = finished.stdout + finished.stderr;
    assert.match(output, new RegExp(`\\.envprofiles/profiles/${DEV}\\.yaml was written while this restore ran, so it was left as it is and this backup's copy of it was not put back: the databases went where that copy says \\(data/dev/settings\\.sqlite3, data/dev/strategies\\.sqlite3, data/dev/market_data\\.sqlite3\\); check that the profile file names them`));
    assert.doesNotMatch(output, /was missing and was restored/);
    assert.deepEqual(temporaryFiles(root), []);
  });
});
