import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from './support/cliRunner';
import { killAtEveryStep, stepsOf } from './support/steppedRuns';
import { assertSameTree, demoWorkspace, engine, snapshotTree, tempDir, temporaryFiles } from './support/workspaces';

const DEV = 'dev_environment_001';
const DATABASES = ['settings', 'strategies', 'market_data'];

/** A schema source's -wal and -shm, which SQLite makes when it opens a database in WAL mode (the application's own opens make them too). */
const sourceCompanion = (rel: string): boolean => /^data\/dev\/.*\.sqlite3-(wal|shm)$/.test(rel);

/** The files in `dir` but the -wal and -shm SQLite makes beside a WAL database it opens (the check after making them opens them). */
function databaseFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => !/-(wal|shm)$/.test(name)).sort();
}

/** A profile made without --init-db (its databases under data/<id>/ missing); `present` of them copied from DEV's by hand. */
function profileWithMissingDatabases(root: string, id: string, present: string[] = []): void {
  const created = runCli(['create', id, '--workspace', root]);
  assert.equal(created.status, 0, created.stderr);
  fs.mkdirSync(path.join(root, 'data', id), { recursive: true });
  for (const logical of present) fs.copyFileSync(path.join(root, `data/dev/${logical}.sqlite3`), path.join(root, `data/${id}/${logical}.sqlite3`));
}

function tablesOf(file: string, sqlite: Awaited<ReturnType<typeof engine>>): { tables: string[]; rows: number } {
  const db = sqlite.open(file, { readOnly: true });
  try {
    const tables = db.all("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").map((r) => String(r.name));
    const rows = tables.reduce((sum, table) => sum + Number(db.all(`SELECT count(*) AS n FROM "${table}"`)[0].n), 0);
    return { tables, rows };
  } finally {
    db.close();
  }
}

describe('init-db: the missing databases of an existing profile', function () {
  this.timeout(120_000);

  it("create's note and validate's next step name init-db; init-db makes the missing ones empty, and the profile validates, switches and backs up", async () => {
    const { root } = await demoWorkspace();
    const created = runCli(['create', 'later_env', '--workspace', root]);
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, /note: its 3 database files, .*do not exist yet.*, or "envprofiles init-db later_env" makes them now: empty, or with another profile's tables with --schema-from <profile>\)/);
    const invalid = runCli(['validate', 'later_env', '--workspace', root]);
    assert.equal(invalid.status, 1);
    assert.match(invalid.stdout, /\nnext: 3 database files are missing\. No backup holds them: make them anew \(envprofiles init-db later_env \[--schema-from <profile>\]\), or fix the path in the profile\.\n/);

    const shown = runCli(['show', 'later_env', '--workspace', root]);
    assert.match(shown.stdout, /\n {4}settings: data\/later_env\/settings\.sqlite3 \(does not exist; "envprofiles validate later_env" says how to get it back\)\n/);
    assert.deepEqual(runCli(['show', 'later_env', '--json', '--workspace', root]).json?.result.missingDatabases, DATABASES);
    const listed = (): string | undefined => runCli(['list', '--workspace', root]).stdout.split('\n').find((line) => line.includes('later_env'));
    assert.match(listed() ?? '', /^ {4}later_env {2,}DEVELOPMENT {2}3 \(3 missing\) {2}/);
    assert.deepEqual(runCli(['list', '--json', '--workspace', root]).json?.result.profiles.find((p: { id: string }) => p.id === 'later_env').missingDatabases, DATABASES);
    const made = runCli(['init-db', 'later_env', '--workspace', root]);
    assert.equal(made.status, 0, made.stderr);
    assert.match(listed() ?? '', /^ {4}later_env {2,}DEVELOPMENT {2}3 {2,}no backups/);
    assert.equal(made.stdout, [
      'Made 3 empty databases for later_env:',
      '  settings: data/later_env/settings.sqlite3 (made empty)',
      '  strategies: data/later_env/strategies.sqlite3 (made empty)',
      '  market_data: data/later_env/market_data.sqlite3 (made empty)',
      'next: later_env can be switched to and backed up now ("envprofiles validate later_env" checks it).',
      '',
    ].join('\n'));
    assert.deepEqual(databaseFiles(path.join(root, 'data/later_env')), DATABASES.map((d) => `${d}.sqlite3`).sort(), 'no temporary files');
    const sqlite = await engine();
    for (const logical of DATABASES) assert.deepEqual(tablesOf(path.join(root, `data/later_env/${logical}.sqlite3`), sqlite), { tables: [], rows: 0 });
    assert.equal(runCli(['validate', 'later_env', '--full', '--workspace', root]).status, 0);
    const backup = runCli(['backup', 'later_env', '--workspace', root]);
    assert.equal(backup.status, 0, backup.stderr);
    const switched = runCli(['switch', 'later_env', '--workspace', root]);
    assert.equal(switched.status, 0, switched.stderr);
    const audit = fs.readFileSync(path.join(root, '.envprofiles/audit.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
    assert.ok(audit.some((e) => e.event === 'init-db' && e.profile === 'later_env' && e.outcome === 'ok' && e.detail === 'made settings, strategies, market_data empty'), 'its audit line');
  });

  it('--schema-from makes only the missing ones, with the tables of the other profile and no rows; an existing database is left byte for byte', async () => {
    const { root } = await demoWorkspace();
    profileWithMissingDatabases(root, 'half_env', ['settings']);
    const settings = path.join(root, 'data/half_env/settings.sqlite3');
    const settingsBytes = fs.readFileSync(settings);
    const made = runCli(['init-db', 'half_env', '--schema-from', DEV, '--json', '--workspace', root]);
    assert.equal(made.status, 0, made.stderr);
    assert.deepEqual(made.json?.result, { profileId: 'half_env', made: ['strategies', 'market_data'], alreadyThere: ['settings'], databases: Object.fromEntries(DATABASES.map((d) => [d, `data/half_env/${d}.sqlite3`])), seed: 'schema', schemaFrom: DEV, notes: [] });
    assert.ok(fs.readFileSync(settings).equals(settingsBytes), 'the existing database is untouched');
    const sqlite = await engine();
    const strategies = tablesOf(path.join(root, 'data/half_env/strategies.sqlite3'), sqlite);
    assert.deepEqual(strategies, { tables: tablesOf(path.join(root, 'data/dev/strategies.sqlite3'), sqlite).tables, rows: 0 });
    assert.ok(strategies.tables.length > 0);
    const text = runCli(['init-db', 'half_env', '--schema-from', DEV, '--workspace', root]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^Every database of half_env exists already; nothing was made\.\n {2}settings: data\/half_env\/settings\.sqlite3 \(exists; left as it was\)\n/);
  });

  it('a database the profile\'s backups hold: the note names the backup to restore it from; an empty one that lacks required tables is said not to validate yet, not "can be switched to"', async () => {
    const { root } = await demoWorkspace();
    const TEST = 'test_environment_001';
    const backup = runCli(['backup', TEST, '--json', '--workspace', root]);
    assert.equal(backup.status, 0, backup.stderr);
    const backupId = backup.json?.result.id as string;
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(path.join(root, `data/test/settings.sqlite3${suffix}`), { force: true });
    const validated = runCli(['validate', TEST, '--workspace', root]);
    assert.match(validated.stdout, new RegExp(`\\nnext: data/test/settings\\.sqlite3 is missing\\. Restore it from the newest backup that holds it: envprofiles restore ${backupId.replace(/[.]/g, '\\.')} --db settings\\n`));
    const made = runCli(['init-db', TEST, '--workspace', root]);
    assert.equal(made.status, 0, made.stderr);
    assert.match(made.stdout, new RegExp(`\\nnote: backup ${backupId.replace(/[.]/g, '\\.')} holds settings as it was when it was taken; if that database was lost rather than never made, restore it in place of the new one: envprofiles restore ${backupId.replace(/[.]/g, '\\.')} --db settings\\n`));
    assert.match(made.stdout, /\nnext: test_environment_001 does not validate yet \(data\/test\/settings\.sqlite3 lacks required tables tv_trading_variables, api_credentials\); switch refuses it until it does/);
    assert.doesNotMatch(made.stdout, /can be switched to/);
    // And the restore the note gives puts the data back.
    const restored = runCli(['restore', backupId, '--db', 'settings', '--workspace', root]);
    assert.equal(restored.status, 0, restored.stderr);
    assert.equal(runCli(['validate', TEST, '--workspace', root]).status, 0);
  });

  it('a source profile that lacks one of the missing databases, or does not exist, is refused before anything is made', async () => {
    const { root } = await demoWorkspace();
    profileWithMissingDatabases(root, 'half_env');
    const narrow = runCli(['create', 'narrow_env', '--db', 'settings=data/narrow/settings.sqlite3', '--init-db', 'empty', '--workspace', root]);
    assert.equal(narrow.status, 0, narrow.stderr);
    const before = snapshotTree(root);
    const lacking = runCli(['init-db', 'half_env', '--schema-from', 'narrow_env', '--workspace', root]);
    assert.equal(lacking.status, 2, lacking.stderr);
    assert.match(lacking.stderr, /Profile "narrow_env" has no database "strategies" to take a schema from; nothing was made\.\n {2}Choose a profile with the same logical databases \(settings, strategies, market_data\), or make them empty\./);
    assert.deepEqual(fs.readdirSync(path.join(root, 'data/half_env')), []);
    // Misspelt, it is said even when nothing is missing (it would otherwise pass unnoticed).
    const unknown = runCli(['init-db', 'narrow_env', '--schema-from', 'dev_enviroment_001', '--workspace', root]);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /error\[PROFILE_NOT_FOUND\]: No profile "dev_enviroment_001"/);
    assertSameTree(snapshotTree(root), before, 'nothing changed');
  });

  it('one that fails on its second database removes the first it made and leaves the profile as it was', async () => {
    const { root } = await demoWorkspace();
    profileWithMissingDatabases(root, 'half_env');
    // The second source is not a database: the first one is made when the failure comes.
    fs.writeFileSync(path.join(root, 'data/dev/strategies.sqlite3'), Buffer.alloc(4096, 1));
    const before = snapshotTree(root, sourceCompanion);
    const failed = runCli(['init-db', 'half_env', '--schema-from', DEV, '--workspace', root]);
    assert.equal(failed.status, 1, failed.stdout);
    assert.match(failed.stderr, /data\/dev\/strategies\.sqlite3 .*so data\/half_env\/strategies\.sqlite3 cannot be made from it/);
    assertSameTree(snapshotTree(root, sourceCompanion), before, 'nothing of it is left');
  });

  it('killed at every step: the next command removes what it made, or it made them all; the profile file never changes', async () => {
    const { root } = await demoWorkspace();
    profileWithMissingDatabases(root, 'probe_env', ['settings']);
    const steps = stepsOf(['init-db', 'probe_env', '--schema-from', DEV, '--workspace', root]);
    const committedAt = steps.indexOf('committed');
    assert.ok(steps.includes('journal-written') && steps.some((s) => s.startsWith('claimed:')) && committedAt > 0, `steps: ${steps.join(', ')}`);
    const id = (index: number): string => `killed_${index + 1}`;
    const profileBytes = new Map<string, Buffer>();
    await killAtEveryStep({
      steps,
      prepare: (index) => {
        profileWithMissingDatabases(root, id(index), ['settings']);
        profileBytes.set(id(index), fs.readFileSync(path.join(root, `.envprofiles/profiles/${id(index)}.yaml`)));
        return ['init-db', id(index), '--schema-from', DEV, '--workspace', root];
      },
      check: ({ index, context }) => {
        const next = runCli(['list', '--workspace', root]);
        assert.equal(next.status, 0, next.stderr);
        const made = databaseFiles(path.join(root, 'data', id(index)));
        const whole = index >= committedAt;
        assert.deepEqual(made, whole ? DATABASES.map((d) => `${d}.sqlite3`).sort() : ['settings.sqlite3'], `${context}: ${whole ? 'all made' : 'only the one there before'}`);
        if (!whole) assert.match(next.stderr, new RegExp(`rolled back the interrupted making of ${id(index)}'s missing databases`), context);
        assert.ok(fs.readFileSync(path.join(root, `.envprofiles/profiles/${id(index)}.yaml`)).equals(profileBytes.get(id(index)) as Buffer), `${context}: the profile file is as it was`);
        assert.deepEqual(temporaryFiles(root), [], `${context}: temporary files left`);
        assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), [], `${context}: journal left`);
      },
    });
  });

  it('a journal of one that names a file outside the workspace (it came with the workspace) is kept aside, and that file stays', async () => {
    const { root } = await demoWorkspace();
    const outside = path.join(tempDir(), 'not-ours.sqlite3');
    fs.writeFileSync(outside, 'keep me');
    const journal = { operation: 'initialise', phase: 'prepared', startedAt: new Date().toISOString(), source: 'missing databases', target: DEV, profileFile: path.join(root, `.envprofiles/profiles/${DEV}.yaml`), createdFiles: [outside], createdDirectories: [], workDirectories: [path.dirname(outside)] };
    fs.mkdirSync(path.join(root, '.envprofiles/journal'), { recursive: true });
    fs.writeFileSync(path.join(root, `.envprofiles/journal/initialise-${DEV}.json`), JSON.stringify(journal));
    const next = runCli(['list', '--workspace', root]);
    assert.equal(next.status, 0, next.stderr);
    assert.match(next.stderr, new RegExp(`names a path its initialise never writes \\(${outside.replace(/[.]/g, '\\.')} is not inside the workspace`));
    assert.equal(fs.readFileSync(outside, 'utf8'), 'keep me');
    assert.ok(fs.existsSync(path.join(root, `.envprofiles/profiles/${DEV}.yaml`)), 'nor is the profile file removed');
  });
});
