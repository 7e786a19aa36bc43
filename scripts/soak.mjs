// npm run soak [-- MINUTES]: a randomised soak of the CLI against a live application, beside the
// deterministic tests (which kill every step of a backup and a restore once). On a fresh demo
// workspace, an application (soakWriter.mjs) commits transfers into the production database without
// a pause, while random commands run one after another, half of them sent a SIGKILL after a random
// 0-500 ms (SOAK_KILL_MS; unless they finished sooner): backups (full, incremental, of every profile), verifications, restores as a new
// profile (half of them then backed up and deleted with their data, that delete killed half the time),
// prunes (production keeps its last 4), and backups and restores over the development profile, whose
// databases a reader (soakGlancer.mjs) opens for a moment again and again, as VS Code's tree does.
// It checks after every command that every listed backup has its archive; after every restore
// (finished, or killed and then finished or rolled back by the next command), that it left the old
// state or the new one and never a mix (a new profile complete, or none of its files), and that every
// database stayed sound; every 15 rounds, and at the end, that every
// backup verifies; at the end, that no temporary file is left and that the application's balances
// still sum up and none of its commits failed. Exits 1, listing what went wrong, if anything did.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { damageRandomEntry } from './soakDamage.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const CLI = path.join(ROOT, 'dist/cli.js');
const minutes = Number(process.argv[2] ?? 5);
// Larger databases make the commands run longer, so that kills land inside snapshots, archiving and
// swaps rather than mostly in Node's start; the kill window should then grow with them.
const paddingMb = Number(process.env.SOAK_PADDING_MB ?? 0);
const killWindowMs = Number(process.env.SOAK_KILL_MS ?? 500);
// SOAK_DAMAGE=1: now and then a bit of a production archive is flipped, as a failing disk would; the
// backups whose chains hold it must then fail verification, and the others pass, and prune must keep
// one that restores (see damageMode below).
const damageMode = process.env.SOAK_DAMAGE === '1';
if (!(minutes > 0) || !(paddingMb >= 0) || !(killWindowMs > 0)) {
  console.error('usage: [SOAK_PADDING_MB=N] [SOAK_KILL_MS=N] [SOAK_DAMAGE=1] npm run soak -- [MINUTES] (MINUTES > 0, default 5; SOAK_PADDING_MB of random rows added to each market_data database, default 0; SOAK_KILL_MS, the window in which half the commands are killed, default 500; SOAK_DAMAGE=1 flips a bit of a production archive now and then and checks that verify and prune see it)');
  process.exit(2);
}
const PROD = 'prod_environment_001';
const DEV = 'dev_environment_001';
const soakDir = fs.mkdtempSync(path.join(os.tmpdir(), 'envprofiles-soak-'));
// /dev/shm is shared with every other workspace of the machine: what was there before the soak is not its own.
const inShmBefore = new Set(fs.existsSync('/dev/shm') ? fs.readdirSync('/dev/shm', { recursive: true }).map(String) : []);
const ws = path.join(soakDir, 'workspace');

/** Runs the CLI on the soak's workspace; `killAfterMs` kills it with SIGKILL then, if it still runs. */
function cli(args, killAfterMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args, '--workspace', ws, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, killed: signal === 'SIGKILL', stdout, stderr });
    });
  });
}

/** What a command said about its failure: stderr, or (with --json, for a verification that found damage) its JSON. */
const said = (run, limit = 500) => (run.stderr.trim() || run.stdout.trim()).slice(0, limit);

function withDatabase(file, use, readOnly = true) {
  const db = new DatabaseSync(file, { readOnly, timeout: 5000 });
  try {
    return use(db);
  } finally {
    db.close();
  }
}

/** Runs `sql` on a database, to write the soak's own marks: the generation, the padding. */
const execute = (file, sql) => withDatabase(file, (db) => db.exec(sql), false);

const devDatabase = (name) => path.join(ws, `data/dev/${name}.sqlite3`);
const prodMarketData = path.join(ws, 'data/prod/market_data.sqlite3');

/** The development profile's generation: a number the soak writes before each of its backups, to tell one state from another. */
function setGeneration(generation) {
  execute(devDatabase('market_data'), `CREATE TABLE IF NOT EXISTS soak_generation (g INTEGER); DELETE FROM soak_generation; INSERT INTO soak_generation VALUES (${generation})`);
}
const generation = () => withDatabase(devDatabase('market_data'), (db) => db.prepare('SELECT g FROM soak_generation').get()?.g);

/** What integrity_check says of each database of the development profile that is not "ok". */
function devDamage() {
  const damage = [];
  for (const name of ['settings', 'strategies', 'market_data']) {
    const result = withDatabase(devDatabase(name), (db) => Object.values(db.prepare('PRAGMA integrity_check').get())[0]);
    if (result !== 'ok') damage.push(`${name}: ${result}`);
  }
  return damage;
}

/** Adds `megabytes` of rows of 1 KiB of random bytes (which do not compress) to a database. */
function pad(file, megabytes) {
  execute(file, `CREATE TABLE soak_padding (id INTEGER PRIMARY KEY, blob BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${Math.round(megabytes * 1024)}) INSERT INTO soak_padding (blob) SELECT randomblob(1024) FROM n`);
}

/** The accounts' balances: their sum must stay 100 per account. */
const balances = (file) => withDatabase(file, (db) => db.prepare('SELECT coalesce(sum(balance), 0) AS sum, count(*) AS accounts FROM accounts').get());

async function main() {
  const demo = spawn(process.execPath, [path.join(ROOT, 'dist/demo.js'), ws, '--quiet'], { stdio: 'inherit' });
  if ((await new Promise((resolve) => demo.on('close', resolve))) !== 0) throw new Error('the demo workspace could not be written');
  const prodFile = path.join(ws, '.envprofiles/profiles', `${PROD}.yaml`);
  const prodYaml = fs.readFileSync(prodFile, 'utf8');
  if (!prodYaml.includes('    retention_days: 30\n')) throw new Error(`${prodFile} has no "retention_days: 30" line to replace`);
  fs.writeFileSync(prodFile, prodYaml.replace('    retention_days: 30\n', '    keep: {last: 4}\n'));
  setGeneration(0);
  if (paddingMb > 0) for (const file of [devDatabase('market_data'), prodMarketData]) pad(file, paddingMb);
  console.log(`soak of ${minutes} minute(s) in ${ws}${paddingMb > 0 ? ` (market_data databases padded with ${paddingMb} MB)` : ''}, half the commands killed within ${killWindowMs} ms`);

  const deadline = Date.now() + minutes * 60_000;
  const writer = spawn(process.execPath, [path.join(ROOT, 'scripts/soakWriter.mjs'), prodMarketData, String(minutes * 60)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let writerOutput = '';
  writer.stdout.on('data', (d) => (writerOutput += d));
  const writerDone = new Promise((resolve) => writer.on('close', resolve));
  // As VS Code's tree with the development profile expanded: it opens its databases for a moment.
  const glancer = spawn(process.execPath, [path.join(ROOT, 'scripts/soakGlancer.mjs'), String(minutes * 60), ...['settings', 'strategies', 'market_data'].map(devDatabase)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let glancerOutput = '';
  glancer.stdout.on('data', (d) => (glancerOutput += d));
  const glancerDone = new Promise((resolve) => glancer.on('close', resolve));
  // Every backup must hold the accounts, so the first command waits for the application to make them.
  while (!withDatabase(prodMarketData, (db) => db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'accounts'").get())) await new Promise((resolve) => setTimeout(resolve, 50));

  const problems = [];
  const outcomes = {};
  const devGenerations = new Map();
  let rounds = 0;
  const ops = ['full', 'incremental', 'incremental', 'all', 'verify', 'restore-as-new', 'prune', 'prune-dry-run', 'dev-backup', 'dev-backup', 'dev-restore', 'dev-restore', ...(damageMode ? ['damage'] : [])];
  // The production backups whose archives the soak damaged, and what a command said of them when it failed because of that.
  const damaged = new Set();
  const failedOnDamage = [];
  /** Whether a listed backup's chain (itself and what it builds on) holds an archive the soak damaged. */
  const onDamage = (backup) => [backup.id, ...backup.chain].some((id) => damaged.has(id));
  const listProduction = async () => JSON.parse((await cli(['backups', PROD])).stdout).result;
  /** Checks verify's results against the damage: every backup on a damaged archive fails, every other one passes. */
  const checkVerifications = (when, results, errors, listed) => {
    const byId = new Map(listed.map((b) => [b.id, b]));
    for (const r of results) {
      const backup = byId.get(r.backupId);
      if (!backup) continue;
      if (r.ok && onDamage(backup)) problems.push(`${when}: ${r.backupId} passed verification, but its chain holds an archive the soak damaged (${[backup.id, ...backup.chain].filter((id) => damaged.has(id)).join(', ')})`);
      if (!r.ok && !onDamage(backup)) problems.push(`${when}: ${r.backupId} FAILED verification, but nothing in its chain was damaged: ${r.problems[0]}`);
    }
    for (const e of errors) {
      const backup = byId.get(e.backupId);
      if (backup && !onDamage(backup)) problems.push(`${when}: ${e.backupId} could not be verified, and nothing in its chain was damaged: ${e.message}`);
    }
  };
  while (Date.now() < deadline) {
    rounds++;
    const { directory, backups } = await listProduction();
    for (const b of backups) if (!fs.existsSync(path.join(directory, PROD, b.file))) problems.push(`round ${rounds}: ${b.id} is listed but its archive is gone`);
    const op = ops[Math.floor(Math.random() * ops.length)];
    if (op === 'damage') {
      const victim = backups[Math.floor(Math.random() * backups.length)];
      if (!victim) continue;
      const entry = await damageRandomEntry(path.join(directory, PROD, victim.file));
      damaged.add(victim.id);
      outcomes.damage = (outcomes.damage ?? 0) + 1;
      console.log(`${new Date().toISOString().slice(11, 19)} round ${rounds}: damaged ${entry} of ${victim.id}`);
      continue;
    }
    const killAfter = Math.random() < 0.5 ? Math.floor(Math.random() * killWindowMs) : undefined;
    const anyBackup = backups.length > 0 ? backups[Math.floor(Math.random() * backups.length)].id : undefined;
    const devIds = [...devGenerations.keys()];
    const devBackup = devIds[Math.floor(Math.random() * devIds.length)];
    if ((op === 'verify' || op === 'restore-as-new') && !anyBackup) continue;
    if (op === 'dev-restore' && !devBackup) continue;
    const asNew = `soak_${rounds}`;
    // Only a restore over the development profile is judged by it.
    const generationBefore = op === 'dev-restore' ? generation() : undefined;
    if (op === 'dev-backup') setGeneration(rounds);
    const args = {
      full: ['backup', PROD, '--full'],
      incremental: ['backup', PROD, '--incremental'],
      all: ['backup', '--all', '--reason', 'emergency'],
      verify: ['verify', anyBackup],
      'restore-as-new': ['restore', anyBackup, '--as-new', asNew],
      prune: ['prune', PROD],
      'prune-dry-run': ['prune', PROD, '--dry-run'],
      'dev-backup': ['backup', DEV],
      'dev-restore': ['restore', devBackup],
    }[op];
    const run = await cli(args, killAfter);
    const outcome = `${op} ${run.killed ? 'killed' : `exit ${run.code}`}`;
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    // With damage, a command on a damaged chain fails (and says why); so may one that meets damage on its way (a backup building on it, a prune verifying).
    const onDamaged = damageMode && damaged.size > 0 && (op === 'verify' || op === 'restore-as-new' ? onDamage(backups.find((b) => b.id === anyBackup)) : op !== 'dev-backup' && op !== 'dev-restore');
    if (!run.killed && run.code !== 0) {
      if (onDamaged) failedOnDamage.push(`round ${rounds}: ${args.join(' ')} exited ${run.code}: ${said(run, 300)}`);
      else problems.push(`round ${rounds}: ${args.join(' ')} exited ${run.code}: ${said(run)}`);
    }
    if (damageMode && op === 'verify' && !run.killed && run.code === 0) checkVerifications(`round ${rounds}`, [JSON.parse(run.stdout).result], [], backups);
    // Prune must keep a backup that restores when there was one (a verified one damaged since is verified again first).
    if (damageMode && op === 'prune' && !run.killed && run.code === 0 && backups.some((b) => !onDamage(b))) {
      const after = (await listProduction()).backups;
      if (!after.some((b) => !onDamage(b))) problems.push(`round ${rounds}: prune left no backup of ${PROD} that restores (every one left is on a damaged archive: ${after.map((b) => b.id).join(', ')})`);
    }
    if (op === 'dev-backup' && !run.killed && run.code === 0) devGenerations.set(JSON.parse(run.stdout).result.id, rounds);
    // The next command finishes or rolls back a killed restore.
    if (op === 'restore-as-new' || op === 'dev-restore') {
      const status = await cli(['status']);
      if (status.code !== 0) problems.push(`round ${rounds}: status after a restore exited ${status.code}: ${said(status)}`);
    }
    if (op === 'restore-as-new') {
      const profileFile = path.join(ws, '.envprofiles/profiles', `${asNew}.yaml`);
      const dataFolder = path.join(ws, `data/${asNew}`);
      if (fs.existsSync(profileFile)) {
        const restored = balances(path.join(dataFolder, 'market_data.sqlite3'));
        if (restored.sum !== 100 * restored.accounts) problems.push(`round ${rounds}: the restored copy of ${anyBackup} has balances summing to ${restored.sum} over ${restored.accounts} accounts`);
      } else if (!run.killed && run.code === 0) {
        problems.push(`round ${rounds}: the restore of ${anyBackup} as ${asNew} finished, but the profile is not there`);
      } else if (fs.existsSync(dataFolder) && fs.readdirSync(dataFolder).length > 0) {
        problems.push(`round ${rounds}: the killed restore of ${anyBackup} as ${asNew} was rolled back, but left ${fs.readdirSync(dataFolder).join(', ')} in ${dataFolder}`);
      }
      if (fs.existsSync(profileFile) && Math.random() < 0.5) await deleteWithItsData(asNew, profileFile, dataFolder);
      // The soak's own clean-up (a new profile cannot be deleted without a verified backup of it).
      fs.rmSync(dataFolder, { recursive: true, force: true });
      fs.rmSync(profileFile, { force: true });
    }
    /**
     * Backs the restored profile up, verified, and deletes it with its data, half the time killed after
     * a random moment: then the next command must leave all of it (the profile file and every database,
     * sound) or none of it.
     */
    async function deleteWithItsData(id, profileFile, dataFolder) {
      const backedUp = await cli(['backup', id, '--full', '--verify']);
      if (backedUp.code !== 0) return void problems.push(`round ${rounds}: backup ${id} --full --verify exited ${backedUp.code}: ${said(backedUp)}`);
      const killAfter = Math.random() < 0.5 ? Math.floor(Math.random() * killWindowMs) : undefined;
      // Restored from production's backups, it is a PRODUCTION profile: the delete names it to confirm.
      const deleted = await cli(['delete', id, '--delete-data', '--confirm', id], killAfter);
      const outcome = `delete --delete-data ${deleted.killed ? 'killed' : `exit ${deleted.code}`}`;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (!deleted.killed && deleted.code !== 0) problems.push(`round ${rounds}: delete ${id} --delete-data exited ${deleted.code}: ${said(deleted)}`);
      const status = await cli(['status']);
      if (status.code !== 0) problems.push(`round ${rounds}: status after a delete exited ${status.code}: ${said(status)}`);
      const databases = ['settings', 'strategies', 'market_data'].filter((name) => fs.existsSync(path.join(dataFolder, `${name}.sqlite3`)));
      const left = fs.existsSync(dataFolder) ? fs.readdirSync(dataFolder) : [];
      if (fs.existsSync(profileFile)) {
        if (!deleted.killed && deleted.code === 0) problems.push(`round ${rounds}: delete ${id} --delete-data finished, but its profile file is there`);
        if (databases.length !== 3) problems.push(`round ${rounds}: the killed delete of ${id} was rolled back, but only ${databases.join(', ') || 'none'} of its databases are there (${left.join(', ')})`);
        else {
          const kept = balances(path.join(dataFolder, 'market_data.sqlite3'));
          if (kept.sum !== 100 * kept.accounts) problems.push(`round ${rounds}: the killed delete of ${id} was rolled back, but its balances sum to ${kept.sum} over ${kept.accounts} accounts`);
        }
      } else if (left.length > 0) {
        problems.push(`round ${rounds}: ${id} was deleted${deleted.killed ? ' (killed, then finished)' : ''}, but ${left.join(', ')} ${left.length === 1 ? 'is' : 'are'} left in ${dataFolder}`);
      }
    }
    if (op === 'dev-restore') {
      const now = generation();
      const restoredGeneration = devGenerations.get(devBackup);
      const expected = run.killed ? [generationBefore, restoredGeneration] : [restoredGeneration];
      if (!expected.includes(now)) problems.push(`round ${rounds}: after a restore of ${devBackup} (generation ${restoredGeneration}, ${run.killed ? 'killed' : 'finished'}) over generation ${generationBefore}, the development data is of generation ${now}`);
      for (const damage of devDamage()) problems.push(`round ${rounds}: after a restore of ${devBackup}: ${damage}`);
    }
    if (rounds % 15 === 0) {
      const verified = await cli(['verify', '--all']);
      await judgeVerifyAll(`round ${rounds}`, verified);
      console.log(`${new Date().toISOString().slice(11, 19)} round ${rounds}: ${backups.length} production backups listed, ${problems.length} problem(s)`);
    }
  }

  /** verify --all passes; with damage, exactly the backups on damaged archives fail (of production: the others are never damaged). */
  async function judgeVerifyAll(when, verified) {
    if (!damageMode || damaged.size === 0) {
      if (verified.code !== 0) problems.push(`${when} exited ${verified.code}: ${said(verified, 800)}`);
      return;
    }
    const listed = (await listProduction()).backups;
    for (const profile of JSON.parse(verified.stdout).result.profiles) {
      if (profile.profileId === PROD) checkVerifications(when, profile.results, profile.errors, listed);
      else if (profile.errors.length > 0 || profile.results.some((r) => !r.ok)) problems.push(`${when}: a backup of ${profile.profileId}, which the soak never damages, FAILED: ${said(verified, 800)}`);
    }
  }

  await writerDone;
  await glancerDone;
  const writerResult = JSON.parse(writerOutput);
  const { glances } = JSON.parse(glancerOutput);
  const last = await cli(['backup', '--all', '--reason', 'soak-end']);
  if (last.code !== 0) problems.push(`the last backup --all exited ${last.code}: ${said(last)}`);
  // Snapshots are staged in /dev/shm under the profile's id; everything else stays in the workspace.
  const leftBehind = (folder, ours) => fs.readdirSync(folder, { recursive: true }).map(String).filter((name) => name.includes('.envprofiles-tmp-') && ours(name));
  for (const name of leftBehind(ws, () => true)) problems.push(`left behind: ${path.join(ws, name)}`);
  for (const name of leftBehind('/dev/shm', (n) => /^(prod|dev|test)_environment_001|^soak_/.test(n) && !inShmBefore.has(n))) problems.push(`left behind: /dev/shm/${name}`);
  const verified = await cli(['verify', '--all']);
  await judgeVerifyAll('the last verify --all', verified);
  const live = balances(prodMarketData);
  if (live.sum !== 100 * live.accounts) problems.push(`the application's balances sum to ${live.sum} over ${live.accounts} accounts`);
  if (writerResult.failed > 0) problems.push(`${writerResult.failed} of the application's transactions failed: ${writerResult.failures.join('; ')}`);

  console.log(`\n${rounds} rounds; the application committed ${writerResult.commits} transactions meanwhile (${writerResult.failed} failed); a reader glanced into a development database ${glances} times.`);
  for (const [outcome, count] of Object.entries(outcomes).sort()) console.log(`  ${outcome}: ${count}`);
  if (failedOnDamage.length > 0) console.log(`Commands that failed on damaged archives (${failedOnDamage.length}; each should say which archive and what to do):`, ...failedOnDamage.slice(0, 8).map((f) => `\n  ${f}`));
  if (problems.length === 0) {
    console.log('No problem found.');
    fs.rmSync(soakDir, { recursive: true, force: true });
    return 0;
  }
  console.log(`\n${problems.length} problem(s) (the workspace is kept: ${ws}):`);
  for (const problem of problems) console.log(`- ${problem}`);
  return 1;
}

process.exitCode = await main();
