import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../src/cli/commandTable';
import { runCli } from './support/cliRunner';
import { scrambled, seeded } from './support/testHelpers';
import { demoWorkspace } from './support/workspaces';

const SEED = Number(process.env.ENVPROFILES_ARGS_SEED ?? 20261207);
const RUNS = Number(process.env.ENVPROFILES_ARGS_RUNS ?? 150);

const PROFILE_IDS = ['dev_environment_001', 'test_environment_001', 'prod_environment_001'];
/** Arguments a hurried user or a script with an unset variable gives: unknown ids, paths, odd text. */
const ODD_ARGUMENTS = ['new_profile_x', 'ab', '../etc', 'a b', 'ÜBER_1', 'x'.repeat(300), '-', '-x', 'dev_environment_001.yaml', '.envprofiles/profiles/test_environment_001.yaml', '/etc/passwd', 'x.zip', 'data', '%s%n', '$(reboot)'];
const VALUES: Record<string, readonly string[]> = {
  time: ['1h', '90m', '2d ago', '1w', '2026-12-07', '2026-12-07T10:00', '2026-13-45', 'yesterday', '10:00', '25:61', '2026-12-07T10:00:00+09:00', '0', '-1d', '1e9d'],
  db: ['settings', 'strategies', 'market_data', 'nope', '../x', 'settings,strategies'],
  set: ['log_level=INFO', 'x', '=1', 'a=', 'databases.settings=/etc/passwd', 'type=PRODUCTION'],
  type: ['DEVELOPMENT', 'TESTING', 'PRODUCTION', 'BACKUP', 'dev', 'production'],
  data: ['copy', 'schema', 'empty', 'sideways'],
  text: ['x', 'basic', 'DEVELOPMENT', 'a\nb', '"quoted"', 'ü'.repeat(50), '/etc/passwd', 'data/dev/settings.sqlite3', '0.01', '-1', 'abc'],
};
const VALUE_KIND: Record<string, keyof typeof VALUES> = { before: 'time', db: 'db', set: 'set', type: 'type', data: 'data' };

/** What no user should ever see: a stack trace, an internal error, a value printed that went wrong. */
const NOT_FOR_USERS = /\n\s+at \S+ \(|INTERNAL|a bug in Environment Profiles|\bundefined\b|\bNaN\b|\[object Object\]/;

/** The backup ids and archives the workspace has now, read from its catalogs. */
function backupsOf(root: string): { ids: string[]; archives: string[] } {
  const folder = path.join(root, '.envprofiles', 'backups');
  const ids: string[] = [];
  const archives: string[] = [];
  for (const profile of fs.existsSync(folder) ? fs.readdirSync(folder) : []) {
    const catalog = path.join(folder, profile, 'catalog.json');
    if (!fs.existsSync(catalog)) continue;
    for (const entry of (JSON.parse(fs.readFileSync(catalog, 'utf8')) as { backups: { id: string; file: string }[] }).backups) {
      ids.push(entry.id);
      archives.push(path.join(folder, profile, entry.file));
    }
  }
  return { ids, archives };
}

describe('the CLI given arguments at random (seeded: ENVPROFILES_ARGS_SEED, ENVPROFILES_ARGS_RUNS)', () => {
  it(`answers every command line with an exit code of its table, a typed message and no stack trace, and --json with one JSON document (${RUNS} command lines)`, async function () {
    this.timeout(0);
    const random = seeded(scrambled(SEED));
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    let root = (await demoWorkspace()).root;
    const statuses = new Map<number, number>();
    for (let run = 0; run < RUNS; run++) {
      if (run > 0 && run % 50 === 0) root = (await demoWorkspace()).root;
      const command = pick(COMMANDS);
      const { ids, archives } = backupsOf(root);
      const positional = (): string => {
        const r = random();
        if (r < 0.45) return pick(PROFILE_IDS);
        if (r < 0.7 && ids.length > 0) return pick(ids);
        if (r < 0.8 && archives.length > 0) return pick(archives);
        return pick(ODD_ARGUMENTS);
      };
      const args = [command.name];
      const [min, max] = command.positionals;
      // Mostly as many arguments as the command takes, now and then one too few or too many.
      const count = random() < 0.85 ? min + Math.floor(random() * (max - min + 1)) : Math.max(0, pick([min - 1, max + 1]));
      for (let i = 0; i < count; i++) args.push(positional());
      const names = Object.keys(command.options);
      for (let i = Math.floor(random() * 3); i > 0 && names.length > 0; i--) {
        const name = pick(names);
        args.push(`--${name}`);
        if (command.options[name].type === 'string') args.push(random() < 0.4 ? positional() : pick(VALUES[VALUE_KIND[name] ?? 'text']));
      }
      if (random() < 0.05) args.push('--bogus');
      if (random() < 0.3) args.push('--json');
      const result = runCli([...args, '--workspace', root], { timeoutMs: 120_000 });
      const label = `run ${run} (ENVPROFILES_ARGS_SEED=${SEED}): envprofiles ${args.map((a) => JSON.stringify(a)).join(' ')}`;
      assert.ok(result.status !== null && [0, 1, 2, 3].includes(result.status), `${label}: exit ${result.status}\n${result.stderr}`);
      statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
      assert.doesNotMatch(result.stdout + result.stderr, NOT_FOR_USERS, `${label}\n${result.stdout}\n${result.stderr}`);
      if (args.includes('--json') && !args.includes('--help')) {
        assert.ok(result.json, `${label}: --json printed no JSON document:\n${result.stdout}`);
        assert.equal(result.json.ok, result.status === 0, `${label}: ok is ${result.json.ok} with exit ${result.status}`);
      }
    }
    // Both what works and what is refused were reached.
    assert.ok((statuses.get(0) ?? 0) > RUNS / 10 && (statuses.get(2) ?? 0) > 0 && (statuses.get(1) ?? 0) + (statuses.get(3) ?? 0) > 0, `exit codes: ${JSON.stringify([...statuses])}`);
  });
});
