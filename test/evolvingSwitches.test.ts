import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { createWorkspaceContext, type WorkspaceContext } from '../src/core/workspaceContext';
import { workspaceStatus } from '../src/core/workspaceStatus';
import { runCli } from './support/cliRunner';
import { execute, listedBackupIds, removeDatabaseFiles, rowsOf, sha256Of } from './support/committedRows';
import { scrambled, seeded } from './support/testHelpers';
import { inProcess, refusalOf, throughCli, type BackupCommands } from './support/twoWays';
import { emptyWorkspace, pastLastWrite } from './support/workspaces';

// Several profiles of one workspace, switched between at random (seeded) while they and the workspace's
// outputs change: databases written, renamed, dropped, deleted, damaged; profiles made PRODUCTION or
// protected, broken and mended, cloned, deleted; the busy guard raised; the env file written by hand, or
// its path taken by a large file or a folder; a link's path taken by a file (small or large) or a folder;
// config.yaml's outputs changed; backups of every profile, restores. Some
// switches are made to fail at a random step of their transaction.
// A switch either makes every output point at the new profile, or leaves every output as it was; it
// never changes a database; and a backup taken before switching away holds what the profile held.

const RUNS = Number(process.env.ENVPROFILES_SWITCHING_RUNS ?? 8);
const SEED = Number(process.env.ENVPROFILES_SWITCHING_SEED ?? 20261207);
const STEPS = Number(process.env.ENVPROFILES_SWITCHING_STEPS ?? 40);
/** One run alone (its number in a failure's message), to replay it. */
const ONLY_RUN = process.env.ENVPROFILES_SWITCHING_RUN === undefined ? undefined : Number(process.env.ENVPROFILES_SWITCHING_RUN);
/** The share of commands run through the built CLI rather than in process. */
const THROUGH_CLI = 0.25;
const GUARD_FILE = 'run/app.lock';
/** The largest file a switch replaces at an output path (README: larger ones are refused before they are read). */
const LARGEST_OUTPUT_BYTES = 1024 * 1024;
const STATE_FILE = '.envprofiles/state.json';

interface ProfileShape {
  name: string;
  type: 'DEVELOPMENT' | 'TESTING' | 'PRODUCTION' | 'BACKUP';
  protected: boolean;
  beforeSwitch: boolean;
  /** Logical name to the database's path, relative to the workspace. */
  databases: Map<string, string>;
  /** Its file holds YAML that does not parse, for now. */
  broken: boolean;
}

interface Outputs {
  envFile?: string;
  /** Link path to the logical name it points at. */
  links: Map<string, string>;
  beforeSwitch: boolean;
}

/** What a backup must give back: each database's rows, by logical name. */
interface Held {
  profileId: string;
  databases: Map<string, string>;
}

/** The error the test injects into a switch at one of its steps. */
class InjectedFailure extends Error {}

function profileYaml(id: string, shape: ProfileShape): string {
  const lines = ['profile:', `  id: "${id}"`, `  name: "${shape.name}"`, `  type: "${shape.type}"`, ...(shape.protected ? ['  protected: true'] : []), '  created_at: "2025-08-08T20:00:00Z"', '  databases:'];
  for (const [name, rel] of shape.databases) lines.push(`    ${name}: "${rel}"`);
  lines.push('  backup_schedule:', '    frequency: "DAILY"', '    time: "02:00"', ...(shape.beforeSwitch ? ['    before_switch: true'] : []));
  return `${lines.join('\n')}\n`;
}

function configYaml(outputs: Outputs): string {
  const lines = ['outputs:', `  env_file: ${outputs.envFile === undefined ? 'false' : JSON.stringify(outputs.envFile)}`];
  if (outputs.links.size === 0) lines.push('  links: {}');
  else lines.push('  links:', ...[...outputs.links].map(([link, logical]) => `    ${JSON.stringify(link)}: ${logical}`));
  lines.push('guard:', `  lock_file: "${GUARD_FILE}"`, 'backups:', `  before_switch: ${outputs.beforeSwitch}`, '  max_chain: 3');
  return `${lines.join('\n')}\n`;
}

describe('switching between profiles that change, at random (seeded: ENVPROFILES_SWITCHING_SEED, _RUNS, _STEPS; _RUN replays one)', () => {
  it(`a switch makes every output point at the new profile or leaves every output as it was, never changes a database, and backs up the profile it leaves when asked (${RUNS} runs of ${STEPS} steps)`, async function () {
    this.timeout(1_800_000);
    const failures: string[] = [];
    const counts: Record<string, number> = {};
    for (let run = ONLY_RUN ?? 0; run < (ONLY_RUN === undefined ? RUNS : ONLY_RUN + 1); run++) {
      // Each run its own stream, so that one can be replayed alone.
      const random = seeded(scrambled(SEED * 1000 + run));
      const { root, context } = await emptyWorkspace();
      const log: string[] = [];
      try {
        await switchAround(root, context, random, log, counts);
      } catch (error) {
        failures.push(`run ${run} (ENVPROFILES_SWITCHING_SEED=${SEED} ENVPROFILES_SWITCHING_STEPS=${STEPS} ENVPROFILES_SWITCHING_RUN=${run}) failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n  steps:\n    ${log.join('\n    ')}`);
        if (failures.length >= 3) break;
      }
    }
    console.log(`      switching: ${JSON.stringify(counts)}`);
    assert.deepEqual(failures, [], failures.join('\n\n'));
  });
});

async function switchAround(root: string, context: WorkspaceContext, random: () => number, log: string[], counts: Record<string, number>): Promise<void> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const count = (what: string): void => { counts[what] = (counts[what] ?? 0) + 1; };
  const abs = (rel: string): string => path.join(root, rel);
  let fresh = 0;
  const profiles = new Map<string, ProfileShape>();
  const outputs: Outputs = { envFile: pick(['.env', '.env', 'config/app.env', undefined]), links: new Map(), beforeSwitch: random() < 0.3 };
  if (random() < 0.7) outputs.links.set(pick(['current/settings.sqlite3', 'data/current.sqlite3']), 'settings');
  if (random() < 0.3) outputs.links.set('current/cache link.sqlite3', 'cache');
  // Every path that was ever an output, and every database file a profile ever named: a switch changes
  // none of them but the outputs it writes now.
  const everOutput = new Set<string>([STATE_FILE, ...outputs.links.keys(), ...(outputs.envFile ? [outputs.envFile] : [])]);
  const everDatabase = new Set<string>();
  const damaged = new Set<string>();
  let active: string | null = null;
  const held = new Map<string, Held>();
  const core = inProcess(context);
  const cli = throughCli(root);
  const via = (): BackupCommands => (random() < THROUGH_CLI ? cli : core);
  // The same workspace, in process, with a failure injected at one step of a switch.
  const failAt = { step: -1 };
  const failing = inProcess(createWorkspaceContext(root, context.engine, { onStep: injectedFailures(failAt) }));

  const writeConfig = (): void => fs.writeFileSync(abs('.envprofiles/config.yaml'), configYaml(outputs));
  const writeProfile = (id: string): void => {
    const shape = profiles.get(id) as ProfileShape;
    fs.writeFileSync(abs(`.envprofiles/profiles/${id}.yaml`), shape.broken ? `profile:\n  id: "${id}"\n  databases: [unclosed\n` : profileYaml(id, shape));
  };
  const createDatabase = async (id: string, name: string): Promise<void> => {
    const rel = `data/${pick([id, id, 'shared folder', '데이터'])}/${name}_${++fresh}.sqlite3`;
    fs.mkdirSync(path.dirname(abs(rel)), { recursive: true });
    await execute(abs(rel), `${random() < 0.7 ? 'PRAGMA journal_mode = WAL;' : ''} CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT); INSERT INTO items (label) VALUES ('${id} ${name}'), ('${random()}')`);
    (profiles.get(id) as ProfileShape).databases.set(name, rel);
    everDatabase.add(rel);
  };
  const newProfile = async (id: string): Promise<void> => {
    profiles.set(id, { name: `Profile ${id}`, type: pick(['DEVELOPMENT', 'DEVELOPMENT', 'TESTING', 'PRODUCTION', 'BACKUP'] as const), protected: random() < 0.15, beforeSwitch: random() < 0.3, databases: new Map(), broken: false });
    for (const name of ['settings', 'cache', 'main'].filter((_, i) => i === 0 ? random() < 0.85 : random() < 0.5)) await createDatabase(id, name);
    if ((profiles.get(id) as ProfileShape).databases.size === 0) await createDatabase(id, 'main');
    writeProfile(id);
    const shape = profiles.get(id) as ProfileShape;
    log.push(`profile ${id} (${shape.type}${shape.protected ? ', protected' : ''}${shape.beforeSwitch ? ', before_switch' : ''}): ${[...shape.databases].map(([name, rel]) => `${name} at ${rel}`).join(', ')}`);
  };

  writeConfig();
  log.push(`config: env file ${outputs.envFile ?? 'none'}, links ${[...outputs.links].map(([link, name]) => `${link} -> ${name}`).join(', ') || 'none'}, before_switch ${outputs.beforeSwitch}`);
  for (const id of ['alpha', 'beta', ...(random() < 0.5 ? ['gamma'] : [])]) await newProfile(id);

  /** Each output path as it is: absent, a link and its target, a file and its hash, or a folder. */
  const outputsNow = (): Record<string, string> => {
    const now: Record<string, string> = {};
    for (const rel of everOutput) {
      const stat = fs.lstatSync(abs(rel), { throwIfNoEntry: false });
      now[rel] = !stat ? 'absent' : stat.isSymbolicLink() ? `link to ${fs.readlinkSync(abs(rel))}` : stat.isFile() ? `file ${sha256Of(abs(rel))}` : 'folder';
    }
    const envBackups = abs('.envprofiles/env-backups');
    now['env-backups'] = fs.existsSync(envBackups) ? fs.readdirSync(envBackups).sort().join(', ') : '';
    const journals = abs('.envprofiles/journal');
    now.journals = fs.existsSync(journals) ? fs.readdirSync(journals).sort().join(', ') : '';
    return now;
  };
  /** Every database file as it is: its rows, its hash when damaged, or absent. */
  const databasesNow = async (): Promise<Record<string, string>> => {
    const now: Record<string, string> = {};
    for (const rel of everDatabase) {
      // (A path no profile names any more may hold an output now: an env file set there by mistake.)
      const isDatabase = (): boolean => fs.readFileSync(abs(rel)).subarray(0, 16).toString('latin1') === 'SQLite format 3\0';
      // (A link there is an output a switch wrote at a path no profile names any more: it leads to the active profile's database.)
      const isLink = (): boolean => fs.lstatSync(abs(rel), { throwIfNoEntry: false })?.isSymbolicLink() === true;
      now[rel] = isLink() ? `link to ${fs.readlinkSync(abs(rel))}` : !fs.existsSync(abs(rel)) ? 'absent' : damaged.has(rel) || !isDatabase() ? `not a database: ${sha256Of(abs(rel))}` : await rowsOf(abs(rel));
    }
    return now;
  };
  /** The databases as `databasesNow` gave them, without the paths an output may take: no database there before, or a link a switch wrote (a path no profile names any more, set as an output by mistake). */
  const sparedByOutputs = (now: Record<string, string>, before: Record<string, string>): Record<string, string> => {
    const outputPaths = new Set([...outputs.links.keys(), ...(outputs.envFile ? [outputs.envFile] : [])]);
    return Object.fromEntries(Object.entries(now).filter(([rel]) => !(outputPaths.has(rel) && (before[rel] === 'absent' || before[rel].startsWith('not a database') || before[rel].startsWith('link to')))));
  };
  const heldBy = async (id: string): Promise<Held> => {
    const databases = new Map<string, string>();
    for (const [name, rel] of (profiles.get(id) as ProfileShape).databases) {
      if (fs.existsSync(abs(rel)) && !damaged.has(rel)) databases.set(name, await rowsOf(abs(rel)));
    }
    return { profileId: id, databases };
  };
  const isProtected = (shape: ProfileShape): boolean => shape.type === 'PRODUCTION' || shape.protected;
  const usable = (rel: string): boolean => fs.existsSync(abs(rel)) && !damaged.has(rel);

  /**
   * Why the outputs of a switch to `shape` cannot be written as they stand, or undefined: an output that is
   * not the profile's to link, or a path that holds what a switch never replaces. `status` says the same
   * of the active profile (outputConflict).
   */
  const outputConflictFor = (shape: ProfileShape): string | undefined => {
    const unlinked = [...outputs.links.values()].filter((name) => !shape.databases.has(name));
    if (unlinked.length > 0) return `it has no ${unlinked.join(', ')} to link`;
    const outputPaths = [...outputs.links.keys(), ...(outputs.envFile ? [outputs.envFile] : [])];
    const blocked = [...outputs.links.keys()].filter((link) => fs.lstatSync(abs(link), { throwIfNoEntry: false })?.isFile());
    if (blocked.length > 0) return `${blocked.join(', ')} is a file`;
    // An output never takes the place of a database: one a profile names (as far as its file reads), or any SQLite file.
    const databasePaths = new Set([...profiles.values()].filter((other) => !other.broken).flatMap((other) => [...other.databases.values()]).map((rel) => path.resolve(root, rel)));
    const onDatabases = outputPaths.filter((rel) => databasePaths.has(path.resolve(root, rel)));
    if (onDatabases.length > 0) return `${onDatabases.join(', ')} is a database's path`;
    const folders = outputPaths.filter((rel) => fs.lstatSync(abs(rel), { throwIfNoEntry: false })?.isDirectory());
    if (folders.length > 0) return `${folders.join(', ')} is a folder`;
    const envStat = outputs.envFile ? fs.lstatSync(abs(outputs.envFile), { throwIfNoEntry: false }) : undefined;
    if (outputs.envFile && envStat?.isFile() && envStat.size > LARGEST_OUTPUT_BYTES) return `${outputs.envFile} is too large`;
    if (outputs.envFile && envStat?.isFile() && fs.readFileSync(abs(outputs.envFile)).subarray(0, 16).toString('latin1') === 'SQLite format 3\0') return `${outputs.envFile} is a SQLite file`;
    return undefined;
  };

  /** Why a switch to `id` must be refused now, or undefined when it must go through. */
  const whySwitchRefused = (id: string, confirm: string | undefined): string | undefined => {
    const shape = profiles.get(id);
    if (!shape) return 'no such profile';
    if (shape.broken) return 'its file is broken';
    const unusable = [...shape.databases.values()].filter((rel) => !usable(rel));
    if (unusable.length > 0) return `${unusable.join(', ')} missing or damaged`;
    if (fs.existsSync(abs(GUARD_FILE))) return 'the guard is up';
    if (isProtected(shape) && confirm !== id) return 'not confirmed';
    return outputConflictFor(shape);
  };

  /** `status` says an output conflict exactly when the model sees one for the active profile; and, after a switch, that every output is in sync. */
  const assertStatusAgrees = (why: string, afterSwitch: boolean): string => {
    const status = workspaceStatus(context);
    assert.equal(status.active, active, `${why}: status names ${status.active} as active`);
    const shape = active === null ? undefined : profiles.get(active);
    if (!shape || shape.broken) return 'no active profile to check';
    const conflict = outputConflictFor(shape);
    assert.equal(status.outputConflict !== undefined, conflict !== undefined, `${why}: status says ${JSON.stringify(status.drift)} (advice: ${status.outputConflict}), the model ${conflict ?? 'no output conflict'}`);
    if (afterSwitch) assert.deepEqual([status.inSync, status.drift], [true, []], `${why}: status after the switch`);
    return conflict ? 'an output conflict' : status.inSync ? 'in sync' : 'out of sync';
  };

  /** The env file the last switch wrote, where config.yaml put it then (state.json records its SHA-256). */
  let lastWrittenEnv: { label: string; content: Buffer } | undefined;

  /** Every output points at `id`'s databases and says it is active. */
  const assertSwitchedTo = (id: string, why: string): void => {
    const shape = profiles.get(id) as ProfileShape;
    const state = JSON.parse(fs.readFileSync(abs(STATE_FILE), 'utf8')) as { active: string };
    assert.equal(state.active, id, `${why}: state.json names ${state.active}`);
    for (const [link, name] of outputs.links) {
      assert.ok(fs.lstatSync(abs(link)).isSymbolicLink(), `${why}: ${link} is no link`);
      assert.equal(fs.realpathSync(abs(link)), fs.realpathSync(abs(shape.databases.get(name) as string)), `${why}: ${link} does not point at ${id}'s ${name}`);
    }
    if (outputs.envFile) {
      const text = fs.readFileSync(abs(outputs.envFile), 'utf8');
      assert.ok(text.startsWith('# Generated by Environment Profiles'), `${why}: ${outputs.envFile} is not one a switch writes:\n${text}`);
      const expected = [`ENVPROFILE_ID='${id}'`, `ENVPROFILE_TYPE='${shape.type}'`, ...[...shape.databases].map(([name, rel]) => `ENVPROFILE_DB_${name.toUpperCase()}='${abs(rel)}'`)];
      const lines = text.split('\n').filter((line) => line.startsWith('ENVPROFILE_'));
      assert.deepEqual(lines.sort(), [...expected, `ENVPROFILE_NAME='${shape.name}'`].sort(), `${why}: ${outputs.envFile}`);
    }
    lastWrittenEnv = outputs.envFile ? { label: outputs.envFile, content: fs.readFileSync(abs(outputs.envFile)) } : undefined;
  };

  const switchStep = async (): Promise<void> => {
    const id = random() < 0.08 ? 'ghost' : pick([...profiles.keys()]);
    const shape = profiles.get(id);
    const confirm = shape && isProtected(shape) && random() < 0.85 ? id : undefined;
    const refusedBecause = whySwitchRefused(id, confirm);
    const left = active;
    const leftShape = left === null ? undefined : profiles.get(left);
    const backsUpLeft = left !== null && left !== id && leftShape !== undefined && !leftShape.broken && (outputs.beforeSwitch || leftShape.beforeSwitch);
    const leftHeld = backsUpLeft ? await heldBy(left) : undefined;
    const envBefore = outputs.envFile && fs.lstatSync(abs(outputs.envFile), { throwIfNoEntry: false })?.isFile() ? fs.readFileSync(abs(outputs.envFile)) : undefined;
    const writtenBefore = lastWrittenEnv;
    const outputsBefore = outputsNow();
    const databasesBefore = await databasesNow();
    const backupsBefore = left === null ? [] : listedBackups(left);
    // One switch in six is made to fail at a step of its transaction (in process: the hook is the core's).
    failAt.step = refusedBecause === undefined && random() < 0.17 ? Math.floor(random() * (5 + outputs.links.size + (outputs.envFile ? 1 : 0))) : -1;
    const commands = failAt.step >= 0 ? failing : via();
    const how = `${commands.how}${failAt.step >= 0 ? `, failing at step ${failAt.step}` : ''}`;
    await pastLastWrite();
    let result;
    const injected = failAt.step;
    try {
      result = await commands.switchTo(id, confirm);
    } catch (error) {
      failAt.step = -1;
      if (error instanceof InjectedFailure) {
        log.push(`switch to ${id} (${how}): failed as injected at ${error.message}`);
        if (error.message === 'committed') {
          // Past the commit point: the next command finishes the switch.
          assert.ok(fs.readdirSync(abs('.envprofiles/journal')).length > 0, 'a switch that failed after its commit left no journal to finish it');
          const status = runCli(['status', '--json'], { cwd: root });
          assert.equal(status.status, 0, status.stderr);
          assert.deepEqual(fs.readdirSync(abs('.envprofiles/journal')), [], 'the next command did not finish the committed switch');
          active = id;
          assertSwitchedTo(id, `the switch to ${id} finished by the next command`);
          count('switch finished after a failure past its commit');
        } else {
          assert.deepEqual(outputsNow(), { ...outputsBefore, 'env-backups': outputsNow()['env-backups'] }, `a switch to ${id} that failed at ${error.message} did not roll every output back`);
          count('switch rolled back');
        }
        assert.deepEqual(sparedByOutputs(await databasesNow(), databasesBefore), sparedByOutputs(databasesBefore, databasesBefore), `a switch to ${id} that failed changed a database`);
        return;
      }
      const refusal = refusalOf(error);
      if (!refusal) throw error;
      log.push(`switch to ${id} (${how}): refused, ${refusal.code}: ${refusal.message}`);
      assert.ok(refusedBecause !== undefined, `a switch to ${id} was refused (${refusal.code}: ${refusal.message}), but nothing should refuse it`);
      assert.deepEqual(outputsNow(), outputsBefore, `a refused switch to ${id} changed an output`);
      assert.deepEqual(sparedByOutputs(await databasesNow(), databasesBefore), sparedByOutputs(databasesBefore, databasesBefore), `a refused switch to ${id} changed a database`);
      if (left !== null) assert.deepEqual(listedBackups(left), backupsBefore, `a refused switch to ${id} backed up ${left}`);
      count(`switch refused: ${refusedBecause.replace(/.* (missing or damaged|is a file|is a folder|is too large|is a database's path|is a SQLite file)$/, '$1').replace(/it has no .* to link/, 'nothing to link')}`);
      return;
    }
    log.push(`switch to ${id} (${how}) from ${result.from}${result.envFileBackup ? `, the env file saved to ${result.envFileBackup}` : ''}${result.beforeSwitchBackup ? `, backed up first: ${result.beforeSwitchBackup}` : ''}`);
    assert.equal(injected, -1, `a switch to ${id} went through a failure injected at step ${injected}`);
    assert.equal(refusedBecause, undefined, `a switch to ${id} went through, but ${refusedBecause}`);
    assert.equal(result.from, active, 'the switch says it left another profile');
    active = id;
    assertSwitchedTo(id, `the switch to ${id}`);
    assertStatusAgrees(`the switch to ${id}`, true);
    assert.deepEqual(sparedByOutputs(await databasesNow(), databasesBefore), sparedByOutputs(databasesBefore, databasesBefore), `the switch to ${id} changed a database`);
    // An env file someone else wrote is kept aside, as it was; so is one a switch wrote and someone edited
    // since (unless it is what this switch writes anyway); one as a switch wrote it is not.
    const foreign = envBefore !== undefined && !envBefore.toString('utf8').startsWith('# Generated by Environment Profiles');
    const edited = envBefore !== undefined && !foreign && writtenBefore !== undefined && writtenBefore.label === outputs.envFile && !envBefore.equals(writtenBefore.content) && !envBefore.equals(fs.readFileSync(abs(outputs.envFile as string)));
    assert.equal(result.envFileBackup !== undefined, foreign || edited, `the switch to ${id}: env file kept aside: ${result.envFileBackup}`);
    assert.equal(result.envFileBackupReason, foreign ? 'not-written-by-us' : edited ? 'edited-since-switch' : undefined, `the switch to ${id}: why the env file was kept aside`);
    if (edited) count('switch, an edited env file kept aside');
    if (result.envFileBackup) assert.ok(fs.readFileSync(abs(result.envFileBackup)).equals(envBefore as Buffer), `${result.envFileBackup} is not the env file as it was`);
    assert.equal(result.beforeSwitchBackup !== undefined, backsUpLeft, `the switch to ${id}: backup of ${left} first: ${result.beforeSwitchBackup}`);
    if (result.beforeSwitchBackup && leftHeld) held.set(result.beforeSwitchBackup, leftHeld);
    count(left === id ? 'switch to the active profile' : result.beforeSwitchBackup ? 'switch, backed up first' : 'switch');
  };

  const steps: Array<[number, () => Promise<void> | void]> = [
    [12, switchStep],
    [2, () => {
      count(`status: ${assertStatusAgrees('status', false)}`);
    }],
    [5, async () => {
      const id = pick([...profiles.keys()]);
      const names = [...(profiles.get(id) as ProfileShape).databases].filter(([, rel]) => usable(rel));
      if (names.length === 0) return;
      const [name, rel] = pick(names);
      await execute(abs(rel), `INSERT INTO items (label) VALUES ('${random()}'); UPDATE items SET label = label || '+' WHERE id % 2 = 0`);
      log.push(`write ${id}'s ${name}`);
    }],
    [1, () => {
      // A database renamed in its profile: a link to its old name has nothing to point at.
      const id = pick([...profiles.keys()]);
      const shape = profiles.get(id) as ProfileShape;
      const from = pick([...shape.databases.keys()]);
      const to = pick(['settings', 'cache', 'main', 'other'].filter((name) => !shape.databases.has(name)));
      if (to === undefined) return;
      shape.databases = new Map([...shape.databases].map(([name, rel]) => [name === from ? to : name, rel]));
      writeProfile(id);
      log.push(`${id}'s ${from} renamed ${to}`);
    }],
    [1, async () => {
      const id = pick([...profiles.keys()]);
      const shape = profiles.get(id) as ProfileShape;
      if (shape.databases.size > 1 && random() < 0.5) {
        const name = pick([...shape.databases.keys()]);
        shape.databases.delete(name);
        log.push(`${id}'s ${name} dropped from the profile`);
      } else {
        const name = pick(['settings', 'cache', 'main', 'other'].filter((n) => !shape.databases.has(n)));
        if (!name) return;
        await createDatabase(id, name);
        log.push(`${id} gets a new ${name} at ${shape.databases.get(name)}`);
      }
      writeProfile(id);
    }],
    [1, () => {
      const rels = [...profiles.values()].flatMap((shape) => [...shape.databases.values()]).filter((rel) => fs.existsSync(abs(rel)));
      if (rels.length === 0) return;
      const rel = pick(rels);
      if (random() < 0.5) {
        removeDatabaseFiles(abs(rel));
        damaged.delete(rel);
        log.push(`${rel} deleted`);
      } else if (!damaged.has(rel) && !fs.existsSync(abs(`${rel}-wal`))) {
        const handle = fs.openSync(abs(rel), 'r+');
        fs.writeSync(handle, Buffer.from('not a database any more'), 0, 23, 0);
        fs.closeSync(handle);
        damaged.add(rel);
        log.push(`${rel} damaged (its header overwritten)`);
      }
    }],
    [1, () => {
      const id = pick([...profiles.keys()]);
      const shape = profiles.get(id) as ProfileShape;
      if (random() < 0.5) shape.type = pick(['DEVELOPMENT', 'TESTING', 'PRODUCTION', 'BACKUP'] as const);
      else if (random() < 0.5) shape.protected = !shape.protected;
      else shape.beforeSwitch = !shape.beforeSwitch;
      writeProfile(id);
      log.push(`${id} is now ${shape.type}${shape.protected ? ', protected' : ''}${shape.beforeSwitch ? ', before_switch' : ''}`);
    }],
    [1, () => {
      // A broken file is mended soon, as a user would.
      const broken = [...profiles].filter(([, shape]) => shape.broken).map(([id]) => id);
      const id = broken.length > 0 && random() < 0.7 ? pick(broken) : pick([...profiles.keys()]);
      const shape = profiles.get(id) as ProfileShape;
      shape.broken = !shape.broken;
      writeProfile(id);
      log.push(`${id}'s profile file ${shape.broken ? 'broken' : 'mended'}`);
    }],
    [1, () => {
      if (fs.existsSync(abs(GUARD_FILE))) fs.rmSync(abs(GUARD_FILE));
      else if (random() < 0.5) {
        fs.mkdirSync(path.dirname(abs(GUARD_FILE)), { recursive: true });
        fs.writeFileSync(abs(GUARD_FILE), `${process.pid}\n`);
      }
      log.push(`the guard is ${fs.existsSync(abs(GUARD_FILE)) ? 'up' : 'down'}`);
    }],
    [1, () => {
      // (Not an env file set at a database's path by mistake: what is there is that database.)
      if (!outputs.envFile || everDatabase.has(outputs.envFile)) return;
      fs.mkdirSync(path.dirname(abs(outputs.envFile)), { recursive: true });
      const what = random();
      const written = fs.lstatSync(abs(outputs.envFile), { throwIfNoEntry: false })?.isFile() ? fs.readFileSync(abs(outputs.envFile)) : undefined;
      if (written?.toString('utf8').startsWith('# Generated by Environment Profiles') && random() < 0.4) {
        // Edited where a switch wrote it: a setting added by hand, or one of its values changed.
        fs.writeFileSync(abs(outputs.envFile), random() < 0.5 ? Buffer.concat([written, Buffer.from(`ADDED_BY_HAND='${random()}'\n`)]) : written.toString('utf8').replace(/^(ENVPROFILE_TYPE=).*$/m, `$1'EDITED'`));
        log.push(`${outputs.envFile} edited by hand`);
        return;
      }
      fs.rmSync(abs(outputs.envFile), { force: true, recursive: true });
      if (what < 0.55) {
        fs.writeFileSync(abs(outputs.envFile), `# my own settings\nDATABASE_URL=sqlite:///somewhere/${random()}\n`);
        log.push(`${outputs.envFile} written by hand`);
      } else if (what < 0.65) {
        // Larger than any env file (a log, an export): a switch must not take it for one.
        fs.writeFileSync(abs(outputs.envFile), Buffer.alloc(LARGEST_OUTPUT_BYTES + 1 + Math.floor(random() * 4096), `a line of a log ${random()}\n`));
        log.push(`${outputs.envFile} is now a large file`);
      } else if (what < 0.72) {
        fs.mkdirSync(abs(outputs.envFile));
        fs.writeFileSync(path.join(abs(outputs.envFile), 'kept.txt'), 'the user keeps this here');
        log.push(`${outputs.envFile} is now a folder`);
      } else {
        log.push(`${outputs.envFile} deleted`);
      }
    }],
    [1, () => {
      // (Not a link set at a database's path by mistake: what is there is that database.)
      const links = [...outputs.links.keys()].filter((link) => !everDatabase.has(link));
      if (links.length === 0) return;
      const link = pick(links);
      const file = abs(link);
      const stat = fs.lstatSync(file, { throwIfNoEntry: false });
      fs.mkdirSync(path.dirname(file), { recursive: true });
      if (stat?.isFile() || stat?.isDirectory()) {
        fs.rmSync(file, { recursive: true });
        log.push(`the ${stat.isFile() ? 'file' : 'folder'} at ${link} moved away`);
      } else {
        fs.rmSync(file, { force: true });
        const what = pick(['a file', 'a large file', 'a folder', 'a dangling link', 'nothing']);
        if (what === 'a file') fs.writeFileSync(file, 'a file where the link goes');
        if (what === 'a large file') fs.writeFileSync(file, Buffer.alloc(LARGEST_OUTPUT_BYTES + 1, 'a large file where the link goes\n'));
        if (what === 'a folder') fs.mkdirSync(file);
        if (what === 'a dangling link') fs.symlinkSync('nowhere/at/all.sqlite3', file);
        log.push(`${link} is now ${what}`);
      }
    }],
    [1, () => {
      if (random() < 0.1) {
        // By mistake, an output at a database's path (one a profile names now, or named once).
        const rel = pick([...everDatabase]);
        if (random() < 0.5 && ![...outputs.links.keys()].some((link) => path.resolve(root, link) === path.resolve(root, rel))) outputs.envFile = rel;
        else if (outputs.envFile === undefined || path.resolve(root, outputs.envFile) !== path.resolve(root, rel)) outputs.links.set(rel, pick(['settings', 'cache', 'main']));
      } else if (random() < 0.5) outputs.envFile = pick(['.env', 'config/app.env', undefined]);
      else if (random() < 0.5) outputs.beforeSwitch = !outputs.beforeSwitch;
      else {
        const link = pick(['current/settings.sqlite3', 'data/current.sqlite3', 'current/cache link.sqlite3', 'current/main.sqlite3', ...outputs.links.keys()]);
        if (outputs.links.has(link)) outputs.links.delete(link);
        else if (link !== outputs.envFile) outputs.links.set(link, pick(['settings', 'cache', 'main']));
      }
      for (const rel of [...outputs.links.keys(), ...(outputs.envFile ? [outputs.envFile] : [])]) everOutput.add(rel);
      writeConfig();
      log.push(`config: env file ${outputs.envFile ?? 'none'}, links ${[...outputs.links].map(([link, name]) => `${link} -> ${name}`).join(', ') || 'none'}, before_switch ${outputs.beforeSwitch}`);
    }],
    [2, async () => {
      const before = new Map<string, Held>();
      for (const id of profiles.keys()) before.set(id, await heldBy(id));
      await pastLastWrite();
      const commands = via();
      const { made, failed } = await commands.backupAll();
      log.push(`backup --all (${commands.how}): ${made.map((m) => `${m.profileId} ${m.id}${m.leftOut.length ? ` without ${m.leftOut.join(', ')}` : ''}`).join('; ')}${failed.length ? `; failed: ${failed.join(', ')}` : ''}`);
      // A profile whose file is broken is saved from what of it can still be read (here: nothing).
      assert.deepEqual(failed.sort(), [...profiles].filter(([, shape]) => shape.broken).map(([id]) => id).sort(), 'backup --all failed for');
      for (const m of made) held.set(m.id, before.get(m.profileId) as Held);
      count('backup --all');
    }],
    [2, mendADatabase],
    [2, async () => {
      // A restore over a profile (the active one too): its databases come back; the outputs stay.
      const candidates = [...held].filter(([, h]) => profiles.has(h.profileId) && !(profiles.get(h.profileId) as ProfileShape).broken && h.databases.size > 0);
      if (candidates.length === 0) return;
      const [backupId, expected] = pick(candidates);
      const id = expected.profileId;
      const shape = profiles.get(id) as ProfileShape;
      const confirm = isProtected(shape) && random() < 0.85 ? id : undefined;
      const outputsBefore = outputsNow();
      const databasesBefore = await databasesNow();
      const commands = via();
      try {
        const result = await commands.restore(backupId, { confirm });
        log.push(`restore ${backupId} over ${id} (${commands.how}): safety backup ${result.safetyBackup}`);
      } catch (error) {
        const refusal = refusalOf(error);
        if (!refusal) throw error;
        log.push(`restore ${backupId} over ${id} (${commands.how}): refused, ${refusal.code}: ${refusal.message}`);
        assert.ok(fs.existsSync(abs(GUARD_FILE)) || (isProtected(shape) && confirm !== id), `a restore of ${backupId} over ${id} was refused (${refusal.code}: ${refusal.message})`);
        assert.deepEqual(await databasesNow(), databasesBefore, `a refused restore of ${backupId} changed a database`);
        count('restore refused');
        return;
      }
      assert.ok(!fs.existsSync(abs(GUARD_FILE)), `a restore of ${backupId} went through with the guard up`);
      // What the backup holds under a name the profile still gives it comes back there (damaged or
      // missing files too: a restore replaces them).
      for (const [name, rows] of expected.databases) {
        const rel = shape.databases.get(name);
        if (rel === undefined) continue;
        damaged.delete(rel);
        assert.equal(await rowsOf(abs(rel)), rows, `restore of ${backupId}: ${id}'s ${name}`);
      }
      // (An output set at a database's path by mistake is that database, which the restore may bring back.)
      const outputsOnly = (all: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(all).filter(([rel]) => rel !== 'env-backups' && !everDatabase.has(rel)));
      assert.deepEqual(outputsOnly(outputsNow()), outputsOnly(outputsBefore), `restore of ${backupId} over ${id} changed an output`);
      count(id === active ? 'restore over the active profile' : 'restore over another profile');
    }],
    [1, async () => {
      if (profiles.size >= 5) return;
      const source = pick([...profiles.keys()]);
      const sourceShape = profiles.get(source) as ProfileShape;
      const id = `clone${++fresh}`;
      const sourceHeld = await heldBy(source);
      const commands = via();
      try {
        const databases = await commands.clone(source, id);
        profiles.set(id, { name: '', type: sourceShape.type, protected: sourceShape.protected, beforeSwitch: sourceShape.beforeSwitch, databases: new Map(Object.entries(databases)), broken: false });
        for (const rel of Object.values(databases)) everDatabase.add(rel);
        // Its own file says what it is; the model follows it.
        const written = parse(fs.readFileSync(abs(`.envprofiles/profiles/${id}.yaml`), 'utf8')) as { profile: { name: string; type: ProfileShape['type']; protected?: boolean; backup_schedule?: { before_switch?: boolean } } };
        Object.assign(profiles.get(id) as ProfileShape, { name: written.profile.name, type: written.profile.type, protected: written.profile.protected === true, beforeSwitch: written.profile.backup_schedule?.before_switch === true });
        log.push(`clone ${source} into ${id} (${commands.how}): ${Object.entries(databases).map(([name, rel]) => `${name} at ${rel}`).join(', ')}`);
        for (const [name, rows] of sourceHeld.databases) assert.equal(await rowsOf(abs(databases[name])), rows, `clone of ${source}: ${name}`);
        count('clone');
      } catch (error) {
        const refusal = refusalOf(error);
        if (!refusal) throw error;
        log.push(`clone ${source} into ${id} (${commands.how}): refused, ${refusal.code}: ${refusal.message}`);
        assert.ok(sourceShape.broken || [...sourceShape.databases.values()].some((rel) => !usable(rel)), `a clone of ${source} was refused (${refusal.code}: ${refusal.message})`);
        assert.equal(fs.existsSync(abs(`.envprofiles/profiles/${id}.yaml`)), false, `a refused clone left ${id}'s file`);
        count('clone refused');
      }
    }],
    [1, async () => {
      const id = pick([...profiles.keys()]);
      const shape = profiles.get(id) as ProfileShape;
      const confirm = isProtected(shape) && random() < 0.85 ? id : undefined;
      const deleteData = random() < 0.5;
      if (random() < 0.7) {
        await pastLastWrite();
        try {
          const made = await core.backup(id, 'auto', { leaveOutMissing: true, keepDamaged: true });
          await core.verify(made.id);
          held.set(made.id, await heldBy(id));
        } catch (error) {
          if (!refusalOf(error) || !shape.broken) throw error;
        }
      }
      const databasesBefore = await databasesNow();
      const commands = via();
      try {
        const covering = await commands.delete(id, { deleteData, confirm });
        log.push(`delete ${id}${deleteData ? ' with its data' : ''} (${commands.how}): covered by ${covering}`);
        assert.notEqual(id, active, `the active profile ${id} was deleted`);
        assert.ok(!isProtected(shape) || confirm === id, `${id} was deleted without confirmation`);
        profiles.delete(id);
        for (const rel of shape.databases.values()) {
          if (!deleteData) assert.equal(fs.existsSync(abs(rel)) ? 'kept' : 'absent', databasesBefore[rel] === 'absent' ? 'absent' : 'kept', `delete of ${id} without its data: ${rel}`);
          else assert.equal(fs.existsSync(abs(rel)), false, `delete of ${id} with its data left ${rel}`);
        }
        count(deleteData ? 'delete with data' : 'delete');
      } catch (error) {
        const refusal = refusalOf(error);
        if (!refusal) throw error;
        log.push(`delete ${id} (${commands.how}): refused, ${refusal.code}: ${refusal.message}`);
        assert.deepEqual(await databasesNow(), databasesBefore, `a refused delete of ${id} changed a database`);
        assert.ok(fs.existsSync(abs(`.envprofiles/profiles/${id}.yaml`)), `a refused delete removed ${id}'s file`);
        count(`delete refused, ${refusal.code}`);
      }
      // A workspace keeps two profiles to switch between.
      while (profiles.size < 2) await newProfile(`late${++fresh}`);
    }],
  ];

  /** A missing or damaged database of a profile comes back: from a backup (restore --db), or made anew. */
  async function mendADatabase(): Promise<void> {
    const unusable = [...profiles].flatMap(([id, shape]) => [...shape.databases].filter(([, rel]) => !usable(rel)).map(([name, rel]) => ({ id, shape, name, rel })));
    if (unusable.length === 0) return;
    const { id, shape, name, rel } = pick(unusable);
    const from = [...held].filter(([, h]) => h.profileId === id && h.databases.has(name));
    if (from.length === 0 || shape.broken || random() < 0.2) {
      removeDatabaseFiles(abs(rel));
      damaged.delete(rel);
      fs.mkdirSync(path.dirname(abs(rel)), { recursive: true });
      await execute(abs(rel), `CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT); INSERT INTO items (label) VALUES ('made anew ${random()}')`);
      log.push(`${id}'s ${name} made anew at ${rel}`);
      count('database made anew');
      return;
    }
    const [backupId, expected] = pick(from);
    const confirm = isProtected(shape) && random() < 0.85 ? id : undefined;
    const databasesBefore = await databasesNow();
    const commands = via();
    try {
      await commands.restore(backupId, { database: name, confirm });
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal) throw error;
      log.push(`restore --db ${name} of ${backupId} (${commands.how}): refused, ${refusal.code}: ${refusal.message}`);
      assert.ok(fs.existsSync(abs(GUARD_FILE)) || (isProtected(shape) && confirm !== id), `a restore --db ${name} of ${backupId} was refused (${refusal.code}: ${refusal.message})`);
      assert.deepEqual(await databasesNow(), databasesBefore, `a refused restore of ${backupId} changed a database`);
      count('restore --db refused');
      return;
    }
    damaged.delete(rel);
    log.push(`restore --db ${name} of ${backupId} (${commands.how}) brings back ${id}'s ${rel}`);
    assert.equal(await rowsOf(abs(rel)), expected.databases.get(name), `restore --db ${name} of ${backupId}`);
    const databasesAfter = await databasesNow();
    delete databasesAfter[rel];
    delete databasesBefore[rel];
    assert.deepEqual(databasesAfter, databasesBefore, `restore --db ${name} of ${backupId} changed another database`);
    count('restore --db');
  }

  const total = steps.reduce((sum, [weight]) => sum + weight, 0);
  for (let step = 0; step < STEPS; step++) {
    let roll = random() * total;
    const chosen = steps.find(([weight]) => (roll -= weight) < 0) ?? steps[0];
    await chosen[1]();
  }
  function listedBackups(id: string): string[] {
    return listedBackupIds(abs('.envprofiles/backups'), id);
  }

  // Every backup taken still restores (as a new profile, which the live application does not refuse)
  // to what its profile held when it was taken.
  let copies = 0;
  for (const [backupId, expected] of held) {
    if (expected.databases.size === 0) continue;
    if (!listedBackups(expected.profileId).includes(backupId)) continue;
    const asNew = `restored${++copies}`;
    await core.restore(backupId, { asNew });
    const restored = parse(fs.readFileSync(abs(`.envprofiles/profiles/${asNew}.yaml`), 'utf8')) as { profile: { databases: Record<string, string> } };
    assert.deepEqual(Object.keys(restored.profile.databases).sort(), [...expected.databases.keys()].sort(), `restore of ${backupId} as ${asNew}: its databases`);
    for (const [name, rows] of expected.databases) assert.equal(await rowsOf(abs(restored.profile.databases[name])), rows, `restore of ${backupId} as ${asNew}: ${name}`);
    count('backup restored as new');
  }
}

/** A step hook that throws at the `failAt.step`-th step of a switch's own (its validation, guards, journal, each output, commit), skipping the steps of a backup taken before it. */
function injectedFailures(failAt: { step: number }): (step: string) => void {
  let seen = 0;
  let inBackup = false;
  return (step) => {
    if (failAt.step < 0) return;
    if (step === 'validated') {
      seen = 0;
      inBackup = false;
    }
    if (step === 'guards-checked') inBackup = true;
    if (step === 'journal-written') inBackup = false;
    if (inBackup && step !== 'guards-checked') return;
    if (!/^(validated|guards-checked|journal-written|applied:.*|committed)$/.test(step)) return;
    if (seen++ === failAt.step) {
      failAt.step = -1;
      throw new InjectedFailure(step);
    }
  };
}
