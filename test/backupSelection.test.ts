import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EnvProfilesError } from '../src/core/errors';
import { parseTimeBound } from '../src/core/timeBound';
import { runCli } from './support/cliRunner';
import { demoWorkspace, engine } from './support/workspaces';

const DEV = 'dev_environment_001';
const NOW = new Date('2026-12-07T12:00:00.000Z');

/** The value the test writes into dev's settings, to tell which backup a restore put back. */
async function setMark(root: string, mark: string): Promise<void> {
  const db = (await engine()).open(path.join(root, 'data/dev/settings.sqlite3'), { readOnly: false });
  db.exec(`UPDATE tv_trading_variables SET value = '${mark}'`);
  db.close();
}

async function markNow(root: string): Promise<string> {
  const db = (await engine()).open(path.join(root, 'data/dev/settings.sqlite3'), { readOnly: true });
  try {
    return [...new Set(db.all('SELECT value FROM tv_trading_variables').map((row) => String(row.value)))].join(',');
  } finally {
    db.close();
  }
}

function backUp(root: string, ...extra: string[]): { id: string; createdAt: string } {
  const made = runCli(['backup', DEV, '--json', ...extra, '--workspace', root]);
  assert.equal(made.status, 0, made.stderr);
  return made.json?.result;
}

describe('choosing a backup to restore by time and verification (restore <profile> --latest, --verified, --before)', () => {
  it('reads a date, a date and time on the local clock or with its own zone, and a span before now; refuses anything else, naming the forms', () => {
    const read = (text: string, zone = 'UTC') => parseTimeBound(text, 'before', NOW, zone).toISOString();
    // To the second, as lists show times: the whole of that second (a backup listed at 14:30:05 is at or before it).
    assert.equal(read('2026-12-07'), '2026-12-07T00:00:00.999Z');
    assert.equal(read('2026-12-07 14:30'), '2026-12-07T14:30:00.999Z');
    assert.equal(read('2026-12-07T14:30:05'), '2026-12-07T14:30:05.999Z');
    assert.equal(read('2026-12-07T14:30:05.25'), '2026-12-07T14:30:05.250Z', 'with a fraction: exact');
    assert.equal(read('2026-12-07T14:30:05.123Z'), '2026-12-07T14:30:05.123Z', 'a time as JSON gives it');
    assert.equal(read('2026-12-07 14:30', 'Europe/Berlin'), '2026-12-07T13:30:00.999Z', 'winter: UTC+1');
    assert.equal(read('2026-07-07 14:30', 'Europe/Berlin'), '2026-07-07T12:30:00.999Z', 'summer: UTC+2');
    assert.equal(read('2026-12-07', 'America/New_York'), '2026-12-07T05:00:00.999Z');
    assert.equal(read('2026-12-07T14:30:00Z', 'Europe/Berlin'), '2026-12-07T14:30:00.999Z', 'its own zone wins');
    assert.equal(read('2026-12-07 14:30+05:30'), '2026-12-07T09:00:00.999Z');
    assert.equal(read('2026-12-07T14:30-0800'), '2026-12-07T22:30:00.999Z');
    // The hour a change to summer time skips (read as if the clock had not jumped), and the one the change back shows twice (the later).
    assert.equal(read('2026-03-29 02:30', 'Europe/Berlin'), '2026-03-29T01:30:00.999Z');
    assert.equal(read('2026-10-25 02:30', 'Europe/Berlin'), '2026-10-25T01:30:00.999Z');
    assert.equal(read('90m'), '2026-12-07T10:30:00.000Z');
    assert.equal(read('36h'), '2026-12-06T00:00:00.000Z');
    assert.equal(read('2d ago'), '2026-12-05T12:00:00.000Z');
    assert.equal(read('1W'), '2026-11-30T12:00:00.000Z');
    for (const wrong of ['2026-02-30', '2026-12-07 24:00', '2026-13-01', 'yesterday', '', '5', '2026-12-07 14', '-2h']) {
      assert.throws(() => read(wrong), (error: unknown) => error instanceof EnvProfilesError && error.code === 'USAGE' && error.message === `--before "${wrong}" is not a time this command reads.` && /2026-12-07 14:30/.test(error.hint ?? ''), wrong);
    }
  });

  it('--latest takes the newest backup that can be restored, --verified the newest verified one, --before the newest taken by then; --db one that holds it; the first line names it and why', async () => {
    const { root } = await demoWorkspace();
    await setMark(root, 'first');
    const full = backUp(root, '--full');
    await setMark(root, 'second');
    const verified = backUp(root, '--verify');
    await setMark(root, 'third');
    const newest = backUp(root);
    await setMark(root, 'now');

    const latest = runCli(['restore', DEV, '--latest', '--dry-run', '--json', '--workspace', root]);
    assert.equal(latest.status, 0, latest.stderr);
    assert.deepEqual(latest.json?.result.chosen, { backupId: newest.id, rule: `newest backup of ${DEV} that can be restored` });
    assert.equal(latest.json?.result.backupId, newest.id);
    const text = runCli(['restore', DEV, '--latest', '--dry-run', '--workspace', root]);
    assert.match(text.stdout.split('\n')[0], new RegExp(`^Chose ${newest.id.replace(/\./g, '\\.')} \\(incremental, taken \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\(\\S+\\), not verified\\): the newest backup of ${DEV} that can be restored\\.$`));
    assert.equal(text.stdout.split('\n')[1], `Dry run: restoring ${newest.id} over ${DEV} would write:`);
    assert.equal(await markNow(root), 'now', 'a dry run changes nothing');

    // The newest verified one, restored for real: the data of that backup, after a safety backup.
    const restored = runCli(['restore', DEV, '--verified', '--json', '--workspace', root]);
    assert.equal(restored.status, 0, restored.stderr);
    assert.deepEqual(restored.json?.result.chosen, { backupId: verified.id, rule: `newest verified backup of ${DEV}` });
    assert.equal(await markNow(root), 'second');
    assert.ok(restored.json?.result.safetyBackup, 'a safety backup first');

    // By time: at or before the moment the full was taken (given in UTC, with its zone).
    const byTime = runCli(['restore', DEV, '--before', full.createdAt, '--dry-run', '--json', '--workspace', root]);
    assert.equal(byTime.status, 0, byTime.stderr);
    assert.equal(byTime.json?.result.chosen.backupId, full.id);
    assert.match(byTime.json?.result.chosen.rule, new RegExp(`^newest backup of ${DEV} taken at or before \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\(\\S+\\) that can be restored$`));
    // The time the list shows for the newest, to the second, on a clock of another zone: that one is taken.
    const berlin = new Date(newest.createdAt).toLocaleString('sv-SE', { timeZone: 'Europe/Berlin' });
    const asListed = runCli(['restore', DEV, '--before', berlin, '--dry-run', '--json', '--workspace', root], { env: { TZ: 'Europe/Berlin' } });
    assert.equal(asListed.json?.result.chosen.backupId, newest.id, `${berlin}: ${asListed.stderr}`);
    const listedLine = runCli(['backups', DEV, '--workspace', root], { env: { TZ: 'Europe/Berlin' } }).stdout.split('\n').find((line) => line.startsWith(newest.id));
    assert.ok(listedLine?.includes(berlin), `the list shows ${berlin}: ${listedLine}`);
    const tooEarly = runCli(['restore', DEV, '--before', '2020-01-01', '--workspace', root]);
    assert.equal(tooEarly.status, 1);
    assert.match(tooEarly.stderr, new RegExp(`^error\\[BACKUP_NOT_FOUND\\]: ${DEV} has no backup taken at or before 2020-01-01 00:00:00 \\(\\S+\\) that can be restored: of its 4 backups, 4 were taken after 2020-01-01 00:00:00 \\(\\S+\\)\\. Nothing was changed\\.\\n`));

    // --db: the newest that holds that database.
    const oneDb = runCli(['restore', DEV, '--latest', '--db', 'settings', '--dry-run', '--json', '--workspace', root]);
    assert.equal(oneDb.status, 0, oneDb.stderr);
    assert.match(oneDb.json?.result.chosen.rule, /^newest backup of dev_environment_001 holding settings that can be restored$/);
    // A name no backup holds is a mistake in the command, said as for a named backup, with the names they hold
    // (before: exit 1, "of its 4 backups, 4 do not hold journal").
    const noSuchDb = runCli(['restore', DEV, '--latest', '--db', 'journal', '--workspace', root]);
    assert.equal(noSuchDb.status, 2, noSuchDb.stderr);
    assert.equal(noSuchDb.stderr, `error[BACKUP_NOT_FOUND]: No backup of ${DEV} holds a database "journal"; nothing was changed.\n  Its backups hold: settings, strategies, market_data.\n`);
    const misspelt = runCli(['restore', DEV, '--latest', '--db', 'setings', '--json', '--workspace', root]);
    assert.equal(misspelt.json?.error?.hint, 'Did you mean settings? Its backups hold: settings, strategies, market_data.');
  });

  it('passes over a backup whose chain lost an archive or holds a FAILED one, and says what kept each out when none is left', async () => {
    const { root } = await demoWorkspace();
    const full = backUp(root, '--full');
    const incremental = backUp(root);
    const archives = path.join(root, '.envprofiles/backups', DEV);
    // The full's archive gone: the incremental on it cannot be restored, and the full not at all.
    fs.renameSync(path.join(archives, `${full.id}.zip`), path.join(root, 'aside.zip'));
    const none = runCli(['restore', DEV, '--latest', '--workspace', root]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, new RegExp(`^error\\[BACKUP_NOT_FOUND\\]: ${DEV} has no backup that can be restored: of its 2 backups, 2 cannot be restored \\(an archive of their chains is missing`));
    fs.renameSync(path.join(root, 'aside.zip'), path.join(archives, `${full.id}.zip`));
    const back = runCli(['restore', DEV, '--latest', '--dry-run', '--json', '--workspace', root]);
    assert.equal(back.json?.result.chosen.backupId, incremental.id, back.stderr);
    // The full damaged and found so: the incremental on it is passed over too, the new full taken.
    const later = backUp(root, '--full');
    const fullArchive = path.join(archives, `${full.id}.zip`);
    const bytes = fs.readFileSync(fullArchive);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.writeFileSync(fullArchive, bytes);
    assert.equal(runCli(['verify', full.id, '--workspace', root]).status, 1);
    fs.rmSync(path.join(archives, `${later.id}.zip`));
    const failed = runCli(['restore', DEV, '--latest', '--workspace', root]);
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /of its 3 backups, 1 cannot be restored \(an archive of its chain is missing[^;]*; 1 cannot be restored \(its chain holds one that FAILED verification[^;]*; 1 FAILED verification\. Nothing was changed\./);
  });

  it('refuses what is not a profile id, and a profile without backups, saying what to do; --verified with none verified says how to verify them', async () => {
    const { root } = await demoWorkspace();
    const made = backUp(root);
    const named = runCli(['restore', made.id, '--latest', '--workspace', root]);
    assert.equal(named.status, 2);
    assert.match(named.stderr, /^error\[USAGE\]: --latest, --verified and --before choose among a profile's backups, but ".*" names a backup already; nothing was changed\.\n {2}Give the profile's id instead/);
    assert.equal(runCli(['restore', 'backups/x.zip', '--latest', '--workspace', root]).status, 2);
    const badTime = runCli(['restore', DEV, '--before', 'last tuesday', '--workspace', root]);
    assert.equal(badTime.status, 2);
    assert.match(badTime.stderr, /^error\[USAGE\]: --before "last tuesday" is not a time this command reads\./);
    const noBackups = runCli(['restore', 'prod_environment_001', '--latest', '--workspace', root]);
    assert.equal(noBackups.status, 1);
    assert.match(noBackups.stderr, /^error\[BACKUP_NOT_FOUND\]: Profile prod_environment_001 has no backups yet; nothing was changed\.\n {2}Back it up first: envprofiles backup prod_environment_001 --verify/);
    const ghost = runCli(['restore', 'ghost_env', '--latest', '--workspace', root]);
    assert.match(ghost.stderr, /^error\[BACKUP_NOT_FOUND\]: There is no profile ghost_env and no backup of one/);
    const unverified = runCli(['restore', DEV, '--verified', '--workspace', root]);
    assert.equal(unverified.status, 1);
    assert.match(unverified.stderr, new RegExp(`^error\\[BACKUP_NOT_FOUND\\]: ${DEV} has no verified backup: of its 1 backup, 1 is not verified, or its data failed the checks\\. Nothing was changed\\.\\n {2}Verify them first \\(envprofiles verify --unverified ${DEV}\\)`));
  });
});
