import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CatalogEntry } from '../src/core/backup/backupCatalog';
import { createBackup } from '../src/core/backup/backupCreation';
import { pruneBackups } from '../src/core/backup/backupPruning';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { verifyBackup } from '../src/core/backup/backupVerification';
import { EnvProfilesError } from '../src/core/errors';
import { deleteProfile } from '../src/core/profileDeletion';
import { createWorkspaceContext, type WorkspaceContext } from '../src/core/workspaceContext';
import { runCli } from './support/cliRunner';
import { seeded } from './support/testHelpers';
import { demoWorkspace, engine, pastLastWrite, tempDir } from './support/workspaces';

const RUNS = Number(process.env.ENVPROFILES_CATALOG_LIE_RUNS ?? 40);
const SEED = Number(process.env.ENVPROFILES_CATALOG_LIE_SEED ?? 20261206);
const DEV = 'dev_environment_001';
const DATABASES = ['settings', 'strategies', 'market_data'];

/** Every row of every table of the profile's databases in `dir`, as text: the data, whatever the pages. */
async function contentOf(dir: string): Promise<string> {
  const sqlite = await engine();
  const tables: Record<string, unknown> = {};
  for (const name of DATABASES) {
    const connection = sqlite.open(path.join(dir, `${name}.sqlite3`), { readOnly: true });
    try {
      for (const { name: table } of connection.all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
        tables[`${name}.${String(table)}`] = connection.all(`SELECT * FROM "${String(table)}" ORDER BY rowid`);
      }
    } finally {
      connection.close();
    }
  }
  return JSON.stringify(tables);
}

function changeData(root: string, sql: string): Promise<void> {
  return engine().then((sqlite) => {
    const connection = sqlite.open(path.join(root, 'data/dev/market_data.sqlite3'), { readOnly: false });
    connection.exec(sql);
    connection.close();
  });
}

/** One value of a catalog entry replaced by a plausible one of the same kind (another entry's, or one a little off); says how. */
function lieAbout(entries: CatalogEntry[], random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const entry = pick(entries) as CatalogEntry & Record<string, unknown>;
  const other = pick(entries.filter((e) => e !== entry)) as CatalogEntry & Record<string, unknown>;
  const field = pick(['createdAt', 'createdAt', 'kind', 'parent', 'chain', 'sizeBytes', 'sha256', 'databases', 'databases', 'leftOut', 'keptAsFound', 'verified', 'verified', 'verified', 'reason', 'profileCreatedAt'] as const);
  const was = JSON.stringify(entry[field]);
  switch (field) {
    case 'createdAt':
      entry.createdAt = random() < 0.5 ? other.createdAt : new Date(Date.parse(entry.createdAt) + pick([-86_400_000, -5000, 5000, 60_000, 86_400_000])).toISOString();
      break;
    case 'kind':
      entry.kind = entry.kind === 'full' ? 'incremental' : 'full';
      break;
    case 'parent':
      entry.parent = random() < 0.3 ? null : other.id;
      break;
    case 'chain':
      entry.chain = random() < 0.5 ? [...other.chain] : entry.chain.length > 0 ? entry.chain.slice(1) : [other.id];
      break;
    case 'sizeBytes':
      entry.sizeBytes = random() < 0.5 ? other.sizeBytes : entry.sizeBytes + pick([-1, 1]);
      break;
    case 'sha256':
      entry.sha256 = other.sha256;
      break;
    case 'databases':
      entry.databases = random() < 0.5 ? entry.databases.slice(1) : [...entry.databases, pick(DATABASES)];
      break;
    case 'leftOut':
      entry.leftOut = entry.leftOut?.length ? [] : [pick(DATABASES)];
      break;
    case 'keptAsFound':
      entry.keptAsFound = [pick(DATABASES)];
      break;
    case 'verified':
      entry.verified = entry.verified === null
        ? { at: entry.createdAt, ok: true, detail: 'sound' }
        : random() < 0.5 ? null : { ...entry.verified, ok: !entry.verified.ok, ...(random() < 0.5 ? { archiveSound: !entry.verified.ok } : {}) };
      break;
    case 'reason':
      entry.reason = pick(['manual', 'emergency', 'before-restore', 'scheduled']);
      break;
    case 'profileCreatedAt':
      entry.profileCreatedAt = new Date(Date.now() - 3_600_000).toISOString();
      break;
  }
  return `${entry.id}: ${field} ${was} -> ${JSON.stringify(entry[field])}`;
}

/**
 * The workspace the lies are told in: the development profile keeps its last backup, and has a
 * verified full, a verified incremental on it, a verified full and an unverified incremental on that,
 * then a change that no backup holds.
 */
async function historyOfBackups(): Promise<{ root: string; context: WorkspaceContext; ids: string[]; newestVerified: string; chains: Map<string, string[]> }> {
  const { root, context } = await demoWorkspace();
  const profileFile = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
  fs.writeFileSync(profileFile, fs.readFileSync(profileFile, 'utf8').replace('    retention_days: 30\n', '    keep:\n      last: 1\n'));
  const ids: string[] = [];
  const chains = new Map<string, string[]>();
  for (const [kind, verify] of [['full', true], ['incremental', true], ['full', true], ['incremental', false]] as const) {
    await pastLastWrite();
    await changeData(root, `UPDATE price_data SET close = close + ${ids.length + 1} WHERE rowid % 3 = 0`);
    await pastLastWrite();
    const backup = await createBackup(context, { profileId: DEV, kind });
    if (verify) assert.equal((await verifyBackup(context, backup.entry.id)).ok, true);
    ids.push(backup.entry.id);
    chains.set(backup.entry.id, backup.entry.chain);
  }
  await pastLastWrite();
  await changeData(root, 'UPDATE price_data SET close = close - 1 WHERE rowid % 5 = 0');
  return { root, context, ids, newestVerified: ids[2], chains };
}

describe('catalogs that lie plausibly, at random (seeded: ENVPROFILES_CATALOG_LIE_SEED, ENVPROFILES_CATALOG_LIE_RUNS)', () => {
  it(`a catalog entry with a value of the right kind but false: listing and dry runs answer or refuse with a typed error; delete never removes data that no backup holds; prune keeps the newest backup, the newest verified one and what they build on, or deletes nothing; the newest backup restores to exactly its data, or is refused with a typed error; a new backup still saves the data exactly (${RUNS} catalogs)`, async function () {
    this.timeout(900_000);
    const { root, ids, newestVerified, chains } = await historyOfBackups();
    const sqlite = await engine();
    const now = await contentOf(path.join(root, 'data/dev'));
    await restoreBackup(createWorkspaceContext(root, sqlite), { reference: ids[3], asNew: 'reference' });
    const newest = await contentOf(path.join(root, 'data/reference'));
    const random = seeded(SEED);
    const failures: string[] = [];
    const outcomes = { deleteRefused: 0, pruneRefused: 0, pruned: 0, restoreRefused: 0 };
    for (let run = 0; run < RUNS; run++) {
      const copy = tempDir('lying-catalog-');
      let how = '';
      try {
        fs.cpSync(root, copy, { recursive: true });
        const catalogFile = path.join(copy, '.envprofiles/backups', DEV, 'catalog.json');
        // The copy's backups were made in it (their origin names the workspace), then one or two lies.
        const catalog = JSON.parse(fs.readFileSync(catalogFile, 'utf8').split(JSON.stringify(root).slice(1, -1)).join(JSON.stringify(copy).slice(1, -1))) as { backups: CatalogEntry[] };
        const lies = [lieAbout(catalog.backups, random), ...(random() < 0.3 ? [lieAbout(catalog.backups, random)] : [])];
        how = lies.join('; ');
        fs.writeFileSync(catalogFile, JSON.stringify(catalog));
        const context = createWorkspaceContext(copy, sqlite);

        // What people read: an answer, or a typed error that says what to do; never a stack trace.
        for (const args of [['backups', DEV], ['prune', DEV, '--dry-run'], ['delete', DEV, '--dry-run'], ['restore', ids[3], '--dry-run']]) {
          const run = runCli([...args, '--workspace', copy]);
          assert.ok([0, 1, 3].includes(run.status ?? -1), `${args.join(' ')} exited ${run.status}: ${run.stderr}`);
          // A dry run that would be refused says so in its plan, on stdout, with exit 3.
          if (run.stderr) assert.match(run.stderr, /^(error|warning)\[[A-Z_]+\]: /, `${args.join(' ')}: ${run.stderr}`);
          assert.doesNotMatch(run.stderr, /\n\s+at /, `${args.join(' ')} printed a stack trace`);
        }

        // The data changed after every backup: no lie may let delete remove it.
        const deleted = await deleteProfile(context, { id: DEV, deleteData: true }).then(() => undefined, (error: unknown) => error);
        assert.ok(deleted !== undefined, 'delete --delete-data removed data that no backup holds');
        assert.ok(deleted instanceof EnvProfilesError, `delete threw an untyped error: ${(deleted as Error).stack}`);
        assert.equal(await contentOf(path.join(copy, 'data/dev')), now, 'a refused delete changed the data');
        outcomes.deleteRefused++;

        // Prune keeps the newest verified backup and the backups it builds on (by their archives), or refuses.
        const archive = (id: string): string => path.join(copy, '.envprofiles/backups', DEV, `${id}.zip`);
        const pruned = await pruneBackups(context, DEV, false).then(() => undefined, (error: unknown) => error);
        if (pruned === undefined) outcomes.pruned++;
        else {
          assert.ok(pruned instanceof EnvProfilesError, `prune threw an untyped error: ${(pruned as Error).stack}`);
          assert.deepEqual(ids.filter((id) => !fs.existsSync(archive(id))), [], 'a refused prune deleted an archive');
          outcomes.pruneRefused++;
        }
        for (const id of [ids[3], ...(chains.get(ids[3]) ?? []), newestVerified, ...(chains.get(newestVerified) ?? [])]) assert.ok(fs.existsSync(archive(id)), `prune deleted ${id}, the newest backup, the newest verified one, or one they build on`);
        for (const id of ids.filter((id) => fs.existsSync(archive(id)))) {
          for (const needed of chains.get(id) ?? []) assert.ok(fs.existsSync(archive(needed)), `prune kept ${id} but deleted ${needed}, which it builds on`);
        }

        // The newest backup, by its id, restores to exactly its data, or is refused with a typed error.
        const restored = await restoreBackup(context, { reference: ids[3], asNew: 'newest' }).then(() => undefined, (error: unknown) => error);
        if (restored === undefined) assert.equal(await contentOf(path.join(copy, 'data/newest')), newest, `${ids[3]} restored other data`);
        else {
          assert.ok(restored instanceof EnvProfilesError, `restore threw an untyped error: ${(restored as Error).stack}`);
          outcomes.restoreRefused++;
          if (process.env.SHOW_REFUSALS) console.log(`      ${how}: ${(restored as Error).message}`);
        }

        // Whatever the catalog says, a backup saves the data as it is, and restores to it. (Its verify may
        // fail: an incremental on a full whose SHA-256 the catalog misstates is judged by that record, as
        // a backup only compares its chain's sizes, and says which archive differs from the record.)
        const backup = await createBackup(context, { profileId: DEV });
        const verdict = await verifyBackup(context, backup.archive);
        if (!verdict.ok) assert.ok(verdict.problems.every((p) => p.includes("the archive's SHA-256 differs from the one the catalog recorded when it was written")), `the new ${backup.entry.kind} backup does not verify: ${JSON.stringify(verdict.problems).slice(0, 600)}`);
        await restoreBackup(context, { reference: backup.archive, asNew: 'restored' });
        assert.equal(await contentOf(path.join(copy, 'data/restored')), now, `the new ${backup.entry.kind} backup restores other data`);
      } catch (error) {
        failures.push(`catalog ${run} (seed ${SEED}), ${how}: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        fs.rmSync(copy, { recursive: true, force: true });
      }
    }
    assert.deepEqual(failures, []);
    assert.equal(outcomes.deleteRefused, RUNS, JSON.stringify(outcomes));
    console.log(`      ${RUNS} lying catalogs: prune refused ${outcomes.pruneRefused}, pruned ${outcomes.pruned}; restore refused ${outcomes.restoreRefused}`);
  });
});
