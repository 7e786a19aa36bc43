import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseEnv } from 'node:util';
import { readAudit } from '../src/core/auditLog';
import { EnvProfilesError } from '../src/core/errors';
import { quoteEnvValue } from '../src/core/envFileFormat';
import { switchProfile } from '../src/core/switchTransaction';
import { createWorkspaceContext, type WorkspaceContext } from '../src/core/workspaceContext';
import { workspaceStatus } from '../src/core/workspaceStatus';
import { Application } from './support/applicationConnections';
import { sha256Of } from './support/committedRows';
import { runCli } from './support/cliRunner';
import { allowFolders, assertSameTree, besideDir, demoWorkspace, snapshotTree, tempDir, temporaryFiles } from './support/workspaces';

const PROD = 'prod_environment_001';
const DEV = 'dev_environment_001';
const TEST = 'test_environment_001';

/** Everything except what SQLite itself manages beside a database and the append-only audit log. */
const outputsAndData = (root: string) => snapshotTree(root, (rel) => rel.endsWith('-shm') || rel.endsWith('-wal'));

function expectCode(code: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof EnvProfilesError, `expected EnvProfilesError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

describe('switch transaction', () => {
  it('writes state.json, the env file and the links, and status agrees', async () => {
    const { root, context } = await demoWorkspace();
    const result = await switchProfile(context, DEV);
    assert.equal(result.to, DEV);
    assert.equal(JSON.parse(fs.readFileSync(path.join(root, '.envprofiles/state.json'), 'utf8')).active, DEV);
    const env = parseEnv(fs.readFileSync(path.join(root, '.env'), 'utf8'));
    assert.equal(env.ENVPROFILE_ID, DEV);
    assert.equal(env.ENVPROFILE_TYPE, 'DEVELOPMENT');
    assert.equal(env.ENVPROFILE_NAME, '개발 환경');
    assert.equal(env.ENVPROFILE_DB_SETTINGS, path.join(root, 'data/dev/settings.sqlite3'));
    assert.equal(env.ENVPROFILE_DB_MARKET_DATA, path.join(root, 'data/dev/market_data.sqlite3'));
    assert.equal(env.API_MODE, 'sandbox');
    assert.equal(env.LOG_LEVEL, 'DEBUG');
    assert.equal(env.AUTO_BACKUP, 'true');
    assert.equal(fs.readlinkSync(path.join(root, 'data/settings.sqlite3')), 'dev/settings.sqlite3');
    assert.equal(fs.realpathSync(path.join(root, 'data/strategies.sqlite3')), fs.realpathSync(path.join(root, 'data/dev/strategies.sqlite3')));
    const status = workspaceStatus(context);
    assert.equal(status.active, DEV);
    assert.equal(status.inSync, true, status.drift.join('; '));

    await switchProfile(context, TEST);
    assert.equal(fs.readlinkSync(path.join(root, 'data/settings.sqlite3')), 'test/settings.sqlite3');
    assert.equal(parseEnv(fs.readFileSync(path.join(root, '.env'), 'utf8')).ENVPROFILE_ID, TEST);
    const audit = readAudit(context).filter((e) => e.event === 'switch');
    assert.deepEqual(audit.map((e) => [e.profile, e.outcome, e.actor]), [[DEV, 'ok', 'cli'], [TEST, 'ok', 'cli']]);
    assert.deepEqual(temporaryFiles(root), []);
  });

  it('a profile whose databases are in an allowed directory outside the workspace: after the switch its links lead there, and every command still works (before: config.yaml was then invalid, and every command failed)', async () => {
    const { root } = await demoWorkspace();
    const outside = tempDir();
    for (const name of ['settings', 'strategies', 'market_data']) fs.copyFileSync(path.join(root, `data/dev/${name}.sqlite3`), path.join(outside, `${name}.sqlite3`));
    const config = path.join(root, '.envprofiles/config.yaml');
    allowFolders(root, outside);
    const profile = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    fs.writeFileSync(profile, fs.readFileSync(profile, 'utf8').replaceAll('"data/dev/', `"${outside}/`));
    const switched = runCli(['switch', DEV, '--workspace', root]);
    assert.equal(switched.status, 0, switched.stderr);
    assert.equal(fs.realpathSync(path.join(root, 'data/settings.sqlite3')), fs.realpathSync(path.join(outside, 'settings.sqlite3')));
    const status = runCli(['status', '--workspace', root]);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /^Outputs: in sync$/m);
    const back = runCli(['switch', TEST, '--workspace', root]);
    assert.equal(back.status, 0, back.stderr);
    assert.equal(fs.readlinkSync(path.join(root, 'data/settings.sqlite3')), 'test/settings.sqlite3');
    // A link whose own folder leads outside is still refused.
    fs.rmSync(path.join(root, 'data/settings.sqlite3'));
    fs.symlinkSync(outside, path.join(root, 'linked'));
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('\n    data/settings.sqlite3: settings', '\n    linked/settings.sqlite3: settings'));
    const refused = runCli(['status', '--workspace', root]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^error\[CONFIG_INVALID\]: \.envprofiles\/config\.yaml:\d+:\d+ outputs\.links\.linked\/settings\.sqlite3: "linked\/settings\.sqlite3" leads outside the workspace folder through a symbolic link/);
  });

  it('status reports drift when an output is changed by hand', async () => {
    const { root, context } = await demoWorkspace();
    await switchProfile(context, DEV);
    fs.appendFileSync(path.join(root, '.env'), 'EXTRA=1\n');
    fs.rmSync(path.join(root, 'data/market_data.sqlite3'));
    const status = workspaceStatus(context);
    assert.equal(status.inSync, false);
    assert.deepEqual(status.drift.sort(), ['.env sets EXTRA, which the profile does not (edited since the last switch wrote it: a switch replaces it, and keeps a copy in .envprofiles/env-backups/ first)', 'data/market_data.sqlite3 is missing (it should be a link to dev/market_data.sqlite3)']);
    // A link pointed elsewhere, and a workspace folder moved: what differs, and why it may.
    fs.symlinkSync('test/market_data.sqlite3', path.join(root, 'data/market_data.sqlite3'));
    const moved = besideDir(root, 'moved');
    fs.renameSync(root, moved);
    const after = workspaceStatus(createWorkspaceContext(moved, context.engine));
    assert.deepEqual(after.drift.sort(), [
      `.env has other values for ENVPROFILE_DB_SETTINGS, ENVPROFILE_DB_STRATEGIES, ENVPROFILE_DB_MARKET_DATA; sets EXTRA, which the profile does not (its database paths are outside ${moved}: was the workspace folder moved or copied?) (edited since the last switch wrote it: a switch replaces it, and keeps a copy in .envprofiles/env-backups/ first)`,
      'data/market_data.sqlite3 points at test/market_data.sqlite3, not at dev/market_data.sqlite3',
    ]);
    // A link whose path goes through a file: said in words (before: "ENOTDIR: not a directory, lstat …").
    const config = path.join(moved, '.envprofiles/config.yaml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('\n    data/strategies.sqlite3: strategies', '\n    data/dev/settings.sqlite3/inner.sqlite3: strategies'));
    const through = workspaceStatus(createWorkspaceContext(moved, context.engine));
    assert.equal(through.inSync, false);
    assert.match(through.drift.join('\n'), /^A file stands where a folder is needed \(.*data\/dev\/settings\.sqlite3\/inner\.sqlite3, or a folder on the way to it\)/m);
  });

  it('backs up an env file it did not write before replacing it, once', async () => {
    const { root, context } = await demoWorkspace();
    fs.writeFileSync(path.join(root, '.env'), 'MY_OWN=secret\n', { mode: 0o600 });
    const first = await switchProfile(context, DEV);
    assert.ok(first.envFileBackup);
    assert.equal(fs.readFileSync(path.join(root, first.envFileBackup), 'utf8'), 'MY_OWN=secret\n');
    const second = await switchProfile(context, TEST);
    assert.equal(second.envFileBackup, undefined, 'our own env file is not backed up again');
  });

  it('keeps aside an env file edited since the last switch wrote it before replacing it, and only such a one', async () => {
    const { root, context } = await demoWorkspace();
    const env = path.join(root, '.env');
    await switchProfile(context, DEV);
    assert.equal((await switchProfile(context, DEV)).envFileBackup, undefined, 'as the switch wrote it: nothing kept');
    // A secret added by hand: status says what a switch does with it, the switch keeps it.
    fs.appendFileSync(env, 'API_KEY=added-by-hand\n');
    const edited = fs.readFileSync(env);
    assert.deepEqual(workspaceStatus(context).drift, ['.env sets API_KEY, which the profile does not (edited since the last switch wrote it: a switch replaces it, and keeps a copy in .envprofiles/env-backups/ first)']);
    const cli = runCli(['switch', TEST, '--workspace', root]);
    assert.equal(cli.status, 0, cli.stderr);
    const saved = /the previous env file had been edited since the last switch wrote it; it was saved to (\S+) /.exec(cli.stdout)?.[1];
    assert.ok(saved, cli.stdout);
    assert.ok(fs.readFileSync(path.join(root, saved)).equals(edited), 'the copy is the edited file, byte for byte');
    assert.doesNotMatch(fs.readFileSync(env, 'utf8'), /API_KEY/, 'the env file is the profile\'s again');
    // Stale, not edited: the profile file changed after the switch. The switch writes the new values, keeping nothing.
    const profileFile = path.join(root, `.envprofiles/profiles/${TEST}.yaml`);
    fs.writeFileSync(profileFile, fs.readFileSync(profileFile, 'utf8').replace('log_level: "INFO"', 'log_level: "WARNING"'));
    assert.match(workspaceStatus(context).drift.join('\n'), /^\.env has other values for LOG_LEVEL$/);
    const again = await switchProfile(context, TEST);
    assert.equal(again.envFileBackup, undefined, 'a stale env file is not kept aside');
    assert.match(fs.readFileSync(env, 'utf8'), /^LOG_LEVEL='WARNING'$/m);
    // Edited so that it is what the switch writes anyway: nothing would be lost, nothing is kept.
    const expected = fs.readFileSync(env, 'utf8');
    await switchProfile(context, DEV);
    fs.writeFileSync(env, expected);
    assert.equal((await switchProfile(context, TEST)).envFileBackup, undefined, 'the same content: nothing kept');
    // A state.json written before the switch recorded what it wrote: edits cannot be told, nothing is kept (as before).
    const stateFile = path.join(root, '.envprofiles/state.json');
    const { envFileSha256, ...older } = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    assert.match(envFileSha256, /^[0-9a-f]{64}$/);
    fs.writeFileSync(stateFile, JSON.stringify(older));
    fs.appendFileSync(env, 'OTHER=1\n');
    assert.doesNotMatch(workspaceStatus(context).drift.join('\n'), /edited since/);
    assert.equal((await switchProfile(context, DEV)).envFileBackup, undefined);
    assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/env-backups')), [path.basename(saved)], 'one copy in all');
  });

  it('refuses while the busy guard is up, changing nothing', async () => {
    const { root, context } = await demoWorkspace();
    await switchProfile(context, DEV);
    fs.writeFileSync(path.join(root, 'data/app.lock'), String(process.pid));
    const before = outputsAndData(root);
    await assert.rejects(switchProfile(context, TEST), (error: unknown) => expectCode('GUARD_ACTIVE')(error) && (error as EnvProfilesError).kind === 'refused');
    assertSameTree(outputsAndData(root), before, 'nothing may change');
    fs.rmSync(path.join(root, 'data/app.lock'));
    await switchProfile(context, TEST);
  });

  it('needs the typed id to switch to PRODUCTION', async () => {
    const { root, context } = await demoWorkspace();
    const before = outputsAndData(root);
    await assert.rejects(switchProfile(context, PROD), expectCode('CONFIRMATION_REQUIRED'));
    await assert.rejects(switchProfile(context, PROD, { confirmedId: DEV }), expectCode('CONFIRMATION_REQUIRED'));
    assertSameTree(outputsAndData(root), before, 'nothing may change');
    await switchProfile(context, PROD, { confirmedId: PROD });
    assert.equal(workspaceStatus(context).active, PROD);
  });

  it('needs confirmation for a profile marked protected: true', async () => {
    const { root, context } = await demoWorkspace();
    const file = path.join(root, '.envprofiles/profiles', `${TEST}.yaml`);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('  type: "TESTING"', '  type: "TESTING"\n  protected: true'));
    await assert.rejects(switchProfile(context, TEST), expectCode('CONFIRMATION_REQUIRED'));
    await switchProfile(context, TEST, { confirmedId: TEST });
  });

  it('refuses a target that fails quick validation, changing nothing', async () => {
    const { root, context } = await demoWorkspace();
    await switchProfile(context, DEV);
    fs.rmSync(path.join(root, 'data/test/strategies.sqlite3'));
    const before = outputsAndData(root);
    await assert.rejects(switchProfile(context, TEST), (error: unknown) => expectCode('VALIDATION_FAILED')(error) && /strategies\.sqlite3 does not exist/.test((error as Error).message));
    assertSameTree(outputsAndData(root), before, 'nothing may change');
  });

  it('refuses to replace a real database file with a link', async () => {
    const { root, context } = await demoWorkspace();
    fs.writeFileSync(path.join(root, 'data/settings.sqlite3'), 'the user keeps real data here');
    const before = outputsAndData(root);
    await assert.rejects(switchProfile(context, DEV), expectCode('OUTPUT_CONFLICT'));
    assertSameTree(outputsAndData(root), before, 'nothing may change');
    // In the audit log, with what refused it (before: a switch refused past its guards left no line).
    const [line] = readAudit(context).filter((e) => e.event === 'switch');
    assert.deepEqual([line?.profile, line?.outcome], [DEV, 'failed']);
    assert.match(line?.detail ?? '', /^data\/settings\.sqlite3 is a regular file, but /);
  });

  it("an env file set at a profile's database is refused before anything is written, also the backup before switching (before: the database was overwritten with the env file)", async () => {
    const { root, context } = await demoWorkspace();
    await switchProfile(context, DEV);
    const config = path.join(root, '.envprofiles/config.yaml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('env_file: .env', 'env_file: data/test/settings.sqlite3').replace('before_switch: false', 'before_switch: true'));
    const before = outputsAndData(root);
    await assert.rejects(switchProfile(context, PROD, { confirmedId: PROD }), (error: unknown) => expectCode('OUTPUT_CONFLICT')(error)
      && (error as Error).message === `data/test/settings.sqlite3 is the settings database of profile "${TEST}", but .envprofiles/config.yaml makes it the env file: a switch would replace it.`
      && /^Give outputs\.env_file in \.envprofiles\/config\.yaml a path of its own/.test((error as EnvProfilesError).hint ?? '')
      && (error as EnvProfilesError).line === 4 && (error as EnvProfilesError).column === 13);
    assertSameTree(outputsAndData(root), before, 'nothing may change');
    assert.equal(fs.existsSync(path.join(root, '.envprofiles/backups')), false, 'a refused switch backed up the profile it would leave');
  });

  it('an env file set at a SQLite database no profile names is refused, changing nothing', async () => {
    const { root, context } = await demoWorkspace();
    fs.copyFileSync(path.join(root, 'data/dev/settings.sqlite3'), path.join(root, 'data/old.sqlite3'));
    const config = path.join(root, '.envprofiles/config.yaml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('env_file: .env', 'env_file: data/old.sqlite3'));
    const before = outputsAndData(root);
    await assert.rejects(switchProfile(context, DEV), (error: unknown) => expectCode('OUTPUT_CONFLICT')(error) && /^data\/old\.sqlite3 is a SQLite database, but/.test((error as Error).message));
    assertSameTree(outputsAndData(root), before, 'nothing may change');
  });

  it('a file at an output path larger than a switch replaces (1 MiB, kept in its journal for a rollback) is refused before it is read, naming its size; status says so with the same advice, not "switch again" (before: the switch went on, and at 600 MB failed as an internal error)', async () => {
    const { root, context } = await demoWorkspace();
    await switchProfile(context, DEV);
    const envFile = path.join(root, '.env');
    const content = Buffer.alloc(3 * 1024 * 1024, 'NOT_AN_ENV_FILE=1\n');
    fs.writeFileSync(envFile, content);
    const before = outputsAndData(root);
    const refusal = '.env is a file of 3.0 MB, too large to be an env file, but .envprofiles/config.yaml makes it the env file: a switch would replace it.';
    const advice = 'Move it away, or give outputs.env_file in .envprofiles/config.yaml another path, then switch again.';
    await assert.rejects(switchProfile(context, TEST), (error: unknown) => expectCode('OUTPUT_CONFLICT')(error) && (error as Error).message === refusal
      && (error as EnvProfilesError).hint === `${advice} Nothing was changed.` && (error as EnvProfilesError).line === 4);
    assertSameTree(outputsAndData(root), before, 'nothing may change');
    assert.equal(fs.existsSync(path.join(root, '.envprofiles/env-backups')), false, 'nothing was kept aside either');
    const status = workspaceStatus(context);
    assert.deepEqual([status.inSync, status.drift, status.outputConflict], [false, [refusal], advice]);
    const statusText = runCli(['status', '--workspace', root]).stdout;
    assert.ok(statusText.includes(`Outputs: out of sync\n  - ${refusal}\n  ${advice}\n`), statusText);

    // 600 MB (sparse): through the command line, the same refusal, not an internal error.
    fs.truncateSync(envFile, 600 * 1024 * 1024);
    const huge = runCli(['switch', TEST, '--workspace', root]);
    // The setting's line and column too (before: not said, the message naming config.yaml), as editors open it.
    assert.equal(huge.stderr, `error[OUTPUT_CONFLICT]: .env is a file of 600.0 MB, too large to be an env file, but .envprofiles/config.yaml makes it the env file: a switch would replace it.\n  file: .envprofiles/config.yaml:4:13 (outputs.env_file)\n  ${advice} Nothing was changed.\n`);
    assert.equal(fs.statSync(envFile).size, 600 * 1024 * 1024);
    fs.rmSync(envFile);

    // A large regular file where a link goes: its size named, and status advises moving it, not switching.
    const link = path.join(root, 'data/settings.sqlite3');
    fs.rmSync(link);
    fs.writeFileSync(link, content);
    const linkRefusal = "data/settings.sqlite3 is a regular file (3.0 MB), but .envprofiles/config.yaml makes it a link to the active profile's database: a switch would replace it.";
    await assert.rejects(switchProfile(context, TEST), (error: unknown) => expectCode('OUTPUT_CONFLICT')(error) && (error as Error).message === linkRefusal);
    assert.ok(fs.readFileSync(link).equals(content));
    assert.deepEqual(workspaceStatus(context).drift, [linkRefusal]);
    assert.equal(workspaceStatus(context).outputConflict, "Move data/settings.sqlite3 into a profile's folder (and point that profile at it), then switch again.");
  });

  it("an env file set at a database's write-ahead log is refused: a profile's by its path, any other by its header (before: the log, and the transactions committed in it, were replaced)", async () => {
    const { root, context } = await demoWorkspace();
    const config = path.join(root, '.envprofiles/config.yaml');
    const original = fs.readFileSync(config, 'utf8');
    fs.writeFileSync(config, original.replace('env_file: .env', 'env_file: data/test/settings.sqlite3-wal'));
    await assert.rejects(switchProfile(context, DEV), (error: unknown) => expectCode('OUTPUT_CONFLICT')(error) && (error as Error).message.startsWith(`data/test/settings.sqlite3-wal is the write-ahead log of the settings database of profile "${TEST}", but`));
    // The log of a database no profile names: an application that keeps it open, and never checkpoints.
    const application = new Application();
    const loose = path.join(root, 'data/loose.sqlite3');
    try {
      await application.openDatabase('loose', loose);
      await application.exec('loose', "PRAGMA journal_mode = WAL; CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('only in the log')");
      fs.writeFileSync(config, original.replace('env_file: .env', 'env_file: data/loose.sqlite3-wal'));
      const before = outputsAndData(root);
      const log = fs.readFileSync(`${loose}-wal`);
      await assert.rejects(switchProfile(context, DEV), (error: unknown) => expectCode('OUTPUT_CONFLICT')(error) && /^data\/loose\.sqlite3-wal is a SQLite database's write-ahead log, but/.test((error as Error).message));
      assert.ok(fs.readFileSync(`${loose}-wal`).equals(log), 'the write-ahead log changed');
      assertSameTree(outputsAndData(root), before, 'nothing may change');
    } finally {
      await application.stop();
    }
  });

  it("a link set where a profile keeps a database is refused, also while that database's file is missing (before: the link took its place)", async () => {
    const { root, context } = await demoWorkspace();
    fs.rmSync(path.join(root, 'data/test/strategies.sqlite3'));
    const config = path.join(root, '.envprofiles/config.yaml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('\n    data/strategies.sqlite3: strategies', '\n    data/test/strategies.sqlite3: strategies'));
    const before = outputsAndData(root);
    await assert.rejects(switchProfile(context, DEV), (error: unknown) => expectCode('OUTPUT_CONFLICT')(error) && (error as Error).message.startsWith(`data/test/strategies.sqlite3 is the strategies database of profile "${TEST}", but`));
    assertSameTree(outputsAndData(root), before, 'nothing may change');
  });

  it("a profile that keeps a database where config.yaml puts a link fails validation naming it, and is not switched to (before: it validated, its database being the active profile's)", async () => {
    const { root, context } = await demoWorkspace();
    await switchProfile(context, DEV);
    const profileFile = path.join(root, `.envprofiles/profiles/${TEST}.yaml`);
    fs.writeFileSync(profileFile, fs.readFileSync(profileFile, 'utf8').replace('settings: "data/test/settings.sqlite3"', 'settings: "data/settings.sqlite3"'));
    const validated = runCli(['validate', TEST, '--json'], { cwd: root });
    assert.equal(validated.status, 1, validated.stdout);
    const problem = validated.json?.result.problems.find((p: { field?: string }) => p.field === 'profile.databases.settings');
    assert.equal(problem?.message, "data/settings.sqlite3 is where a switch writes the link to the active profile's settings (outputs.links in .envprofiles/config.yaml), so every switch replaces it: give settings a path of its own", validated.stdout);
    const before = outputsAndData(root);
    await assert.rejects(switchProfile(context, TEST), expectCode('VALIDATION_FAILED'));
    assertSameTree(outputsAndData(root), before, 'nothing may change');
  });

  it("a profile that keeps a database where config.yaml puts a link, with the link there, is not backed up, restored over or cloned through it, naming the field; backup --all and a restore of its other databases leave it out and say so (before: the active profile's database was backed up, restored over and cloned as its own); a regular file there is its own database", async () => {
    const { root, context } = await demoWorkspace();
    const backup = runCli(['backup', TEST, '--json'], { cwd: root }).json?.result.id;
    assert.ok(backup);
    await switchProfile(context, DEV);
    const profileFile = path.join(root, `.envprofiles/profiles/${TEST}.yaml`);
    fs.writeFileSync(profileFile, fs.readFileSync(profileFile, 'utf8').replace('settings: "data/test/settings.sqlite3"', 'settings: "data/settings.sqlite3"'));
    const refusal = (doing: string, again: string): string => `error[PROFILE_INVALID]: data/settings.sqlite3 (database "settings" of ${TEST}) is where a switch writes the link to the active profile's settings (outputs.links in .envprofiles/config.yaml), and that link is there: it leads to data/dev/settings.sqlite3, not a database of ${TEST}'s own, so it cannot be ${doing}; nothing was changed.\n  file: .envprofiles/profiles/${TEST}.yaml (profile.databases.settings)\n  Give settings a path of its own in .envprofiles/profiles/${TEST}.yaml ("envprofiles validate ${TEST}" says the same), then ${again}.\n`;
    const before = outputsAndData(root);
    assert.equal(runCli(['backup', TEST], { cwd: root }).stderr, refusal('backed up', `back up ${TEST} again`));
    assert.equal(runCli(['restore', backup], { cwd: root }).stderr, refusal('restored', 'restore again'));
    assert.equal(runCli(['restore', backup, '--dry-run'], { cwd: root }).stderr, refusal('restored', 'restore again'));
    assert.equal(runCli(['clone', TEST, 'test_copy'], { cwd: root }).stderr, refusal('cloned', 'clone again'));
    assertSameTree(outputsAndData(root), before, 'nothing may change');
    // Every profile at once: the others whole, this one without that database, named.
    const all = runCli(['backup', '--all', '--json'], { cwd: root });
    const ofTest = all.json?.result.backups.find((b: { profileId: string }) => b.profileId === TEST);
    assert.deepEqual(ofTest?.leftOut.map((l: { logicalName: string; reason: string }) => [l.logicalName, l.reason]), [['settings', `data/settings.sqlite3 (database "settings" of ${TEST}) is where a switch writes the link to the active profile's settings (outputs.links in .envprofiles/config.yaml), and that link is there: it leads to data/dev/settings.sqlite3, not a database of ${TEST}'s own, so it cannot be backed up`]], all.stdout);
    assert.ok(all.json?.result.backups.some((b: { profileId: string; leftOut?: unknown[] }) => b.profileId === DEV && b.leftOut === undefined), 'the others whole');
    // Its other databases: restored, after a safety backup that leaves settings out and says so.
    const settingsOfDev = sha256Of(path.join(root, 'data/dev/settings.sqlite3'));
    const one = runCli(['restore', backup, '--db', 'strategies', '--json'], { cwd: root });
    assert.equal(one.status, 0, one.stderr);
    assert.ok(one.json?.result.notes.includes(`data/settings.sqlite3 (settings) is where a switch writes the link to the active profile's settings (outputs.links in .envprofiles/config.yaml), and that link is there: it leads to data/dev/settings.sqlite3, not a database of ${TEST}'s own, so the safety backup left it out, and this restore left it as it is ("envprofiles validate ${TEST}" says what to change)`), one.stdout);
    assert.equal(sha256Of(path.join(root, 'data/dev/settings.sqlite3')), settingsOfDev, "the active profile's settings changed");
    // A regular file there (the link never written: every switch refuses to replace it) is its own database.
    fs.rmSync(path.join(root, 'data/settings.sqlite3'));
    fs.copyFileSync(path.join(root, 'data/test/settings.sqlite3'), path.join(root, 'data/settings.sqlite3'));
    const own = runCli(['backup', TEST, '--json'], { cwd: root });
    assert.equal(own.status, 0, own.stderr);
    assert.equal(own.json?.result.leftOut, undefined);
    assert.equal(runCli(['clone', TEST, 'test_copy'], { cwd: root }).status, 0);
  });

  it('config.yaml with the env file at a link\'s path, two links at one path, or the lock file at an output, is refused naming the field (before: each switch wrote both outputs there; the guard refused every switch after the first)', async () => {
    const { root } = await demoWorkspace();
    const config = path.join(root, '.envprofiles/config.yaml');
    const original = fs.readFileSync(config, 'utf8');
    fs.writeFileSync(config, original.replace('env_file: .env', 'env_file: ./data/settings.sqlite3'));
    const envAtLink = runCli(['switch', DEV, '--json'], { cwd: root });
    assert.equal(envAtLink.json?.error?.code, 'CONFIG_INVALID', envAtLink.stdout);
    assert.match(envAtLink.json.error.message, /outputs\.env_file: .*is also the path of the link data\/settings\.sqlite3 in outputs\.links/);
    fs.writeFileSync(config, original.replace('\n    data/strategies.sqlite3: strategies', '\n    data/./settings.sqlite3: strategies'));
    const twoLinks = runCli(['switch', DEV, '--json'], { cwd: root });
    assert.equal(twoLinks.json?.error?.code, 'CONFIG_INVALID', twoLinks.stdout);
    assert.match(twoLinks.json.error.message, /outputs\.links\.data\/\.\/settings\.sqlite3: .*is the same path as the link data\/settings\.sqlite3/);
    // The busy guard's lock file at the env file's path: it would exist after the first switch, and refuse every one after.
    fs.writeFileSync(config, original.replace('lock_file: data/app.lock', 'lock_file: .env'));
    const guardAtEnv = runCli(['switch', DEV, '--json'], { cwd: root });
    assert.equal(guardAtEnv.json?.error?.code, 'CONFIG_INVALID', guardAtEnv.stdout);
    assert.match(guardAtEnv.json.error.message, /guard\.lock_file: .*is the path of outputs\.env_file, which every switch writes; the guard would then refuse every switch/);
    assert.equal(fs.existsSync(path.join(root, '.envprofiles/state.json')), false);
  });

  it('a link in config.yaml to a database name the profile lacks, one every JavaScript object has, is refused naming the link (before: an internal error)', async () => {
    const { root, context } = await demoWorkspace();
    const config = path.join(root, '.envprofiles/config.yaml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('\n    data/settings.sqlite3: settings', '\n    data/settings.sqlite3: toString'));
    const before = outputsAndData(root);
    await assert.rejects(switchProfile(context, DEV), (error: unknown) => expectCode('OUTPUT_CONFLICT')(error) && (error as Error).message === `Profile "${DEV}" has no database "toString", which .envprofiles/config.yaml links at data/settings.sqlite3.`);
    assertSameTree(outputsAndData(root), before, 'nothing may change');
  });

  it('refuses an unknown profile with a hint listing the known ones', async () => {
    const { context } = await demoWorkspace();
    await assert.rejects(switchProfile(context, 'nope_profile'), (error: unknown) => expectCode('PROFILE_NOT_FOUND')(error) && /dev_environment_001/.test((error as EnvProfilesError).hint ?? ''));
  });

  for (const startFrom of ['a fresh workspace', 'an active profile', 'a foreign env file']) {
    it(`restores every output byte for byte when a failure is injected at any step (from ${startFrom})`, async () => {
      const { root, context } = await demoWorkspace();
      if (startFrom === 'an active profile') await switchProfile(context, DEV);
      if (startFrom === 'a foreign env file') fs.writeFileSync(path.join(root, '.env'), 'HAND_WRITTEN=1\n', { mode: 0o640 });
      // Learn the steps from a successful switch in a copy of the workspace.
      const steps: string[] = [];
      const probeRoot = besideDir(root, 'probe');
      fs.cpSync(root, probeRoot, { recursive: true, verbatimSymlinks: true });
      await switchProfile(createWorkspaceContext(probeRoot, context.engine, { onStep: (s) => steps.push(s) }), TEST);
      fs.rmSync(probeRoot, { recursive: true, force: true });
      assert.ok(steps.length >= 7, `steps: ${steps.join(', ')}`);
      assert.ok(steps.includes('applied:env-file:.env') && steps.includes('applied:state:.envprofiles/state.json') && steps.includes('committed'));

      const keep = (rel: string) => rel.startsWith('.envprofiles/env-backups');
      const before = snapshotTree(root, (rel) => keep(rel) || rel.endsWith('-shm') || rel.endsWith('-wal'));
      for (const failAt of steps.filter((s) => s !== 'committed')) {
        const failing: WorkspaceContext = { ...context, onStep: (s) => { if (s === failAt) throw new EnvProfilesError('INJECTED_FAULT', `fault at ${s}`); } };
        await assert.rejects(switchProfile(failing, TEST), expectCode('INJECTED_FAULT'));
        const after = snapshotTree(root, (rel) => keep(rel) || rel.endsWith('-shm') || rel.endsWith('-wal'));
        assertSameTree(after, before, `outputs changed after a failure at ${failAt}`);
        assert.deepEqual(temporaryFiles(root), [], `temporary files left after a failure at ${failAt}`);
        assert.ok(!fs.existsSync(path.join(root, '.envprofiles/journal/switch.json')), 'journal removed');
      }
      const rolledBack = readAudit(context).filter((e) => e.outcome === 'rolled-back');
      assert.ok(rolledBack.length >= 5, 'each rollback is audited');
    });
  }

  it('a failure after the commit point keeps the new profile', async () => {
    const { context } = await demoWorkspace();
    const failing: WorkspaceContext = { ...context, onStep: (s) => { if (s === 'committed') throw new EnvProfilesError('INJECTED_FAULT', 'late'); } };
    await assert.rejects(switchProfile(failing, DEV), expectCode('INJECTED_FAULT'));
    // The committed switch is complete on disk; the next command finishes it.
    const status = workspaceStatus(context);
    assert.equal(status.active, DEV);
  });
});

describe('env file quoting', () => {
  const values = ['plain', 'with space', 'dollar $HOME and ${X}', 'back\\slash', '한국어 값', "it's", 'say "hi"', "it's \"both\" $x `y` \\z", '', '#not-a-comment', 'a=b'];

  it('reads back unchanged in a POSIX shell', () => {
    const lines = values.map((v, i) => `V${i}=${quoteEnvValue(v)}`).join('\n');
    const script = `set -a\n${lines}\nset +a\n${values.map((_, i) => `printf '%s\\0' "$V${i}"`).join('\n')}`;
    const out = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    assert.deepEqual(out.stdout.split('\0').slice(0, -1), values);
  });

  it("reads back unchanged with Node's env-file parser (values without backslash escapes)", () => {
    const portable = [...values.filter((v) => !(v.includes("'") && /["\\$`]/.test(v))), 'line one\nline two', "it's\nmultiline"];
    const parsed = parseEnv(portable.map((v, i) => `V${i}=${quoteEnvValue(v)}`).join('\n'));
    portable.forEach((v, i) => assert.equal(parsed[`V${i}`], v, `value ${JSON.stringify(v)}`));
  });
});
