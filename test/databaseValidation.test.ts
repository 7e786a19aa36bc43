import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fullValidateProfile, quickValidateProfile, type ValidationReport } from '../src/core/databaseValidation';
import { loadProfile } from '../src/core/profileStore';
import { loadWorkspaceConfig } from '../src/core/workspaceConfig';
import type { WorkspaceContext } from '../src/core/workspaceContext';
import { demoWorkspace, engine } from './support/workspaces';
import { runCli } from './support/cliRunner';

const DEV = 'dev_environment_001';
const TEST = 'test_environment_001';

async function validate(context: WorkspaceContext, id: string, full: boolean): Promise<ValidationReport> {
  const config = loadWorkspaceConfig(context.layout);
  const { profile } = loadProfile(context.layout, config, id);
  return full ? fullValidateProfile(context, config, profile) : quickValidateProfile(context, config, profile);
}

/** Adds trading conditions whose strategy does not exist to dev's strategies database (`rows`: VALUES or SELECT). */
async function insertOrphans(root: string, rows: string, withClause = ''): Promise<void> {
  const db = (await engine()).open(path.join(root, 'data/dev/strategies.sqlite3'), { readOnly: false });
  db.exec('PRAGMA foreign_keys = OFF');
  db.exec(`${withClause}INSERT INTO trading_conditions (strategy_id, expression, weight) ${rows}`);
  db.close();
}

function check(report: ValidationReport, database: string, name: string) {
  const found = report.databases.find((d) => d.name === database)?.checks.find((c) => c.check === name);
  assert.ok(found, `no ${name} check on ${database}`);
  return found;
}

describe('database validation', () => {
  it('quick: reports file, header, journal mode, -wal and schema for every database', async () => {
    const { context } = await demoWorkspace();
    const report = await validate(context, DEV, false);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.deepEqual(report.databases.map((d) => d.name), ['settings', 'strategies', 'market_data']);
    const settings = report.databases[0];
    assert.equal(settings.journalMode, 'wal');
    assert.equal(settings.pageSize, 4096);
    assert.equal(settings.userVersion, 3);
    assert.deepEqual(Object.keys(settings.schema ?? {}).sort(), ['api_credentials', 'tv_comparison_groups', 'tv_help_texts', 'tv_trading_variables', 'tv_variable_parameters']);
    assert.equal(check(report, 'settings', 'wal-file').severity, 'info');
    assert.equal(check(report, 'settings', 'schema').detail, '5 tables');
    // Its size at a glance and exactly, in groups of three (before: "598016 bytes").
    const size = fs.statSync(path.join(context.layout.root, 'data/dev/market_data.sqlite3')).size;
    assert.ok(size > 10_000, String(size));
    assert.equal(check(report, 'market_data', 'exists').detail, `${Math.ceil(size / 1024)} KB (${size.toLocaleString('en-US')} bytes)`);
    assert.match(check(report, 'market_data', 'exists').detail, /^\d+ KB \(\d{2,3},\d{3} bytes\)$/);
  });

  it('quick: a database of one table says "1 table" (before: "1 tables"), and one required table is named (before: "all 1 required tables present")', async () => {
    const { root, context } = await demoWorkspace();
    const db = (await engine()).open(path.join(root, 'data/dev/strategies.sqlite3'), { readOnly: false });
    db.exec('PRAGMA foreign_keys = OFF; DROP TABLE trading_conditions; DROP TABLE backtest_results; DROP TABLE performance_metrics');
    db.close();
    assert.equal(check(await validate(context, DEV, false), 'strategies', 'schema').detail, '1 table');
    // One required table is named, not "all 1 required tables present".
    const test = await validate(context, TEST, false);
    assert.equal(check(test, 'market_data', 'required-tables').detail, 'its required table price_data is present');
    assert.equal(check(test, 'settings', 'required-tables').detail, 'all 2 required tables present');
  });

  it('quick: a missing file, a non-SQLite file and a missing required table are errors', async () => {
    const { root, context } = await demoWorkspace();
    fs.rmSync(path.join(root, 'data/test/settings.sqlite3'));
    fs.writeFileSync(path.join(root, 'data/test/strategies.sqlite3'), Buffer.alloc(8192, 7));
    const sqlite = await engine();
    const db = sqlite.open(path.join(root, 'data/test/market_data.sqlite3'), { readOnly: false });
    db.exec('DROP TABLE price_data');
    db.close();
    const report = await validate(context, TEST, false);
    assert.equal(report.ok, false);
    assert.match(check(report, 'settings', 'exists').detail, /does not exist/);
    assert.match(check(report, 'strategies', 'header').detail, /not a SQLite 3 database/);
    assert.match(check(report, 'market_data', 'required-tables').detail, /lacks required table price_data/);
    assert.equal(report.problems.filter((p) => p.severity === 'error').length, 3);
    assert.ok(report.problems.every((p) => p.file === '.envprofiles/profiles/test_environment_001.yaml' && p.field?.startsWith('profile.databases.')));
  });

  it('quick: a database cut short (shorter than the pages its header counts, as SQLite itself calls corrupt) is an error that says to restore it (before: "header ok", then "cannot be opened: database disk image is malformed"); a file whose header count is stale (from SQLite before 3.7.0) is not', async () => {
    const { root, context } = await demoWorkspace();
    const market = path.join(root, 'data/dev/market_data.sqlite3');
    const whole = fs.readFileSync(market);
    const cut = Math.floor(whole.length / 2) + 100;
    fs.truncateSync(market, cut);
    const report = await validate(context, DEV, false);
    assert.equal(report.ok, false);
    const header = check(report, 'market_data', 'header');
    assert.equal(header.severity, 'error');
    assert.match(header.detail, /^data\/dev\/market_data\.sqlite3 is cut short: \d+ bytes, shorter than the \d+ pages of 4096 bytes its header counts \(a copy that stopped, a failing disk\)\. Restore it from a backup \("envprofiles restore <backup-id> --db market_data"; the restore keeps the damaged file beside it\)$/);
    // A count that SQLite does not take as the size (version-valid-for differs from the change counter) says nothing of the length.
    const stale = Buffer.from(whole);
    stale.writeUInt32BE(stale.readUInt32BE(28) + 10, 28);
    stale.writeUInt32BE(stale.readUInt32BE(24) + 1, 92);
    fs.writeFileSync(market, stale);
    assert.equal(check(await validate(context, DEV, false), 'market_data', 'header').severity, 'ok');
    // A database of one page cut short says "the 1 page" (before: "the 1 pages").
    for (const suffix of ['-wal', '-shm']) fs.rmSync(`${market}${suffix}`, { force: true });
    fs.rmSync(market);
    const one = (await engine()).open(market, { readOnly: false, create: true });
    one.exec('PRAGMA journal_mode = DELETE; PRAGMA user_version = 1');
    one.close();
    fs.truncateSync(market, 2000);
    assert.match(check(await validate(context, DEV, false), 'market_data', 'header').detail, /is cut short: 2000 bytes, shorter than the 1 page of 4096 bytes its header counts/);
  });

  it('an empty (0-byte) database file is what SQLite makes on open, a database with no tables: a warning, not an error, as backup takes it too (before: validate failed it, and switching to it was refused); it is left at 0 bytes', async () => {
    const { root, context } = await demoWorkspace();
    const file = path.join(root, 'data/dev/settings.sqlite3');
    fs.writeFileSync(file, '');
    for (const suffix of ['-wal', '-shm']) fs.rmSync(`${file}${suffix}`, { force: true });
    const profileFile = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    fs.writeFileSync(profileFile, fs.readFileSync(profileFile, 'utf8').replace(/ {2}schema:[\s\S]*?(?=\n {2}\w)/, ''));
    const report = await validate(context, DEV, true);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.deepEqual([check(report, 'settings', 'header').severity, check(report, 'settings', 'header').detail], ['warning', 'data/dev/settings.sqlite3 is empty (0 bytes): SQLite reads it as a database with no tables, and writes its header on the first change']);
    assert.equal(check(report, 'settings', 'schema').detail, '0 tables');
    assert.equal(fs.statSync(file).size, 0);
  });

  it('quick validation never modifies the database files', async () => {
    const { root, context } = await demoWorkspace();
    const file = path.join(root, 'data/dev/market_data.sqlite3');
    const before = fs.readFileSync(file);
    await validate(context, DEV, true);
    assert.ok(fs.readFileSync(file).equals(before));
  });

  it('full: integrity_check finds a corrupted page', async () => {
    const { root, context } = await demoWorkspace(400);
    const file = path.join(root, 'data/dev/market_data.sqlite3');
    const bytes = fs.readFileSync(file);
    const pageSize = bytes.readUInt16BE(16);
    // Scribble over the middle of a data page: the header stays readable, the b-tree does not.
    bytes.fill(0xa5, pageSize * 20 + 8, pageSize * 20 + 600);
    fs.writeFileSync(file, bytes);
    const report = await validate(context, DEV, true);
    assert.equal(report.ok, false);
    const integrity = check(report, 'market_data', 'integrity');
    assert.equal(integrity.severity, 'error');
    assert.match(integrity.detail, /integrity_check of data\/dev\/market_data\.sqlite3 found \d+( or more)? problems?: .*page 21/);
  });

  it('full: foreign_key_check finds an orphan row', async () => {
    const { root, context } = await demoWorkspace();
    await insertOrphans(root, "VALUES (404, 'orphan', 1)");
    assert.equal((await validate(context, DEV, false)).ok, true, 'quick validation does not run foreign_key_check');
    const report = await validate(context, DEV, true);
    assert.equal(report.ok, false);
    assert.match(check(report, 'strategies', 'foreign-keys').detail, /1 violation: trading_conditions row \d+ -> strategy_profiles/);
  });

  it('full: counts many foreign key violations and shows three, on a checking thread (the event loop keeps turning)', async () => {
    const { root, context } = await demoWorkspace();
    await insertOrphans(root, "SELECT 100000 + i, 'orphan', 1 FROM s", 'WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 50000) ');
    let turns = 0;
    let checking = true;
    const count = (): void => {
      turns++;
      if (checking) setImmediate(count);
    };
    setImmediate(count);
    const report = await validate(context, DEV, true).finally(() => (checking = false));
    const detail = check(report, 'strategies', 'foreign-keys').detail;
    assert.match(detail, /found 50000 violations: (trading_conditions row \d+ -> strategy_profiles; ){2}trading_conditions row \d+ -> strategy_profiles; …$/);
    assert.ok(turns > 1, `the event loop turned ${turns} time(s) during the checks`);
  });

  it('full: lists schema differences with the same logical database of other profiles, as warnings', async () => {
    const { root, context } = await demoWorkspace();
    const db = (await engine()).open(path.join(root, 'data/test/settings.sqlite3'), { readOnly: false });
    db.exec('ALTER TABLE tv_trading_variables ADD COLUMN unit TEXT');
    db.exec('CREATE TABLE feature_flags (name TEXT)');
    db.exec('DROP TABLE tv_comparison_groups');
    db.close();
    const report = await validate(context, TEST, true);
    assert.equal(report.ok, true, 'differences are warnings, not errors');
    const againstDev = report.schemaDifferences.find((d) => d.otherProfile === DEV && d.database === 'settings');
    assert.ok(againstDev);
    assert.deepEqual(againstDev.missingTables, ['tv_comparison_groups']);
    assert.deepEqual(againstDev.extraTables, ['feature_flags']);
    assert.deepEqual(againstDev.columnDifferences, { tv_trading_variables: 'extra columns unit' });
    assert.ok(report.problems.some((p) => p.severity === 'warning' && /differs from profile "dev_environment_001"/.test(p.message)));
    assert.equal((await validate(context, DEV, true)).schemaDifferences.length, 1, 'dev differs only from test');
  });

  it('a database file another profile uses too (through another path or a link) is a warning naming that profile and its name for it; create says so at once (before: nothing, until a restore replaced it for both)', async () => {
    const { root, context } = await demoWorkspace();
    const profileFile = path.join(root, '.envprofiles/profiles', `${TEST}.yaml`);
    // test's market_data is dev's, written another way: a link to it.
    fs.symlinkSync(path.join(root, 'data/dev/market_data.sqlite3'), path.join(root, 'data/test/shared_market.sqlite3'));
    fs.writeFileSync(profileFile, fs.readFileSync(profileFile, 'utf8').replace('data/test/market_data.sqlite3', 'data/test/shared_market.sqlite3'));
    const quick = await validate(context, TEST, false);
    assert.equal(quick.ok, true, 'a warning, not an error');
    assert.deepEqual(quick.problems.filter((p) => /share/.test(p.message)), [{
      file: `.envprofiles/profiles/${TEST}.yaml`,
      field: 'profile.databases.market_data',
      severity: 'warning',
      message: `data/test/shared_market.sqlite3 is also ${DEV}'s "market_data": the two profiles share this one file: switching between them keeps the application on it, and restoring a backup of either replaces it for both; give market_data a file of its own unless sharing it is meant`,
    }]);
    assert.equal((await validate(context, DEV, true)).problems.filter((p) => /share this one file/.test(p.message)).length, 1, 'and the other way round');
    // A switch is not refused for it, and says it (before: nothing): a warning line, JSON warnings.
    const switched = runCli(['switch', TEST], { cwd: root });
    assert.equal(switched.status, 0, switched.stderr);
    assert.match(switched.stdout, new RegExp(`\n  warning: data/test/shared_market\\.sqlite3 is also ${DEV}'s "market_data": the two profiles share this one file: switching between them keeps the application on it, `));
    assert.equal(runCli(['switch', 'prod_environment_001', '--confirm', 'prod_environment_001', '--json'], { cwd: root }).json?.result.warnings.length, 0, 'none for a profile of its own files');
    // show says it too, last (before: nothing).
    assert.match(runCli(['show', TEST], { cwd: root }).stdout, new RegExp(`\n  warning: data/test/shared_market\\.sqlite3 is also ${DEV}'s "market_data": the two profiles share this one file: .*\n$`));
    assert.deepEqual(runCli(['show', 'prod_environment_001', '--json'], { cwd: root }).json?.result.warnings, []);
    assert.equal((await validate(context, 'prod_environment_001', false)).problems.length, 0, 'a profile with files of its own has none');
    const created = runCli(['create', 'qa_env', '--db', 'settings=data/prod/settings.sqlite3', '--db', 'notes=data/qa/notes.sqlite3', '--init-db', 'empty', '--json'], { cwd: root });
    assert.equal(created.status, 0, created.stderr);
    assert.deepEqual(created.json?.result.notes, ['data/prod/settings.sqlite3 is also prod_environment_001\'s "settings": the two profiles share this one file: switching between them keeps the application on it, and restoring a backup of either replaces it for both; give settings a file of its own unless sharing it is meant']);
  });

  it('validate --all: a line per profile, each error and warning under it, a file that does not load among them, and a count; exit 1 when any is not valid (before: one profile at a time, no way to check a whole workspace in one command)', async () => {
    const { root } = await demoWorkspace();
    const intact = runCli(['validate', '--all', '--full'], { cwd: root });
    assert.equal(intact.status, 0, intact.stderr);
    assert.equal(intact.stdout, `Full validation of 3 profiles (node:sqlite):\n  ${DEV}: valid\n  prod_environment_001: valid\n  ${TEST}: valid\nAll 3 profiles are valid.\n`);
    // test shares dev's market_data, prod's settings is gone, and a fourth profile's file does not parse.
    const testFile = path.join(root, '.envprofiles/profiles', `${TEST}.yaml`);
    fs.writeFileSync(testFile, fs.readFileSync(testFile, 'utf8').replace('data/test/market_data.sqlite3', 'data/dev/market_data.sqlite3'));
    fs.rmSync(path.join(root, 'data/prod/settings.sqlite3'));
    fs.writeFileSync(path.join(root, '.envprofiles/profiles/broken_env.yaml'), 'profile:\n  id: broken_env\n  name: [unclosed\n');
    const all = runCli(['validate', '--all'], { cwd: root });
    assert.equal(all.status, 1, all.stderr);
    const shared = (other: string): string => `data/dev/market_data.sqlite3 is also ${other}'s "market_data": the two profiles share this one file: switching between them keeps the application on it, and restoring a backup of either replaces it for both; give market_data a file of its own unless sharing it is meant`;
    assert.deepEqual(all.stdout.split('\n'), [
      'Quick validation of 4 profiles (node:sqlite):',
      '  broken_env: NOT valid: its file does not load',
      `    FAIL ${runCli(['validate', 'broken_env', '--json'], { cwd: root }).json?.error?.message}`,
      `  ${DEV}: valid, 1 warning`,
      `    WARN market_data: ${shared(TEST)}`,
      '  prod_environment_001: NOT valid, 1 problem',
      '    FAIL settings: data/prod/settings.sqlite3 does not exist',
      `  ${TEST}: valid, 1 warning`,
      `    WARN market_data: ${shared(DEV)}`,
      '2 of 4 profiles are valid. "envprofiles validate <id>" shows one profile\'s every check.',
      '',
    ]);
    const json = runCli(['validate', '--all', '--json'], { cwd: root }).json?.result;
    assert.deepEqual(json.profiles.map((p: { id: string; ok: boolean; file: string }) => `${p.id} ${p.ok} ${p.file}`), [
      'broken_env false .envprofiles/profiles/broken_env.yaml', `${DEV} true .envprofiles/profiles/${DEV}.yaml`, 'prod_environment_001 false .envprofiles/profiles/prod_environment_001.yaml', `${TEST} true .envprofiles/profiles/${TEST}.yaml`,
    ]);
    assert.equal(json.ok, false);
    // Not with an id too; and without either, the usage says both.
    const both = runCli(['validate', DEV, '--all'], { cwd: root });
    assert.equal(both.status, 2);
    assert.match(both.stderr, /^error\[USAGE\]: --all validates every profile; do not name one too\./);
    const neither = runCli(['validate'], { cwd: root });
    assert.equal(neither.status, 2);
    assert.match(neither.stderr, /^error\[USAGE\]: validate needs a profile id, or --all\./);
    // --full compares each profile's schemas with the others', as validate <id> --full does (each schema read once).
    const sqlite = await engine();
    const extra = sqlite.open(path.join(root, 'data/dev/strategies.sqlite3'), { readOnly: false });
    extra.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY)');
    extra.close();
    const full = runCli(['validate', '--all', '--full'], { cwd: root }).stdout.split('\n');
    const devLines = full.slice(full.indexOf(`  ${DEV}: valid, 3 warnings`) + 1).filter((line) => line.startsWith('    WARN database'));
    const single = runCli(['validate', DEV, '--full'], { cwd: root }).stdout.split('\n').filter((line) => line.startsWith('  WARN database')).map((line) => `  ${line}`);
    assert.deepEqual(devLines.slice(0, single.length), single);
    assert.equal(single.length, 2, single.join('\n'));
  });
});
