import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { readAudit } from '../src/core/auditLog';
import { EnvProfilesError } from '../src/core/errors';
import { databasePathsIn } from '../src/core/newDatabasePaths';
import { cloneProfile } from '../src/core/profileClone';
import { createBackup } from '../src/core/backup/backupCreation';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { createProfile, createProfileFromFile } from '../src/core/profileCreation';
import { loadProfile } from '../src/core/profileStore';
import { defaultConfig, loadWorkspaceConfig } from '../src/core/workspaceConfig';
import { initialiseWorkspace } from '../src/core/workspaceInit';
import { SPEC_TEMPLATE } from '../src/demo/demoWorkspace';
import { demoWorkspace, emptyWorkspace, engine, snapshotTree, tempDir } from './support/workspaces';
import { runCli } from './support/cliRunner';

const DEV = 'dev_environment_001';

function rejectsWith(code: string) {
  return (error: unknown): boolean => error instanceof EnvProfilesError && error.code === code;
}

describe('create', () => {
  it('from a built-in template: production is protected with live API and INFO logs', async () => {
    const { context } = await demoWorkspace();
    const { profile } = await createProfile(context, { id: 'prod_eu', type: 'production', name: '운영 EU' });
    assert.equal(profile.type, 'PRODUCTION');
    assert.equal(profile.protected, true);
    assert.equal(profile.configurations.api_mode, 'live');
    assert.equal(profile.configurations.log_level, 'INFO');
    assert.deepEqual(profile.databases, { settings: 'data/prod_eu/settings.sqlite3', strategies: 'data/prod_eu/strategies.sqlite3', market_data: 'data/prod_eu/market_data.sqlite3' });
    const dev = await createProfile(context, { id: 'dev_two', db: undefined } as never);
    assert.equal(dev.profile.configurations.api_mode, 'sandbox');
    assert.equal(dev.profile.configurations.log_level, 'DEBUG');
    assert.equal(readAudit(context).filter((e) => e.event === 'create').length, 2);
  });

  it('from flags: databases and settings, with typed values and case-insensitive overrides', async () => {
    const { context } = await emptyWorkspace();
    const { profile, file } = await createProfile(context, { id: 'bot_dev', databases: { main: 'db/main.sqlite3' }, settings: { LOG_LEVEL: 'TRACE', max_orders: '12', dry_run: 'true', label: '0012a' } });
    assert.deepEqual(profile.configurations, { api_mode: 'sandbox', log_level: 'TRACE', auto_backup: true, max_orders: 12, dry_run: true, label: '0012a' });
    const written = parse(fs.readFileSync(file, 'utf8'));
    assert.equal(written.profile.id, 'bot_dev');
    assert.equal(written.profile.databases.main, 'db/main.sqlite3');
  });

  it('refuses a profile without databases in an empty workspace, an unsafe id, a bad type and an existing id', async () => {
    const { context } = await emptyWorkspace();
    await assert.rejects(createProfile(context, { id: 'lonely' }), (e: unknown) => rejectsWith('USAGE')(e) && /--db NAME=PATH/.test((e as EnvProfilesError).hint ?? ''));
    await assert.rejects(createProfile(context, { id: '../x', databases: { a: 'a.db' } }), rejectsWith('PROFILE_INVALID'));
    await assert.rejects(createProfile(context, { id: 'abc', type: 'STAGING', databases: { a: 'a.db' } }), rejectsWith('USAGE'));
    await assert.rejects(createProfile(context, { id: 'abc', databases: { a: '../../escape.db' } }), rejectsWith('PROFILE_INVALID'));
    await createProfile(context, { id: 'abc', databases: { a: 'a.db' } });
    await assert.rejects(createProfile(context, { id: 'abc', databases: { a: 'a.db' } }), rejectsWith('PROFILE_EXISTS'));
    // The attempts that got as far as the profile itself are in the audit log: the path that escapes the
    // workspace (failed) and the id that exists (refused); usage errors are not (before: none of these was).
    const creates = readAudit(context).filter((e) => e.event === 'create').map((e) => `${e.profile ?? '-'} ${e.outcome}`);
    assert.deepEqual(creates, ['abc failed', 'abc ok', 'abc refused']);
  });

  it('a profile without databases says why none could be taken from the workspace: no profile yet, or none that loads (before: only "would have no databases")', async () => {
    const { context } = await emptyWorkspace();
    const noneYet = await createProfile(context, { id: 'lonely', type: 'production' }).then(() => undefined, (e: unknown) => e as EnvProfilesError);
    assert.equal(noneYet?.message, 'Profile "lonely" would have no databases: the built-in template "production" names none, and the workspace has no profile yet to take the logical names from.');
    assert.equal(noneYet?.hint, 'Pass at least one --db NAME=PATH (e.g. --db settings=data/lonely/settings.sqlite3).');
    const { context: demo, root } = await demoWorkspace();
    const profiles = path.join(root, '.envprofiles', 'profiles');
    for (const name of fs.readdirSync(profiles)) fs.writeFileSync(path.join(profiles, name), 'profile: [\n');
    const broken = runCli(['create', 'staging_001', '--type', 'testing'], { cwd: root });
    assert.equal(broken.status, 2, broken.stderr);
    assert.match(broken.stderr, /the built-in template "testing" names none, and none of the workspace's 3 profiles loads, so there are no logical names to take from them \("envprofiles validate" says what is wrong\)\./);
    for (const name of fs.readdirSync(profiles).slice(1)) fs.rmSync(path.join(profiles, name));
    const one = await createProfile(demo, { id: 'staging_001' }).then(() => undefined, (e: unknown) => e as EnvProfilesError);
    assert.match(one?.message ?? '', /the workspace's one profile \(dev_environment_001\) does not load, so there are no logical names to take from it/);
    assert.equal(fs.existsSync(path.join(profiles, 'staging_001.yaml')), false);
  });

  it('a profile made from options that does not validate is refused naming each option (or template key) that gave the bad value, and nothing is written (before: the line and column of a file never written, "new profile:10:10", and "Fix the profile file")', async () => {
    const { root, context } = await demoWorkspace();
    const before = snapshotTree(root, (rel) => rel === '.envprofiles/audit.jsonl');
    const bad = runCli(['create', 'new_one', '--db', 'app=../outside/app.db', '--db', 'notes=.envprofiles/notes.db', '--set', 'bad-key=1'], { cwd: root });
    assert.equal(bad.status, 1, bad.stderr);
    assert.equal(bad.stderr, [
      'error[PROFILE_INVALID]: Cannot create new_one: --db app: "../outside/app.db" points outside the workspace folder; keep databases inside the workspace or allow the directory under "allowed_directories" in .envprofiles/config.yaml (and 2 more problems)',
      '  also: create new_one --db notes: ".envprofiles/notes.db" is inside .envprofiles, where this tool keeps its own files',
      '  also: create new_one --set bad-key: "bad-key" cannot be an environment variable name: use letters, digits and "_", not starting with a digit',
      '  Give that option another value and run the command again; nothing was changed.',
      '',
    ].join('\n'));
    // A template's value is named as the template's, with where the template is.
    fs.mkdirSync(path.join(root, '.envprofiles/templates'), { recursive: true });
    fs.writeFileSync(path.join(root, '.envprofiles/templates/outside.yaml'), 'profile:\n  id: "${id}"\n  name: outside\n  type: TESTING\n  databases:\n    main: "../outside/${id}.db"\n');
    const fromTemplate = runCli(['create', 'new_two', '--template', 'outside', '--json'], { cwd: root });
    assert.equal(fromTemplate.json?.error?.message, 'Cannot create new_two: databases.main (from the template "outside"): "../outside/new_two.db" points outside the workspace folder; keep databases inside the workspace or allow the directory under "allowed_directories" in .envprofiles/config.yaml');
    assert.equal(fromTemplate.json?.error?.hint, 'Give the value with an option instead (--db NAME=PATH, --set KEY=VALUE, --name, --description), or correct the template "outside" (.envprofiles/templates/outside.yaml); nothing was changed.');
    fs.rmSync(path.join(root, '.envprofiles/templates/outside.yaml'));
    // A name of two lines: refused by create (named by its option) and by clone (up front, a usage error).
    const twoLines = runCli(['create', 'new_three', '--name', 'QA\nnightly', '--json'], { cwd: root });
    assert.equal(twoLines.json?.error?.message, 'Cannot create new_three: --name: "QA\\nnightly" (in JSON notation) holds a line break or another control character: a name is shown on one line (lists, the status bar); write it on one line (a description may have several)');
    const cloned = runCli(['clone', DEV, 'new_four', '--name', 'QA\nnightly'], { cwd: root });
    assert.equal(cloned.status, 2);
    assert.equal(cloned.stderr, 'error[USAGE]: Cannot clone into "new_four": --name: "QA\\nnightly" (in JSON notation) holds a line break or another control character: a name is shown on one line (lists, the status bar); write it on one line (a description may have several). Nothing was written.\n');
    assert.deepEqual(snapshotTree(root, (rel) => rel === '.envprofiles/audit.jsonl'), before);
    // The attempt is still in the audit log as failed.
    assert.deepEqual(readAudit(context).filter((e) => e.event === 'create').map((e) => `${e.profile} ${e.outcome}`), ['new_one failed', 'new_two failed', 'new_three failed']);
  });

  it('from a user template in .envprofiles/templates with ${id} placeholders', async () => {
    const { root, context } = await emptyWorkspace();
    fs.mkdirSync(path.join(root, '.envprofiles/templates'));
    fs.writeFileSync(path.join(root, '.envprofiles/templates/bot.yaml'), 'profile:\n  name: "Bot ${id}"\n  type: testing\n  databases:\n    orders: "var/${id}/orders.sqlite3"\n  configurations:\n    exchange: kraken\n');
    const { profile } = await createProfile(context, { id: 'bot_a', template: 'bot' });
    assert.equal(profile.name, 'Bot bot_a');
    assert.equal(profile.type, 'TESTING');
    assert.deepEqual(profile.databases, { orders: 'var/bot_a/orders.sqlite3' });
    assert.equal(profile.configurations.exchange, 'kraken');
    await assert.rejects(createProfile(context, { id: 'bot_b', template: 'nope' }), (e: unknown) => rejectsWith('TEMPLATE_NOT_FOUND')(e) && /development, testing, production, backup, bot/.test((e as EnvProfilesError).hint ?? ''));
  });

  it('from a YAML file: the specification template, keeping its comment', async () => {
    const { root, context } = await emptyWorkspace();
    const source = path.join(tempDir(), 'profile_template.yaml');
    fs.writeFileSync(source, SPEC_TEMPLATE);
    const { file, profile } = await createProfileFromFile(context, source);
    assert.equal(profile.name, '개발 환경');
    assert.equal(fs.readFileSync(file, 'utf8'), SPEC_TEMPLATE, 'written as given');
    assert.equal(file, path.join(root, '.envprofiles/profiles/dev_environment_001.yaml'));
  });

  it('initialises missing databases: empty, or with another profile\'s schema', async () => {
    const { root, context } = await demoWorkspace();
    const sqlite = await engine();
    const empty = await createProfile(context, { id: 'blank_env', initialise: { kind: 'empty' } });
    assert.deepEqual(empty.initialisedDatabases, ['settings', 'strategies', 'market_data']);
    const blank = sqlite.open(path.join(root, 'data/blank_env/settings.sqlite3'), { readOnly: true });
    assert.equal(blank.all("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'")[0].n, 0);
    assert.equal(blank.all('PRAGMA journal_mode')[0].journal_mode, 'wal');
    blank.close();
    const shaped = await createProfile(context, { id: 'shaped_env', initialise: { kind: 'schema-from', profile: DEV } });
    assert.deepEqual(fs.readdirSync(path.join(root, 'data/shaped_env')).sort(), ['market_data.sqlite3', 'settings.sqlite3', 'strategies.sqlite3'], 'no temporary or -wal files left');
    const db = sqlite.open(path.join(root, 'data/shaped_env/strategies.sqlite3'), { readOnly: true });
    const tables = db.all("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").map((r) => r.name);
    assert.deepEqual(tables, ['backtest_results', 'performance_metrics', 'strategy_profiles', 'trading_conditions']);
    assert.equal(db.all('SELECT count(*) AS n FROM strategy_profiles')[0].n, 0, 'schema only, no rows');
    assert.equal(db.all('PRAGMA user_version')[0].user_version, 3);
    db.close();
    assert.deepEqual(shaped.initialisedDatabases, ['settings', 'strategies', 'market_data']);
  });

  it('a create that fails while initialising databases leaves nothing behind', async () => {
    const { root, context } = await demoWorkspace();
    // The second database's source is broken: the first one is already made when the create fails.
    fs.writeFileSync(path.join(root, 'data/dev/strategies.sqlite3'), Buffer.alloc(4096, 1));
    await assert.rejects(createProfile(context, { id: 'broken_env', initialise: { kind: 'schema-from', profile: DEV } }));
    assert.ok(!fs.existsSync(path.join(root, 'data/broken_env')), 'no half-made data folder');
    assert.ok(!fs.existsSync(path.join(root, '.envprofiles/profiles/broken_env.yaml')));
    assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), []);
  });
});

describe('clone', () => {
  it('a new profile\'s databases keep their file names, made unique in its folder (also for a restore as a new profile, which gave two databases one path)', () => {
    assert.deepEqual(databasePathsIn('data/copy/', { a: 'data/x/app.sqlite3', c: 'data/z/b-app.sqlite3', b: 'data/y/app.sqlite3', d: 'd.sqlite3' }), {
      a: 'data/copy/app.sqlite3',
      c: 'data/copy/b-app.sqlite3',
      b: 'data/copy/b-2-app.sqlite3',
      d: 'data/copy/d.sqlite3',
    });
  });

  it('copies the databases into data/<new-id>/, keeps comments and unknown keys, and records where it came from', async () => {
    const { root, context } = await demoWorkspace();
    const file = path.join(root, '.envprofiles/profiles', `${DEV}.yaml`);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('  configurations:', '  # the application reads these\n  owner_team: quant\n  configurations:'));
    const result = await cloneProfile(context, { source: DEV, id: 'dev_copy', name: '개발 복사본', type: 'TESTING' });
    assert.deepEqual(result.databases, { settings: 'data/dev_copy/settings.sqlite3', strategies: 'data/dev_copy/strategies.sqlite3', market_data: 'data/dev_copy/market_data.sqlite3' });
    const text = fs.readFileSync(result.file, 'utf8');
    assert.match(text, /^# profile_template\.yaml/);
    assert.match(text, /# the application reads these\n  owner_team: quant/);
    assert.match(text, /cloned_from: dev_environment_001/);
    const { profile } = loadProfile(context.layout, defaultConfig(), 'dev_copy');
    assert.equal(profile.name, '개발 복사본');
    assert.equal(profile.type, 'TESTING');
    const sqlite = await engine();
    for (const [logical, written] of Object.entries(result.databases)) {
      const a = sqlite.open(path.join(root, `data/dev/${logical}.sqlite3`), { readOnly: true });
      const b = sqlite.open(path.join(root, written), { readOnly: true });
      for (const table of a.all("SELECT name FROM sqlite_schema WHERE type = 'table'").map((r) => String(r.name))) {
        assert.deepEqual(b.all(`SELECT * FROM "${table}"`), a.all(`SELECT * FROM "${table}"`), `${logical}.${table}`);
      }
      a.close();
      b.close();
    }
    assert.equal(readAudit(context).find((e) => e.event === 'clone')?.outcome, 'ok');
  });

  it("a create, a clone or a restore as a new profile that would put a database where config.yaml puts an output is refused before anything is written (before: the next switch replaced it)", async () => {
    const { root, context } = await demoWorkspace();
    // No switch has made the links yet: nothing is at their paths, but config.yaml puts them there.
    await assert.rejects(cloneProfile(context, { source: 'dev_environment_001', id: 'dev_flat', dataDir: 'data' }), (error: unknown) => error instanceof EnvProfilesError && error.code === 'OUTPUT_CONFLICT'
      && error.message === "data/settings.sqlite3 is where a switch writes the link to the active profile's settings (outputs.links in .envprofiles/config.yaml): a database there would be replaced by the next switch. Nothing was changed."
      && error.hint === 'Pass --data-dir with another folder.');
    assert.deepEqual(fs.readdirSync(path.join(root, 'data')).sort(), ['dev', 'prod', 'test']);
    assert.equal(fs.existsSync(path.join(root, '.envprofiles/profiles/dev_flat.yaml')), false);
    const backup = await createBackup(context, { profileId: 'dev_environment_001' });
    const config = path.join(root, '.envprofiles/config.yaml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('env_file: .env', 'env_file: data/dev_again/strategies.sqlite3'));
    await assert.rejects(restoreBackup(context, { reference: backup.entry.id, asNew: 'dev_again' }), (error: unknown) => error instanceof EnvProfilesError && error.code === 'OUTPUT_CONFLICT' && error.message.startsWith('data/dev_again/strategies.sqlite3 is where a switch writes the env file (outputs.env_file in .envprofiles/config.yaml)'));
    assert.equal(fs.existsSync(path.join(root, 'data/dev_again')), false);
    assert.equal(fs.existsSync(path.join(root, '.envprofiles/profiles/dev_again.yaml')), false);
    // Nor does create make a profile whose database is the env file (before: made, and --init-db kept the env file as its "database").
    const created = runCli(['create', 'envy', '--db', 'settings=data/dev_again/strategies.sqlite3', '--init-db', 'empty', '--json'], { cwd: root });
    assert.equal(created.json?.error?.code, 'OUTPUT_CONFLICT', created.stdout);
    assert.equal(created.json?.error?.hint, 'Give that database another path.');
    assert.equal(fs.existsSync(path.join(root, '.envprofiles/profiles/envy.yaml')), false);
    assert.equal(fs.existsSync(path.join(root, 'data/dev_again')), false);
  });

  it('with backups.directory "data", a clone, a created profile and a restore as a new profile put their databases beside data/<id>/, where their backups go, and say so (before: the first backup wrote its catalog among the databases, and the profile was invalid from then on)', async () => {
    const { root, context } = await demoWorkspace();
    const config = path.join(root, '.envprofiles/config.yaml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('directory: .envprofiles/backups', 'directory: data'));
    const why = (id: string): string => `${id}'s databases go to data/${id}-databases/, not data/${id}/: that is where its backups go (backups.directory "data" in .envprofiles/config.yaml, then a folder per profile id)`;
    const clone = await cloneProfile(context, { source: DEV, id: 'dev_copy' });
    assert.equal(clone.databases.settings, 'data/dev_copy-databases/settings.sqlite3');
    assert.deepEqual(clone.notes, [why('dev_copy')]);
    // Backed up twice: the second backup, after a catalog is in data/dev_copy/, is what failed.
    const first = await createBackup(context, { profileId: 'dev_copy' });
    await createBackup(context, { profileId: 'dev_copy' });
    assert.ok(fs.existsSync(path.join(root, 'data/dev_copy/catalog.json')));
    assert.equal(loadProfile(context.layout, loadWorkspaceConfig(context.layout), 'dev_copy').profile.id, 'dev_copy');
    const created = await createProfile(context, { id: 'named_alike' });
    assert.equal(created.profile.databases.settings, 'data/named_alike-databases/settings.sqlite3');
    assert.equal(created.notes[0], why('named_alike'));
    const restored = await restoreBackup(context, { reference: first.entry.id, asNew: 'dev_back' });
    assert.ok(restored.notes.includes(why('dev_back')), restored.notes.join('\n'));
    assert.equal(loadProfile(context.layout, loadWorkspaceConfig(context.layout), 'dev_back').profile.databases.market_data, 'data/dev_back-databases/market_data.sqlite3');
    // --data-dir names the folder: there data/<id>/ is refused up front, naming the option (not a profile file never written).
    await assert.rejects(cloneProfile(context, { source: DEV, id: 'dev_third', dataDir: 'data/dev_third' }), (error: unknown) => error instanceof EnvProfilesError && error.code === 'USAGE'
      && error.message === `--data-dir data/dev_third cannot hold the clone's databases: it is ${root}/data/dev_third, the folder where the backups of dev_third go (backups.directory in .envprofiles/config.yaml, then a folder per profile id), where this tool keeps the archives and their catalogs. Nothing was written.`
      && error.hint === 'Choose another folder, or leave --data-dir out: the databases then go to data/dev_third-databases/.');
    await assert.rejects(cloneProfile(context, { source: DEV, id: 'dev_third', dataDir: 'data/dev_copy' }), (error: unknown) => error instanceof EnvProfilesError && error.code === 'USAGE' && error.message.includes('the folder where the backups of dev_copy go'));
    assert.equal(fs.existsSync(path.join(root, 'data/dev_third')), false);
    assert.equal(fs.existsSync(path.join(root, '.envprofiles/profiles/dev_third.yaml')), false);
  });

  it('a backup of a profile that was itself restored is restored as a new profile named once "(restored <date>)", with the date of that backup (before: "(restored …) (restored …)")', async () => {
    const { context } = await demoWorkspace();
    const first = await createBackup(context, { profileId: DEV });
    await restoreBackup(context, { reference: first.entry.id, asNew: 'dev_back' });
    const again = await createBackup(context, { profileId: 'dev_back' });
    await restoreBackup(context, { reference: again.entry.id, asNew: 'dev_back_again' });
    const name = loadProfile(context.layout, loadWorkspaceConfig(context.layout), 'dev_back_again').profile.name;
    assert.equal(name, `${loadProfile(context.layout, loadWorkspaceConfig(context.layout), DEV).profile.name} (restored ${again.entry.createdAt.slice(0, 10)})`);
  });

  it('a clone of PRODUCTION into another type drops protection; into PRODUCTION keeps it', async () => {
    const { context } = await demoWorkspace();
    const test = await cloneProfile(context, { source: 'prod_environment_001', id: 'prod_rehearsal', type: 'TESTING', data: 'schema' });
    assert.equal(test.profile.protected, false);
    const prod = await cloneProfile(context, { source: 'prod_environment_001', id: 'prod_two', data: 'empty' });
    assert.equal(prod.profile.protected, true);
  });

  it('schema and empty modes create databases without rows', async () => {
    const { root, context } = await demoWorkspace();
    const sqlite = await engine();
    await cloneProfile(context, { source: DEV, id: 'dev_schema', data: 'schema' });
    const db = sqlite.open(path.join(root, 'data/dev_schema/market_data.sqlite3'), { readOnly: true });
    assert.equal(db.all('SELECT count(*) AS n FROM price_data')[0].n, 0);
    db.close();
    await cloneProfile(context, { source: DEV, id: 'dev_empty', data: 'empty' });
    const empty = sqlite.open(path.join(root, 'data/dev_empty/market_data.sqlite3'), { readOnly: true });
    assert.equal(empty.all("SELECT count(*) AS n FROM sqlite_schema")[0].n, 0);
    empty.close();
  });

  it('a clone of a profile whose database file is missing is DATABASE_MISSING, and its hint names a validate that runs (before: DATABASE_INVALID, and "envprofiles validate" without the id, a usage error)', async () => {
    const { root } = await demoWorkspace();
    assert.equal(runCli(['create', 'hollow_env', '--workspace', root]).status, 0);
    const clone = runCli(['clone', 'hollow_env', 'hollow_copy', '--workspace', root]);
    assert.equal(clone.status, 1, clone.stderr);
    assert.equal(clone.stderr, [
      'error[DATABASE_MISSING]: data/hollow_env/settings.sqlite3 does not exist, so data/hollow_copy/settings.sqlite3 cannot be made from it.',
      '  Fix the path in hollow_env, or restore that database from a backup ("envprofiles validate hollow_env" says which backup holds it).',
      '',
    ].join('\n'));
    assert.ok(!fs.existsSync(path.join(root, 'data/hollow_copy')) && !fs.existsSync(path.join(root, '.envprofiles/profiles/hollow_copy.yaml')), 'nothing of the clone');
    const validate = runCli(['validate', 'hollow_env', '--workspace', root]);
    assert.equal(validate.status, 1);
    assert.match(validate.stdout, /\nnext: 3 database files are missing\. No backup holds them: make them anew/);
  });

  it('refuses to overwrite existing files or profiles, and leaves nothing behind when it fails', async () => {
    const { root, context } = await demoWorkspace();
    fs.mkdirSync(path.join(root, 'data/taken'), { recursive: true });
    fs.writeFileSync(path.join(root, 'data/taken/settings.sqlite3'), 'precious');
    await assert.rejects(cloneProfile(context, { source: DEV, id: 'taken' }), rejectsWith('TARGET_EXISTS'));
    assert.equal(fs.readFileSync(path.join(root, 'data/taken/settings.sqlite3'), 'utf8'), 'precious');
    await assert.rejects(cloneProfile(context, { source: DEV, id: 'test_environment_001' }), rejectsWith('PROFILE_EXISTS'));
    await assert.rejects(cloneProfile(context, { source: 'missing_src', id: 'whatever' }), rejectsWith('PROFILE_NOT_FOUND'));
    const failing = { ...context, onStep: (step: string) => { if (step === 'database:strategies') throw new EnvProfilesError('INJECTED_FAULT', 'disk full'); } };
    await assert.rejects(cloneProfile(failing, { source: DEV, id: 'half_done' }), rejectsWith('INJECTED_FAULT'));
    assert.ok(!fs.existsSync(path.join(root, 'data/half_done')), 'copied databases removed');
    assert.ok(!fs.existsSync(path.join(root, '.envprofiles/profiles/half_done.yaml')));
    assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), []);
    // Each attempt is in the audit log: refused when something was in the way (before: none of these three
    // had a line), failed otherwise.
    assert.deepEqual(readAudit(context).filter((e) => e.event === 'clone').map((e) => `${e.profile} ${e.outcome} ${e.detail}`), [
      'taken refused data/taken/settings.sqlite3 already exists; cloning would overwrite it.',
      'test_environment_001 refused Profile "test_environment_001" already exists (.envprofiles/profiles/test_environment_001.yaml).',
      'whatever failed No profile "missing_src" in .envprofiles/profiles.',
      'half_done failed disk full',
    ]);
  });

  it('an id that differs from a profile\'s, or from a deleted profile\'s backups, only in case is refused by clone, create and restore --as-new (before: accepted; on a disk that does not tell case apart, one profile file and one backups folder, whose catalog each wrote over the other\'s)', async () => {
    const { root, context } = await demoWorkspace();
    const differsInCase = (error: unknown): boolean => {
      assert.ok(error instanceof EnvProfilesError && error.code === 'PROFILE_EXISTS', String(error));
      assert.match(error.message, /^Profile id "\S+" differs from (the profile "dev_environment_001"|the backups of "old_profile" \(a deleted profile's\)) only in case: on a disk that does not tell case apart \(macOS, Windows, a FAT or exFAT stick\) both would be one profile file and one backups folder\.$/);
      return true;
    };
    await assert.rejects(cloneProfile(context, { source: DEV, id: 'DEV_Environment_001' }), differsInCase);
    await assert.rejects(createProfile(context, { id: 'Dev_environment_001', type: 'DEVELOPMENT', databases: { settings: 'data/x/settings.sqlite3' }, initialise: { kind: 'empty' } }), differsInCase);
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    await assert.rejects(restoreBackup(context, { reference: backup.entry.id, asNew: 'DEV_ENVIRONMENT_001' }), differsInCase);
    // A deleted profile's backups folder counts too.
    fs.mkdirSync(path.join(root, '.envprofiles/backups/old_profile'));
    await assert.rejects(cloneProfile(context, { source: DEV, id: 'Old_Profile' }), differsInCase);
    assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/profiles')).sort(), ['dev_environment_001.yaml', 'prod_environment_001.yaml', 'test_environment_001.yaml']);
    // An id of its own in any case is fine.
    await cloneProfile(context, { source: DEV, id: 'Dev_Copy' });
  });

  it('a pair of ids that differ only in case, made before that was refused (or by hand), is warned of: list and validate name the other and say what to do (the same warnings go to the Problems panel)', async () => {
    const { root } = await demoWorkspace();
    const twin = 'DEV_ENVIRONMENT_001';
    const yaml = fs.readFileSync(path.join(root, `.envprofiles/profiles/${DEV}.yaml`), 'utf8');
    fs.writeFileSync(path.join(root, `.envprofiles/profiles/${twin}.yaml`), yaml.replace(`id: "${DEV}"`, `id: "${twin}"`));
    const warning = (id: string, other: string): string => `"${id}" differs from the profile "${other}" only in case: on a disk that does not tell case apart (macOS, Windows, a FAT or exFAT stick) the two are one profile file, and their backups share one folder. Give one of them another id: envprofiles clone ${id} <new-id>, back the clone up, then delete ${id}`;
    const listed = runCli(['list', '--json', '--workspace', root]);
    assert.equal(listed.status, 0, listed.stderr);
    const byId = new Map(listed.json?.result.profiles.map((p: { id: string; valid: boolean; warnings: { field: string; message: string }[] }) => [p.id, p]));
    assert.deepEqual(byId.get(twin), { ...(byId.get(twin) as object), valid: true, warnings: [{ file: `.envprofiles/profiles/${twin}.yaml`, field: 'profile.id', message: warning(twin, DEV), line: 3, column: 3 }] });
    assert.deepEqual((byId.get(DEV) as { warnings: { message: string }[] }).warnings.map((w) => w.message), [warning(DEV, twin)]);
    assert.deepEqual((byId.get('prod_environment_001') as { warnings: unknown[] }).warnings, []);
    const text = runCli(['list', '--workspace', root]).stdout;
    assert.ok(text.endsWith(`\nwarning: ${twin}: id: ${warning(twin, DEV)}\nwarning: ${DEV}: id: ${warning(DEV, twin)}\n`), text);
    const validated = runCli(['validate', twin, '--workspace', root]);
    assert.equal(validated.status, 0, validated.stderr);
    assert.match(validated.stdout, new RegExp(`\\n {2}WARN id: "${twin}" differs from the profile "${DEV}" only in case`));
  });

  it('--data-dir outside the workspace, in .envprofiles, or through a link leading outside is refused up front, naming the option (before: errors about a profile file that was never written); only for a folder outside does the hint offer allowed_directories', async () => {
    const { root, context } = await demoWorkspace();
    fs.symlinkSync(path.join(tempDir(), 'missing'), path.join(root, 'elsewhere'));
    for (const [dataDir, why] of [[tempDir(), 'it points outside the workspace folder'], ['.envprofiles/data', 'it is inside .envprofiles, where this tool keeps its own files'], ['elsewhere/c', 'it leads outside the workspace folder through a symbolic link']] as const) {
      await assert.rejects(cloneProfile(context, { source: DEV, id: 'copy_one', dataDir }), (error: unknown) => {
        assert.ok(error instanceof EnvProfilesError);
        assert.deepEqual([error.code, error.kind, error.field], ['USAGE', 'usage', 'data-dir']);
        assert.ok(error.message.startsWith(`--data-dir ${dataDir} cannot hold the clone's databases: ${why}`), error.message);
        assert.equal(error.hint, dataDir.startsWith('.envprofiles') ? 'Choose another folder inside the workspace (data/<new-id>/ is the default).' : 'Choose a folder inside the workspace, or add it to allowed_directories in .envprofiles/config.yaml.');
        return true;
      });
    }
    assert.ok(!fs.existsSync(path.join(root, '.envprofiles/profiles/copy_one.yaml')));
  });
});

describe('init', () => {
  it('creates the store and leaves existing files alone', async () => {
    const root = tempDir();
    const { context } = await emptyWorkspace();
    const fresh = { ...context, layout: new (context.layout.constructor as new (r: string) => typeof context.layout)(root) };
    const first = initialiseWorkspace(fresh);
    assert.equal(first.alreadyInitialised, false);
    fs.writeFileSync(path.join(root, '.envprofiles/config.yaml'), 'outputs:\n  env_file: custom.env\n');
    const second = initialiseWorkspace(fresh);
    assert.deepEqual(second.created, []);
    assert.equal(fs.readFileSync(path.join(root, '.envprofiles/config.yaml'), 'utf8'), 'outputs:\n  env_file: custom.env\n');
  });
});
