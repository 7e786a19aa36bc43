import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { backUpAllProfiles } from '../src/core/backup/allProfilesBackup';
import { createBackup } from '../src/core/backup/backupCreation';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { verifyBackup } from '../src/core/backup/backupVerification';
import { isEnvProfilesError } from '../src/core/errors';
import { runCli } from './support/cliRunner';
import { demoWorkspace, engine, REPO_ROOT, tempDir } from './support/workspaces';

const DEV = 'dev_environment_001';

/** What a message shows when code met a value of a kind it did not expect: a bug, not an answer. */
const CODE_SPEAKING = /Cannot read properties|is not a function|is not iterable|Invalid time value|\[object Object\]|\bundefined\b|\bNaN\b|must be of type/;

interface Variant {
  file: string;
  field: string;
  value: unknown;
}

function variantsOf(archive: string): Variant[] {
  const dir = tempDir('manifest-variants-');
  const run = spawnSync('python3', [path.join(REPO_ROOT, 'test/support/manifestVariants.py'), archive, dir], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Variant);
}

/** Why an outcome (a result's problems, or what was thrown) is not a typed answer, or undefined when it is. */
function untypedAnswer(outcome: { problems?: string[] } | unknown, thrown: boolean): string | undefined {
  if (thrown) {
    if (!isEnvProfilesError(outcome)) return `threw ${String(outcome)}`;
    return CODE_SPEAKING.test(outcome.message) ? `said: ${outcome.message}` : undefined;
  }
  const problems = (outcome as { problems?: string[] }).problems ?? [];
  return problems.find((p) => CODE_SPEAKING.test(p));
}

describe('manifests with a field of another kind, every field in turn', () => {
  // Each field of a real manifest (one record of each role standing for the others) is replaced by
  // null, a negative number, a fraction, text, a list, an object, or removed: verify and a restore's
  // dry run must each give a typed answer (sound, damaged, hostile), never fail as code does. Found
  // this way: a restore failed as "a bug" on a createdAt that was not text, verify on a record without
  // its page index's SHA-256, and messages showed [object Object] and undefined.
  const kinds = { full: 'a full backup', incremental: 'an incremental backup', emergency: 'an emergency backup that kept a damaged database\'s files as found (raw copies)' };
  for (const [kind, described] of Object.entries(kinds)) {
    it(`of ${described}: verify and restore --dry-run answer each one as a backup tool does`, async function () {
      this.timeout(600_000);
      const { root, context } = await demoWorkspace();
      const full = await createBackup(context, { profileId: DEV, kind: 'full' });
      const connection = (await engine()).open(path.join(root, 'data/dev/market_data.sqlite3'), { readOnly: false });
      connection.exec('UPDATE price_data SET close = close + 1 WHERE rowid % 10 = 0');
      connection.close();
      if (kind === 'emergency') {
        const strategies = path.join(root, 'data/dev/strategies.sqlite3');
        fs.writeFileSync(strategies, Buffer.concat([Buffer.from('not a database!!'), fs.readFileSync(strategies).subarray(16)]));
        fs.writeFileSync(`${strategies}-wal`, 'a -wal that holds something');
      }
      const backup = kind === 'full' ? full : kind === 'incremental' ? await createBackup(context, { profileId: DEV, kind: 'incremental' }) : (await backUpAllProfiles(context, 'auto', 'emergency')).results.find((r) => r.entry.profileId === DEV);
      assert.ok(backup);
      if (kind === 'emergency') assert.equal(JSON.parse(spawnSync('unzip', ['-p', backup.archive, 'manifest.json'], { encoding: 'utf8' }).stdout).leftOut[0].rawCopies.length, 2);
      const variants = variantsOf(backup.archive);
      assert.ok(variants.length > 200, `${variants.length} variants`);
      const untyped: string[] = [];
      for (const variant of variants) {
        for (const [what, run] of [
          ['verify', () => verifyBackup(context, variant.file)],
          ['restore --dry-run', () => restoreBackup(context, { reference: variant.file, asNew: 'from_variant', dryRun: true })],
        ] as const) {
          let problem: string | undefined;
          try {
            problem = untypedAnswer(await run(), false);
          } catch (error) {
            problem = untypedAnswer(error, true);
          }
          if (problem) untyped.push(`${what}, ${variant.field} = ${JSON.stringify(variant.value)}: ${problem}`);
        }
        fs.rmSync(variant.file);
      }
      assert.deepEqual(untyped, [], `${untyped.length} of ${variants.length * 2} answers were not typed:\n${untyped.slice(0, 20).join('\n')}`);
      assert.equal(fs.existsSync(path.join(root, 'data/from_variant')), false, 'a dry run writes nothing');
    });
  }
});

/** Every path to a value inside `value` (objects and lists), outermost first. */
function fieldPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => {
    const at = [...prefix, Array.isArray(value) ? Number(key) : key];
    return [at, ...fieldPaths(inner, at)];
  });
}

describe('a catalog entry with a field of another kind, every field in turn', () => {
  // Catalogs are the file people edit and merge by hand. Each field of a verified entry is replaced by
  // null, text, an object, or removed: listing, prune's and delete's dry runs and the next backup must
  // each give a typed answer. Found this way: a time that was not one made the first three fail as "a
  // bug", and an entry without its profile id the backup.
  it('backups, prune --dry-run, delete --dry-run and backup answer each one as a backup tool does', async function () {
    this.timeout(600_000);
    const { root, context } = await demoWorkspace();
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    await verifyBackup(context, backup.entry.id);
    const catalogFile = path.join(root, '.envprofiles/backups', DEV, 'catalog.json');
    const original = JSON.parse(fs.readFileSync(catalogFile, 'utf8'));
    const untyped: string[] = [];
    let answers = 0;
    for (const at of fieldPaths(original.backups[0]).map((p) => ['backups', 0, ...p])) {
      for (const value of [null, 'x', {}, undefined]) {
        const catalog = structuredClone(original);
        const holder = at.slice(0, -1).reduce((inner: any, key) => inner[key], catalog);
        if (value === undefined) delete holder[at[at.length - 1]];
        else holder[at[at.length - 1]] = value;
        fs.writeFileSync(catalogFile, JSON.stringify(catalog));
        for (const args of [['backups', DEV], ['prune', DEV, '--dry-run'], ['delete', DEV, '--dry-run'], ['backup', DEV]]) {
          const run = runCli([...args, '--workspace', root]);
          // Only the first backup's archive stays: each variant starts from the same folder.
          for (const name of fs.readdirSync(path.dirname(catalogFile))) if (name.endsWith('.zip') && !name.startsWith(backup.entry.id)) fs.rmSync(path.join(path.dirname(catalogFile), name));
          answers++;
          const said = `${run.stdout}${run.stderr}`;
          if (![0, 1, 3].includes(run.status ?? -1) || CODE_SPEAKING.test(said) || /a bug/.test(said)) untyped.push(`${args[0]}, ${at.join('/')} = ${JSON.stringify(value) ?? 'removed'}: exit ${run.status}: ${said.slice(0, 300)}`);
        }
      }
    }
    assert.ok(answers > 150, `${answers} answers`);
    assert.deepEqual(untyped, [], `${untyped.length} of ${answers} answers were not typed:\n${untyped.slice(0, 20).join('\n')}`);
  });
});
