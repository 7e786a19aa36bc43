import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { WorkspaceContext } from '../src/core/workspaceContext';
import { Application } from './support/applicationConnections';
import { execute, listedBackupIds, removeDatabaseFiles, rowsOf, sha256Of } from './support/committedRows';
import { scrambled, seeded } from './support/testHelpers';
import { inProcess, refusalOf, throughCli, type BackupCommands } from './support/twoWays';
import { leaveHotJournal } from './support/crashedWriter';
import { emptyWorkspace, engine, pastLastWrite, tempDir } from './support/workspaces';

// A profile whose shape changes between backups, at random (seeded): databases renamed, moved, added,
// dropped, rewritten (VACUUM, another page size), files: changed, added and dropped; backups of every
// kind, verifies, restores over the profile and as new profiles, prunes, and at the end a delete.
// Whatever happened before, every backup must restore to exactly what the profile held when it was taken.

const RUNS = Number(process.env.ENVPROFILES_EVOLVING_RUNS ?? 10);
const SEED = Number(process.env.ENVPROFILES_EVOLVING_SEED ?? 20261206);
const STEPS = Number(process.env.ENVPROFILES_EVOLVING_STEPS ?? 30);
/** One run alone (its number in a failure's message), to replay it. */
const ONLY_RUN = process.env.ENVPROFILES_EVOLVING_RUN === undefined ? undefined : Number(process.env.ENVPROFILES_EVOLVING_RUN);
const ID = 'evolving';
/** The share of commands run through the built CLI rather than in process. */
const THROUGH_CLI = 0.25;

interface Shape {
  databases: Map<string, string>;
  files: string[];
  keepLast: number;
}

/** What a backup must give back: each database's rows (by logical name) and each listed file's bytes. */
interface Held {
  databases: Map<string, string>;
  databasePaths: Map<string, string>;
  files: Map<string, string>;
  /** The damaged databases (no SQLite can read them), by the SHA-256 of their files. */
  damaged: Map<string, string>;
}

function profileYaml(shape: Shape): string {
  const lines = ['profile:', `  id: "${ID}"`, '  name: "Evolving"', '  type: "DEVELOPMENT"', '  created_at: "2025-08-08T20:00:00Z"', '  databases:'];
  for (const [name, rel] of shape.databases) lines.push(`    ${name}: "${rel}"`);
  if (shape.files.length > 0) lines.push('  files:', ...shape.files.map((file) => `    - "${file}"`));
  lines.push('  backup_schedule:', '    frequency: "DAILY"', '    time: "02:00"', '    keep:', `      last: ${shape.keepLast}`);
  return `${lines.join('\n')}\n`;
}

/** What the profile holds now (a database whose file is missing: nothing; one that is damaged: its file's hash). */
async function heldNow(root: string, shape: Shape, damagedNames: ReadonlySet<string>): Promise<Held> {
  const databases = new Map<string, string>();
  const damaged = new Map<string, string>();
  const present = [...shape.databases].filter(([, rel]) => fs.existsSync(path.join(root, rel)));
  for (const [name, rel] of present) {
    if (damagedNames.has(name)) damaged.set(name, sha256Of(path.join(root, rel)));
    else databases.set(name, await rowsOf(path.join(root, rel)));
  }
  const files = new Map(shape.files.map((file) => [file, fs.readFileSync(path.join(root, file), 'base64')]));
  return { databases, databasePaths: new Map(present.filter(([name]) => !damagedNames.has(name))), files, damaged };
}

const SIDES = ['', '-wal', '-shm', '-journal'];

describe('profiles whose shape changes between backups, at random (seeded: ENVPROFILES_EVOLVING_SEED, _RUNS, _STEPS; _RUN replays one)', () => {
  it(`every backup restores (as a new profile) to exactly what the profile held when it was taken, verifies, and survives renames, moves, new and dropped databases and files, rewrites, restores, prunes; a delete with its data leaves a backup that holds it (${RUNS} runs of ${STEPS} steps)`, async function () {
    this.timeout(1_800_000);
    const failures: string[] = [];
    const counts: Record<string, number> = {};
    for (let run = ONLY_RUN ?? 0; run < (ONLY_RUN === undefined ? RUNS : ONLY_RUN + 1); run++) {
      // Each run its own stream, so that one can be replayed alone.
      const random = seeded(scrambled(SEED * 1000 + run));
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
      const { root, context } = await emptyWorkspace();
      const log: string[] = [];
      try {
        await evolve(root, context, random, pick, log, counts);
      } catch (error) {
        failures.push(`run ${run} (ENVPROFILES_EVOLVING_SEED=${SEED} ENVPROFILES_EVOLVING_STEPS=${STEPS} ENVPROFILES_EVOLVING_RUN=${run}) failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n  steps:\n    ${log.join('\n    ')}`);
        if (failures.length >= 3) break;
      }
    }
    console.log(`      evolving profiles: ${JSON.stringify(counts)}`);
    assert.deepEqual(failures, [], failures.join('\n\n'));
  });
});

async function evolve(root: string, context: WorkspaceContext, random: () => number, pick: <T>(items: readonly T[]) => T, log: string[], counts: Record<string, number>): Promise<void> {
  const count = (what: string): void => { counts[what] = (counts[what] ?? 0) + 1; };
  let fresh = 0;
  const newName = (stem: string): string => `${stem}${++fresh}`;
  // Names and folders of every kind a profile allows: long names, capitals, spaces and non-ASCII in paths.
  const databaseName = (stem: string): string => newName(pick([stem, stem, `${stem.toUpperCase()}_Data_`, `${stem}_${'x'.repeat(48)}_`]));
  const folder = (): string => `data/${pick(['app', 'app', 'other', 'with space', '데이터'])}`;
  const shape: Shape = { databases: new Map(), files: [], keepLast: 2 + Math.floor(random() * 4) };
  const profileFile = path.join(root, '.envprofiles/profiles', `${ID}.yaml`);
  // Each run its own settings: where the backups go (in the workspace, or a folder outside it), how
  // they are compressed, and how long a chain of incrementals may grow.
  const backupsFolder = random() < 0.3 ? tempDir('evolving-backups-') : path.join(root, '.envprofiles/backups');
  const settings = { compression: pick(['store', 'fast', 'best']), maxChain: 1 + Math.floor(random() * 7) };
  fs.writeFileSync(path.join(root, '.envprofiles/config.yaml'), `backups:\n  directory: ${JSON.stringify(backupsFolder)}\n  compression: ${settings.compression}\n  max_chain: ${settings.maxChain}\n`);
  log.push(`backups in ${backupsFolder === path.join(root, '.envprofiles/backups') ? 'the workspace' : 'a folder outside it'}, compression ${settings.compression}, chains of at most ${settings.maxChain}`);
  const writeProfile = (): void => fs.writeFileSync(profileFile, profileYaml(shape));
  const held = new Map<string, Held>();
  let asNewCount = 0;
  const core = inProcess(context);
  const cli = throughCli(root);
  const via = (): BackupCommands => (random() < THROUGH_CLI ? cli : core);

  const createDatabase = async (): Promise<void> => {
    const name = databaseName('db');
    const rel = `${folder()}/${name}.sqlite3`;
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    const wal = random() < 0.7;
    await execute(path.join(root, rel), `${wal ? 'PRAGMA journal_mode = WAL;' : ''} CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT, body BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${20 + Math.floor(random() * 300)}) INSERT INTO items (label, body) SELECT 'row ' || i, randomblob(${50 + Math.floor(random() * 400)}) FROM n`);
    shape.databases.set(name, rel);
    log.push(`create ${name} at ${rel}${wal ? ' (WAL)' : ''}`);
  };
  const createFile = (): void => {
    const rel = pick(['config', 'config/nested']) + `/${newName('file')}.${pick(['json', 'ini', 'env'])}`;
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), `created ${rel} ${random()}\n`);
    shape.files.push(rel);
    log.push(`file ${rel} listed`);
  };

  await createDatabase();
  await createDatabase();
  writeProfile();
  // Damaged databases (their header overwritten): no SQLite reads them until a restore replaces them.
  const damaged = new Set<string>();
  const presentDatabases = (): string[] => [...shape.databases.keys()].filter((name) => fs.existsSync(path.join(root, shape.databases.get(name) as string)));
  const currentDatabases = (): string[] => presentDatabases().filter((name) => !damaged.has(name));
  const missingDatabases = (): string[] => [...shape.databases.keys()].filter((name) => !presentDatabases().includes(name));
  // The application's own connections, kept open across backups with their WAL not checkpointed.
  const application = new Application();
  const live = { has: (name: string) => application.open.includes(name), get size() { return application.open.length; }, keys: () => application.open };
  const closeLive = (name?: string): Promise<void> => application.close(name);

  const steps: Array<[number, () => Promise<void> | void]> = [
    [6, async () => {
      if (currentDatabases().length === 0) return;
      const name = pick(currentDatabases());
      const file = path.join(root, shape.databases.get(name) as string);
      const sql = pick([
        `UPDATE items SET label = label || '+' WHERE id % ${2 + Math.floor(random() * 5)} = 0`,
        `INSERT INTO items (label, body) SELECT 'more', randomblob(${100 + Math.floor(random() * 3000)}) FROM items LIMIT ${1 + Math.floor(random() * 60)}`,
        `DELETE FROM items WHERE id % ${3 + Math.floor(random() * 5)} = 1`,
        'CREATE TABLE IF NOT EXISTS extra (k TEXT PRIMARY KEY, v BLOB); INSERT OR REPLACE INTO extra VALUES (hex(randomblob(4)), randomblob(2000))',
      ]);
      if (live.has(name)) await application.exec(name, sql);
      else await execute(file, sql);
      log.push(`write ${name}${live.has(name) ? ' (by the application)' : ''}: ${sql}`);
    }],
    [2, async () => {
      if (currentDatabases().length === 0) return;
      const name = pick(currentDatabases());
      if (live.has(name)) return;
      await application.openDatabase(name, path.join(root, shape.databases.get(name) as string));
      log.push(`the application opened ${name} (no checkpoints)`);
    }],
    [1, async () => {
      if (live.size === 0) return;
      const name = pick([...live.keys()]);
      await closeLive(name);
      log.push(`the application closed ${name}`);
    }],
    [1, async () => {
      // The application dies in the middle of a transaction on a rollback-journal database.
      const candidates = currentDatabases().filter((name) => !live.has(name) && !['-wal', '-journal'].some((side) => fs.existsSync(path.join(root, `${shape.databases.get(name)}${side}`))));
      if (candidates.length === 0) return;
      const name = pick(candidates);
      const file = path.join(root, shape.databases.get(name) as string);
      const connection = (await engine()).open(file, { readOnly: true });
      const mode = String(connection.all('PRAGMA journal_mode')[0]?.journal_mode);
      connection.close();
      if (mode !== 'delete') return;
      leaveHotJournal(file, 'items');
      log.push(`the application died mid-transaction on ${name}: a hot journal is left`);
      count('hot journal');
    }],
    [1, async () => {
      // A profile file that does not parse: a backup and a restore over it are refused and change nothing.
      const id = pickListed();
      const before = await heldNow(root, shape, damaged);
      const listed = listedIds();
      fs.writeFileSync(profileFile, `${profileYaml(shape).replace('  databases:', '  databases: [')}`);
      const commands = via();
      try {
        await assert.rejects(commands.backup(ID, 'auto', { leaveOutMissing: true, keepDamaged: true }), (error) => refusalOf(error) !== undefined, 'a backup of a profile file that does not parse');
        if (id) await assert.rejects(commands.restore(id), (error) => refusalOf(error) !== undefined, 'a restore over a profile file that does not parse');
        assert.deepEqual(listedIds(), listed, 'a refused command listed a backup');
        assert.deepEqual(await heldNow(root, shape, damaged), before, 'a refused command changed the profile');
        log.push(`profile file broken (${commands.how}): backup${id ? ` and restore of ${id}` : ''} refused`);
        count('broken profile refused');
      } finally {
        writeProfile();
      }
    }],
    [1, async () => {
      if (presentDatabases().length < 2) return;
      const name = pick(presentDatabases());
      await closeLive(name);
      const rel = shape.databases.get(name) as string;
      removeDatabaseFiles(path.join(root, rel));
      damaged.delete(name);
      log.push(`file of ${name} (${rel}) deleted`);
    }],
    [1, async () => {
      // Another tool overwrites a database's header: it is no SQLite database any more. (Not one with a
      // hot journal: rolling that back writes the header again, as SQLite does on the next open.)
      const candidates = currentDatabases().filter((name) => !fs.existsSync(path.join(root, `${shape.databases.get(name)}-journal`)));
      if (candidates.length === 0) return;
      const name = pick(candidates);
      await closeLive(name);
      const file = path.join(root, shape.databases.get(name) as string);
      const handle = fs.openSync(file, 'r+');
      fs.writeSync(handle, Buffer.from(`not a database any more ${random()}`.padEnd(100, '!')), 0, 100, 0);
      fs.closeSync(handle);
      damaged.add(name);
      log.push(`${name} damaged (its header overwritten)`);
      count('damaged');
    }],
    [1, async () => {
      if (currentDatabases().length === 0) return;
      const name = pick(currentDatabases());
      await closeLive(name);
      await execute(path.join(root, shape.databases.get(name) as string), 'VACUUM');
      log.push(`vacuum ${name}`);
    }],
    [1, async () => {
      if (currentDatabases().length === 0) return;
      const name = pick(currentDatabases());
      await closeLive(name);
      const size = pick([1024, 2048, 8192, 16384]);
      const file = path.join(root, shape.databases.get(name) as string);
      const connection = (await engine()).open(file, { readOnly: false });
      const mode = String(connection.all('PRAGMA journal_mode')[0]?.journal_mode);
      connection.close();
      await execute(file, `PRAGMA journal_mode = DELETE; PRAGMA page_size = ${size}; VACUUM; PRAGMA journal_mode = ${mode}`);
      log.push(`page size of ${name} to ${size} (journal mode ${mode})`);
    }],
    [1, () => {
      const name = pick([...shape.databases.keys()]);
      const renamed = databaseName('renamed');
      application.renamed(name, renamed);
      if (damaged.delete(name)) damaged.add(renamed);
      shape.databases = new Map([...shape.databases].map(([key, rel]) => [key === name ? renamed : key, rel]));
      writeProfile();
      log.push(`rename ${name} to ${renamed}`);
    }],
    [1, async () => {
      if (presentDatabases().length === 0) return;
      const name = pick(presentDatabases());
      await closeLive(name);
      const from = shape.databases.get(name) as string;
      const to = `${pick([folder(), 'data/moved'])}/${newName('moved')} file.sqlite3`;
      fs.mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
      for (const side of SIDES) if (fs.existsSync(path.join(root, from + side))) fs.renameSync(path.join(root, from + side), path.join(root, to + side));
      shape.databases.set(name, to);
      writeProfile();
      log.push(`move ${name} from ${from} to ${to}`);
    }],
    [1, async () => {
      if (shape.databases.size < 4) {
        await createDatabase();
        writeProfile();
      }
    }],
    [1, async () => {
      if (shape.databases.size < 2) return;
      const name = pick([...shape.databases.keys()]);
      await closeLive(name);
      shape.databases.delete(name);
      damaged.delete(name);
      writeProfile();
      log.push(`drop ${name} from the profile (its file stays)`);
    }],
    [1, () => {
      if (shape.files.length < 3) {
        createFile();
        writeProfile();
      }
    }],
    [1, () => {
      if (shape.files.length === 0) return;
      const file = pick(shape.files);
      fs.writeFileSync(path.join(root, file), `changed ${random()}\n`);
      log.push(`file ${file} changed`);
    }],
    [1, () => {
      if (shape.files.length === 0) return;
      const file = pick(shape.files);
      shape.files = shape.files.filter((f) => f !== file);
      writeProfile();
      log.push(`file ${file} no longer listed`);
    }],
    [5, async () => {
      const kind = pick(['auto', 'auto', 'full', 'incremental'] as const);
      const leaveOutMissing = random() < 0.8;
      const keepDamaged = random() < 0.8;
      const missing = missingDatabases();
      const damagedNow = presentDatabases().filter((name) => damaged.has(name));
      const before = await heldNow(root, shape, damaged);
      await pastLastWrite();
      const commands = via();
      try {
        const made = await commands.backup(ID, kind, { leaveOutMissing, keepDamaged });
        assert.ok(missing.length === 0 || leaveOutMissing, `a backup without --skip-missing went on with ${missing.join(', ')} missing`);
        assert.ok(damagedNow.length === 0 || keepDamaged, `a backup without --keep-damaged went on with ${damagedNow.join(', ')} damaged`);
        assert.deepEqual([...made.leftOut].sort(), [...missing, ...damagedNow].sort(), `${made.id} left out`);
        assert.ok(made.chainLength <= settings.maxChain, `${made.id} is incremental number ${made.chainLength} of a chain of at most ${settings.maxChain}`);
        held.set(made.id, before);
        log.push(`backup ${kind} (${commands.how}): ${made.id} (${made.kind}, chain ${made.chainLength})`);
        count(`backup ${made.kind}`);
      } catch (error) {
        // An incremental with nothing to build on is refused, typed, and so is a missing database unless
        // left out; nothing else may refuse a backup here.
        const refusal = refusalOf(error);
        if (!refusal || !((kind === 'incremental' && held.size === 0) || (missing.length > 0 && !leaveOutMissing) || (damagedNow.length > 0 && !keepDamaged))) throw error;
        log.push(`backup ${kind} (${commands.how}) refused: ${refusal.message}`);
      }
    }],
    [2, async () => {
      const id = pickListed();
      if (!id) return;
      const commands = via();
      const result = await commands.verify(id);
      log.push(`verify ${id} (${commands.how}): ${result.ok}`);
      assert.equal(result.ok, true, `verify ${id}: ${result.detail}`);
      count('verify');
    }],
    [2, onAListedBackup(checkAsNew)],
    [2, onAListedBackup(restoreOver)],
    [1, onAListedBackup(restoreOneDatabase)],
    [1, async () => {
      const commands = via();
      const deleted = await commands.prune(ID);
      log.push(`prune (${commands.how}, keep last ${shape.keepLast}): deleted ${deleted.join(', ') || 'none'}`);
      count('prune');
    }],
  ];

  /** A step that does `act` on a backup of the catalog, picked at random (none when there is none). */
  function onAListedBackup(act: (id: string) => Promise<void>): () => Promise<void> {
    return async () => {
      const id = pickListed();
      if (id) await act(id);
    };
  }
  function pickListed(): string | undefined {
    const listed = listedIds();
    return listed.length === 0 ? undefined : pick(listed);
  }
  function listedIds(): string[] {
    return listedBackupIds(backupsFolder, ID);
  }

  /** Restores `id` as a new profile and compares every database with what the profile held then. */
  async function checkAsNew(id: string): Promise<void> {
    const expected = held.get(id);
    if (!expected) return; // a safety backup: checked where it was taken
    const asNew = `copy${++asNewCount}`;
    const commands = via();
    if (expected.databases.size === 0) {
      // Every database was missing (left out): a profile needs one, so there is nothing to restore it as.
      await assert.rejects(commands.restore(id, { asNew }), (error) => /holds no database/.test(refusalOf(error)?.message ?? ''));
      log.push(`restore ${id} as ${asNew} (${commands.how}): refused, it holds no database`);
      return;
    }
    await commands.restore(id, { asNew });
    const restored = parse(fs.readFileSync(path.join(root, '.envprofiles/profiles', `${asNew}.yaml`), 'utf8')) as { profile: { databases: Record<string, string> } };
    assert.deepEqual(Object.keys(restored.profile.databases).sort(), [...expected.databases.keys()].sort(), `restore of ${id} as ${asNew}: its databases`);
    for (const [name, rows] of expected.databases) {
      assert.equal(await rowsOf(path.join(root, restored.profile.databases[name])), rows, `restore of ${id} as ${asNew}: ${name} differs from when it was backed up`);
    }
    log.push(`restore ${id} as ${asNew} (${commands.how}): same`);
    count('restore as new');
  }

  /** Restores `id` over the profile: what both name alike comes back, what the backup lacks stays, and the safety backup holds what was there. */
  /** Restores one database of `id` (--db): it comes back, and nothing else of the profile changes. */
  async function restoreOneDatabase(id: string): Promise<void> {
    const expected = held.get(id);
    const names = [...(expected?.databasePaths ?? [])].filter(([name, rel]) => shape.databases.get(name) === rel).map(([name]) => name);
    if (!expected || names.length === 0) return;
    const name = pick(names);
    if (random() < 0.6) await closeLive(name);
    const before = await heldNow(root, shape, damaged);
    const commands = via();
    let result;
    try {
      result = await commands.restore(id, { database: name });
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal || !live.has(name)) throw error;
      assert.deepEqual(await heldNow(root, shape, damaged), before, `a refused restore of ${name} from ${id} (${refusal.code}) changed the profile`);
      log.push(`restore --db ${name} of ${id} (${commands.how}) with it open: refused, ${refusal.code}`);
      count('restore --db refused, in use');
      return;
    }
    assert.ok(!live.has(name), `restore --db ${name} of ${id} replaced it while the application had it open`);
    log.push(`restore --db ${name} of ${id} (${commands.how}): safety backup ${result.safetyBackup}; notes: ${result.notes.join(' | ')}`);
    const wasDamaged = damaged.delete(name);
    const after = await heldNow(root, shape, damaged);
    assert.equal(after.databases.get(name), expected.databases.get(name), `restore --db ${name} of ${id}: not the backed-up data`);
    after.databases.delete(name);
    after.databasePaths.delete(name);
    before.databases.delete(name);
    before.databasePaths.delete(name);
    before.damaged.delete(name);
    assert.deepEqual(after, before, `restore --db ${name} of ${id} changed more than ${name}`);
    count(wasDamaged ? 'restore --db over a damaged one' : 'restore --db');
  }

  async function restoreOver(id: string): Promise<void> {
    const expected = held.get(id);
    if (!expected) return;
    // Mostly the application is stopped first; otherwise a database it has open must not be replaced.
    if (random() < 0.6) await closeLive();
    const open = [...live.keys()];
    const before = await heldNow(root, shape, damaged);
    const commands = via();
    let result;
    try {
      result = await commands.restore(id);
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal || open.length === 0) throw error;
      assert.deepEqual(await heldNow(root, shape, damaged), before, `a refused restore of ${id} (${refusal.code}) changed the profile`);
      log.push(`restore ${id} over the profile (${commands.how}) with ${open.join(', ')} open: refused, ${refusal.code}: ${refusal.message}`);
      count('restore refused, in use');
      return;
    }
    log.push(`restore ${id} over the profile (${commands.how})${open.length ? ` with ${open.join(', ')} open` : ''}: safety backup ${result.safetyBackup}; notes: ${result.notes.join(' | ')}`);
    if (result.safetyBackup) held.set(result.safetyBackup, before);
    const after = await heldNow(root, shape, damaged);
    for (const name of open) {
      const rel = shape.databases.get(name) as string;
      assert.equal(after.databases.get(name), before.databases.get(name), `restore of ${id} replaced ${name} (${rel}) while a connection had it open`);
    }
    // The backup's database of this name, or (renamed since) at this path, comes back here; one both
    // renamed and moved, with another database of the backup at its path now, is not checked.
    const restoredFrom = (name: string, rel: string): { from?: string; sameName?: string } => {
      const sameName: string | undefined = expected.databasePaths.get(name);
      const samePathAs: string | undefined = [...expected.databasePaths].find(([, backedUp]) => path.resolve(root, backedUp) === path.resolve(root, rel))?.[0];
      return { sameName, from: sameName === rel ? name : sameName === undefined ? samePathAs : samePathAs === undefined ? name : undefined };
    };
    // A damaged database the backup holds is replaced, and its file kept beside it byte for byte; one it
    // does not hold stays as it is.
    for (const [name, hash] of before.damaged) {
      const rel = shape.databases.get(name) as string;
      const file = path.join(root, rel);
      const { from, sameName } = restoredFrom(name, rel);
      if (from !== undefined) {
        damaged.delete(name);
        assert.equal(await rowsOf(file), expected.databases.get(from), `restore of ${id}: the damaged ${name} (${rel}) is not the backed-up data of ${from}`);
        const keptAside = fs.readdirSync(path.dirname(file)).filter((entry) => entry.startsWith(`${path.basename(rel)}.before-restore-`) && !/-(wal|shm|journal)$/.test(entry));
        assert.ok(keptAside.some((entry) => sha256Of(path.join(path.dirname(file), entry)) === hash), `restore of ${id}: the damaged ${name} (${rel}) was not kept aside as it was (beside it: ${keptAside.join(', ') || 'nothing'})`);
        count('damaged, restored and kept aside');
      } else if (sameName === undefined) {
        assert.equal(sha256Of(file), hash, `restore of ${id}: the damaged ${name} (${rel}), which the backup does not hold, changed`);
      }
    }
    for (const [name, rel] of shape.databases) {
      if (before.damaged.has(name)) continue;
      const { from, sameName } = restoredFrom(name, rel);
      const now = after.databases.get(name);
      if (from !== undefined) assert.equal(now, expected.databases.get(from), `restore of ${id}: ${name} (${rel}) is not the backed-up data of ${from}`);
      else if (sameName === undefined) assert.equal(now, before.databases.get(name), `restore of ${id}: ${name} (${rel}), which the backup does not hold, changed`);
    }
    for (const [file, bytes] of expected.files) {
      if (shape.files.includes(file)) assert.equal(fs.readFileSync(path.join(root, file), 'base64'), bytes, `restore of ${id}: ${file}`);
    }
    count('restore over');
    if (result.safetyBackup) await checkAsNew(result.safetyBackup);
  }

  try {
    const total = steps.reduce((sum, [weight]) => sum + weight, 0);
    for (let step = 0; step < STEPS; step++) {
      let roll = random() * total;
      const chosen = steps.find(([weight]) => (roll -= weight) < 0) ?? steps[0];
      await chosen[1]();
    }

    // Every backup still listed verifies and restores as new to its data.
    for (const id of listedIds()) {
      const verified = await via().verify(id);
      assert.equal(verified.ok, true, `final verify of ${id}: ${verified.detail}`);
      await checkAsNew(id);
    }
    // A delete with its data: refused (typed), or a verified backup holds exactly the data deleted.
    if (random() < 0.7) await closeLive();
    const before = await heldNow(root, shape, damaged);
    if (random() < 0.6) {
      await pastLastWrite();
      const made = await via().backup(ID, 'auto', { leaveOutMissing: true, keepDamaged: true });
      held.set(made.id, before);
      if (random() < 0.8) assert.equal((await via().verify(made.id)).ok, true);
      log.push(`last backup ${made.id}`);
    }
    const commands = via();
    try {
      const covering = await commands.deleteWithData(ID);
      log.push(`delete --delete-data (${commands.how})${live.size ? ` with ${[...live.keys()].join(', ')} open` : ''}: covered by ${covering}`);
      assert.equal(live.size, 0, `delete --delete-data removed ${[...live.keys()].join(', ')} while a connection had it open`);
      for (const [name, rel] of shape.databases) assert.equal(fs.existsSync(path.join(root, rel)), false, `${name} was to be deleted`);
      assert.ok(covering, 'a delete names the backup that covers it');
      const coveringHeld = held.get(covering);
      assert.ok(coveringHeld, `delete was covered by ${covering}, which this run did not take`);
      for (const [name, rel] of before.databasePaths) {
        const there: string | undefined = [...coveringHeld.databasePaths].find(([, backedUp]) => path.resolve(root, backedUp) === path.resolve(root, rel))?.[0];
        assert.equal(there === undefined ? undefined : coveringHeld.databases.get(there), before.databases.get(name), `delete --delete-data removed ${name} (${rel}), which ${covering} does not hold as it was`);
      }
      // A damaged database deleted with its data: the covering backup keeps its file as it was found.
      for (const [name, hash] of before.damaged) {
        const archive = path.join(backupsFolder, ID, `${covering}.zip`);
        const hashes = spawnSync('python3', ['-c', 'import hashlib, sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nfor n in z.namelist():\n    print(n, hashlib.sha256(z.read(n)).hexdigest())', archive], { encoding: 'utf8' });
        assert.equal(hashes.status, 0, hashes.stderr);
        assert.ok(hashes.stdout.split('\n').some((line) => line.startsWith('damaged/') && line.endsWith(` ${hash}`)), `delete --delete-data removed the damaged ${name}, and ${covering} does not keep its file as found:\n${hashes.stdout}`);
        count('damaged, deleted and kept as found');
      }
      await checkAsNew(covering);
      count('deleted');
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal || (refusal.code !== 'NEEDS_BACKUP' && live.size === 0)) throw error;
      assert.deepEqual(await heldNow(root, shape, damaged), before, `a refused delete (${refusal.code}) changed the profile`);
      log.push(`delete (${commands.how}) refused: ${refusal.message}`);
      count(`delete refused, ${refusal.code}`);
    }
  } finally {
    await application.stop();
  }
}
