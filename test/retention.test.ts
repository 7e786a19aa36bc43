import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { readCatalog, type CatalogEntry } from '../src/core/backup/backupCatalog';
import { BackupLayout } from '../src/core/backup/backupLayout';
import { createBackup } from '../src/core/backup/backupCreation';
import { pruneBackups } from '../src/core/backup/backupPruning';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { verifyBackup } from '../src/core/backup/backupVerification';
import { decideRetention, keepRulesFrom, keepRulesText, reasonsText, type KeepRules } from '../src/core/backup/retentionPolicy';
import { EnvProfilesError } from '../src/core/errors';
import { age, localTimestamp, localTimeZone, onLocalClock } from '../src/core/localTime';
import { readAudit } from '../src/core/auditLog';
import { deleteProfile } from '../src/core/profileDeletion';
import { switchProfile } from '../src/core/switchTransaction';
import { workspaceConfigFor } from '../src/core/workspaceConfig';
import { runCli } from './support/cliRunner';
import { allowFolders, assertSameTree, demoWorkspace, engine, pastLastWrite, snapshotTree, tempDir } from './support/workspaces';
import { needsRoot } from './support/needsRoot';
import { killAtEveryStep, stepsOf } from './support/steppedRuns';
import { execFileSync } from 'node:child_process';

const TZ = 'Europe/Berlin';
const NOW = new Date('2025-11-01T12:00:00Z');

/** A catalog entry with only what retention looks at. */
function entry(id: string, createdAt: string, options: { kind?: 'full' | 'incremental'; chain?: string[]; verified?: boolean; archiveSound?: boolean; leftOut?: string[] } = {}): CatalogEntry {
  return {
    id, profileId: 'p', file: `${id}.zip`, kind: options.kind ?? 'full', parent: options.chain?.at(-1) ?? null, chain: options.chain ?? [],
    createdAt, reason: 'test', sizeBytes: 1, sha256: '0'.repeat(64), databases: [], ...(options.leftOut ? { leftOut: options.leftOut } : {}),
    verified: options.verified === undefined ? null : { at: createdAt, ok: options.verified, detail: '', ...(options.archiveSound === undefined ? {} : { archiveSound: options.archiveSound }) },
  };
}

/** The decisions as a compact table: "id action reason; reason". */
function table(entries: CatalogEntry[], rules: KeepRules): string[] {
  return decideRetention(entries, rules, NOW, TZ).map((d) => `${d.id} ${d.action} ${d.reasons.join('; ')}`);
}

describe('retention decisions (fixed tables, Europe/Berlin)', () => {
  it('an empty catalog decides nothing', () => {
    assert.deepEqual(table([], { last: 3 }), []);
  });

  it('without rules everything is kept', () => {
    assert.deepEqual(table([entry('a', '2025-10-01T10:00:00Z')], {}), ['a keep no keep rules: everything is kept']);
    // As a profile's schedule gives them: without backup_schedule, or one with no rule in it (before: "every keep rule is 0").
    assert.deepEqual(table([entry('a', '2025-10-01T10:00:00Z')], keepRulesFrom(undefined)), ['a keep no keep rules: everything is kept']);
    assert.deepEqual(table([entry('a', '2025-10-01T10:00:00Z')], keepRulesFrom({ frequency: 'DAILY', time: '02:00' })), ['a keep no keep rules: everything is kept']);
  });

  it('rules that are all 0 are no rules, as in restic: everything is kept (before: nothing was, and the newest unverified backup went)', () => {
    const entries = [entry('b', '2025-10-02T10:00:00Z'), entry('a', '2025-10-01T10:00:00Z', { verified: true })];
    assert.deepEqual(table(entries, { last: 0, daily: 0 }), ['b keep every keep rule is 0 (none): everything is kept', 'a keep every keep rule is 0 (none): everything is kept; newest verified backup (never deleted)']);
    // A 0 beside a rule above 0 is simply that rule not used.
    assert.deepEqual(table(entries, { last: 1, daily: 0 }), ['b keep last 1/1', 'a keep newest verified backup (never deleted)']);
  });

  it('says the rules in one line, as show and VS Code give them (a rule of 0 is no rule)', () => {
    assert.equal(keepRulesText(keepRulesFrom({ retention_days: 30, keep: { yearly: 2, last: 5, daily: 7, weekly: 0 } })), 'within 30 days, last 5, daily 7, yearly 2');
    assert.equal(keepRulesText(keepRulesFrom({ retention_days: 1 })), 'within 1 day');
    assert.equal(keepRulesText(keepRulesFrom(undefined)), 'no rules (prune keeps every backup)');
    assert.equal(keepRulesText(keepRulesFrom({ keep: { last: 0 } })), 'no rules (prune keeps every backup)');
  });

  it('last and daily, in local days', () => {
    const entries = [
      entry('d1-morning', '2025-10-20T06:00:00Z'),
      entry('d1-evening', '2025-10-20T20:00:00Z'),
      // 23:30 UTC on the 20th is already the 21st in Berlin (UTC+2).
      entry('d2-local-midnight', '2025-10-20T23:30:00Z'),
      entry('d3', '2025-10-22T09:00:00Z'),
      entry('d4', '2025-10-23T09:00:00Z'),
    ];
    assert.deepEqual(table(entries, { last: 1, daily: 3 }), [
      'd4 keep last 1/1; daily 1/3 (2025-10-23)',
      'd3 keep daily 2/3 (2025-10-22)',
      'd2-local-midnight keep daily 3/3 (2025-10-21)',
      'd1-evening delete no rule keeps it',
      'd1-morning delete no rule keeps it',
    ]);
  });

  it('hourly across the autumn DST change: 02:30 CEST and 02:30 CET fall in the same local hour', () => {
    const entries = [
      entry('cest-0230', '2025-10-26T00:30:00Z'),
      entry('cet-0230', '2025-10-26T01:30:00Z'),
      entry('cet-0330', '2025-10-26T02:30:00Z'),
    ];
    assert.deepEqual(table(entries, { hourly: 2 }), [
      'cet-0330 keep hourly 1/2 (2025-10-26 03h)',
      'cet-0230 keep hourly 2/2 (2025-10-26 02h)',
      'cest-0230 delete no rule keeps it',
    ]);
  });

  it('daily across the spring DST change (a 23-hour day)', () => {
    const entries = [entry('sat-2330', '2025-03-29T22:30:00Z'), entry('sun-0000', '2025-03-29T23:00:00Z'), entry('sun-2330', '2025-03-30T21:30:00Z')];
    assert.deepEqual(table(entries, { daily: 5 }), [
      'sun-2330 keep daily 1/5 (2025-03-30)',
      'sun-0000 delete no rule keeps it',
      'sat-2330 keep daily 2/5 (2025-03-29)',
    ]);
  });

  it('weekly uses ISO weeks (2024-12-30 is in 2025-W01), monthly and yearly local calendar periods', () => {
    const entries = [entry('2024-12-28', '2024-12-28T12:00:00Z'), entry('2024-12-30', '2024-12-30T12:00:00Z'), entry('2025-01-05', '2025-01-05T12:00:00Z'), entry('2025-02-01', '2025-02-01T12:00:00Z')];
    assert.deepEqual(table(entries, { weekly: 3 }), [
      '2025-02-01 keep weekly 1/3 (2025-W05)',
      '2025-01-05 keep weekly 2/3 (2025-W01)',
      '2024-12-30 delete no rule keeps it',
      '2024-12-28 keep weekly 3/3 (2024-W52)',
    ]);
    assert.deepEqual(table(entries, { monthly: 2, yearly: 2 }), [
      '2025-02-01 keep monthly 1/2 (2025-02); yearly 1/2 (2025)',
      '2025-01-05 keep monthly 2/2 (2025-01)',
      '2024-12-30 keep yearly 2/2 (2024)',
      '2024-12-28 delete no rule keeps it',
    ]);
  });

  it('retention_days keeps everything younger', () => {
    assert.deepEqual(table([entry('old', '2025-09-01T00:00:00Z'), entry('young', '2025-10-25T00:00:00Z')], { withinDays: 30 }), ['young keep within 30 days', 'old delete no rule keeps it']);
    // retention_days: 1 is "within 1 day" (before: "within 1 days").
    assert.deepEqual(table([entry('young', '2025-10-31T12:00:00Z')], { withinDays: 1 }), ['young keep within 1 day']);
    // Backups that stopped for longer than that, none verified: the newest is kept all the same, with its
    // chain (before: every backup was deleted).
    const stopped = [entry('incr', '2025-09-02T00:00:00Z', { kind: 'incremental', chain: ['full'] }), entry('full', '2025-09-01T00:00:00Z'), entry('older', '2025-08-01T00:00:00Z')];
    assert.deepEqual(table(stopped, { withinDays: 30 }), [
      'incr keep newest backup (never deleted: the profile\'s latest state)',
      'full keep needed by incr',
      'older delete no rule keeps it',
    ]);
  });

  it('never deletes the newest verified backup, nor what a kept incremental depends on', () => {
    const entries = [
      entry('full-1', '2025-10-01T00:00:00Z', { verified: true }),
      entry('full-2', '2025-10-10T00:00:00Z'),
      entry('incr-2a', '2025-10-11T00:00:00Z', { kind: 'incremental', chain: ['full-2'] }),
      entry('incr-2b', '2025-10-12T00:00:00Z', { kind: 'incremental', chain: ['full-2', 'incr-2a'] }),
    ];
    assert.deepEqual(table(entries, { last: 1 }), [
      'incr-2b keep last 1/1',
      'incr-2a keep needed by incr-2b',
      'full-2 keep needed by incr-2b; needed by incr-2a',
      'full-1 keep newest verified backup (never deleted)',
    ]);
    // For people (prune's table, VS Code), the later backups that need one are folded into one reason.
    const [, second, third] = decideRetention(entries, { last: 1 }, NOW, TZ);
    assert.equal(reasonsText(second.reasons), 'needed by incr-2b');
    assert.equal(reasonsText(third.reasons), 'needed by incr-2b and 1 later backup of its chain');
    assert.equal(reasonsText(['within 30 days', 'needed by c', 'needed by b', 'needed by a']), 'within 30 days; needed by c and 2 later backups of its chain');
  });

  it('a verified backup whose chain lost an archive (a catalog rebuilt without it) is not the verified backup prune relies on: the newest verified one that can be restored is kept', () => {
    const entries = [
      entry('older-full', '2025-10-01T00:00:00Z', { verified: true }),
      // 'lost-full' was in between: its archive went, and a catalog rebuild dropped it.
      entry('incr-a', '2025-10-11T00:00:00Z', { kind: 'incremental', chain: ['lost-full'] }),
      entry('incr-b', '2025-10-12T00:00:00Z', { kind: 'incremental', chain: ['lost-full', 'incr-a'], verified: true }),
      entry('newest', '2025-10-13T00:00:00Z'),
    ];
    assert.deepEqual(table(entries, { last: 1 }), [
      'newest keep last 1/1',
      'incr-b delete no rule keeps it (nor can it be restored: its chain lost lost-full)',
      'incr-a delete no rule keeps it (nor can it be restored: its chain lost lost-full)',
      // Before, incr-b (verified, but not restorable) was "the newest verified backup", and this one,
      // the only backup that restored, was deleted.
      'older-full keep newest verified backup (never deleted)',
    ]);
    // So for one that failed only on its data's own problems, and for the newest holding every database.
    const exact = entries.map((e) => (e.verified ? { ...e, verified: { ...e.verified, ok: false, archiveSound: true } } : e));
    assert.equal(table(exact, { last: 1 }).at(-1), 'older-full keep newest backup verified to hold its data exactly, problems the data already had included (never deleted)');
    const partial = [entry('older-whole', '2025-09-01T00:00:00Z', { verified: true }), ...entries.map((e) => (e.id === 'older-full' ? { ...e, leftOut: ['settings'] } : e))];
    assert.deepEqual(table(partial, { last: 1 }).filter((line) => line.includes('never deleted')), [
      'older-full keep newest verified backup (never deleted)',
      'older-whole keep newest verified backup that holds every database (never deleted)',
    ]);
  });

  it('a verified incremental whose full FAILED verification since (its archive damaged) is not the verified backup prune relies on either, and neither takes a place of the counting rules: the older sound one is kept', () => {
    const entries = [
      entry('older-full', '2025-10-01T00:00:00Z', { verified: true }),
      entry('damaged-full', '2025-10-10T00:00:00Z', { verified: false }),
      entry('incr', '2025-10-11T00:00:00Z', { kind: 'incremental', chain: ['damaged-full'], verified: true }),
      entry('newest', '2025-10-13T00:00:00Z'),
    ];
    assert.deepEqual(table(entries, { last: 1 }), [
      'newest keep last 1/1',
      'incr delete no rule keeps it (nor can it be restored: its chain holds damaged-full, which FAILED verification)',
      'damaged-full delete no rule keeps it (nor can it be restored: it FAILED verification)',
      'older-full keep newest verified backup (never deleted)',
    ]);
    // A full whose data alone failed (its archive holds that data exactly) is no such fault.
    const dataOnly = entries.map((e) => (e.id === 'damaged-full' ? { ...e, verified: { ...(e.verified as NonNullable<CatalogEntry['verified']>), archiveSound: true } } : e));
    assert.equal(table(dataOnly, { last: 1 })[1], 'incr keep newest verified backup (never deleted)');
    // Nor does a backup that failed take a place of last: with last 2, before, the damaged full took the
    // second place, and the older sound full went.
    assert.deepEqual(table(entries.filter((e) => e.id !== 'incr'), { last: 2 }), [
      'newest keep last 1/2',
      'damaged-full delete no rule keeps it (nor can it be restored: it FAILED verification)',
      'older-full keep last 2/2; newest verified backup (never deleted)',
    ]);
    assert.deepEqual(table(dataOnly.filter((e) => e.id !== 'incr'), { last: 2 }).slice(1), ['damaged-full keep last 2/2; newest backup verified to hold its data exactly, problems the data already had included (never deleted)', 'older-full keep newest verified backup (never deleted)']);
  });

  it('a backup whose chain lost an archive takes none of the places of the counting rules: they go to backups that restore (before, with last 3, two such backups took two places and the older full, the only other that restored, was deleted)', () => {
    const entries = [
      entry('older-full', '2025-10-01T00:00:00Z'),
      entry('incr-a', '2025-10-11T00:00:00Z', { kind: 'incremental', chain: ['lost-full'] }),
      entry('incr-b', '2025-10-12T00:00:00Z', { kind: 'incremental', chain: ['lost-full', 'incr-a'] }),
      entry('newest', '2025-10-13T00:00:00Z'),
    ];
    assert.deepEqual(table(entries, { last: 3 }), [
      'newest keep last 1/3',
      'incr-b delete no rule keeps it (nor can it be restored: its chain lost lost-full)',
      'incr-a delete no rule keeps it (nor can it be restored: its chain lost lost-full)',
      'older-full keep last 2/3',
    ]);
    assert.deepEqual(table(entries, { daily: 2 }), [
      'newest keep daily 1/2 (2025-10-13)',
      'incr-b delete no rule keeps it (nor can it be restored: its chain lost lost-full)',
      'incr-a delete no rule keeps it (nor can it be restored: its chain lost lost-full)',
      'older-full keep daily 2/2 (2025-10-01)',
    ]);
    // retention_days counts no places: what is younger stays, restorable or not.
    assert.deepEqual(table(entries, { withinDays: 25 }), [
      'newest keep within 25 days',
      'incr-b keep within 25 days',
      'incr-a keep within 25 days; needed by incr-b',
      'older-full delete no rule keeps it',
    ]);
    // The newest backup is kept for the profile's latest state, also when it cannot be restored.
    const stopped = entries.map((e) => ({ ...e, createdAt: e.createdAt.replace('2025-10', '2025-08') }));
    assert.deepEqual(table(stopped, { withinDays: 30 }).filter((line) => line.includes(' keep ')), ["newest keep newest backup (never deleted: the profile's latest state)"]);
    const strandedOnly = entries.filter((e) => e.kind === 'incremental');
    assert.deepEqual(table(strandedOnly, { last: 1 }), [
      "incr-b keep newest backup (never deleted: the profile's latest state)",
      'incr-a keep needed by incr-b',
    ]);
  });

  it('a backup dated after now (made while the clock was ahead) is kept and counts for no rule: the backups made since are decided among themselves (before, with last 1, the newest of them went)', () => {
    const entries = [
      entry('full-1', '2025-10-30T10:00:00Z', { verified: true }),
      // The clock was a day ahead for this one; it was put right before the next two.
      entry('ahead', '2025-11-02T09:00:00Z', { kind: 'incremental', chain: ['full-1'], verified: true }),
      entry('since-1', '2025-11-01T09:00:00Z', { kind: 'incremental', chain: ['full-1', 'ahead'] }),
      entry('since-2', '2025-11-01T11:00:00Z', { kind: 'incremental', chain: ['full-1', 'ahead', 'since-1'] }),
    ];
    assert.deepEqual(table(entries, { last: 1 }), [
      'ahead keep dated after now (made while the clock was ahead): its age cannot be judged; needed by since-2; needed by since-1',
      'since-2 keep last 1/1',
      'since-1 keep needed by since-2',
      'full-1 keep newest verified backup (never deleted); needed by ahead; needed by since-2; needed by since-1',
    ]);
    // Once now has passed its date, its date counts again, like any backup's.
    assert.deepEqual(decideRetention(entries, { last: 1 }, new Date('2025-11-03T00:00:00Z'), TZ).map((d) => `${d.id} ${d.action} ${d.reasons.join('; ')}`), [
      'ahead keep last 1/1; newest verified backup (never deleted)',
      'since-2 delete no rule keeps it',
      'since-1 delete no rule keeps it',
      'full-1 keep needed by ahead',
    ]);
  });

  it('when the newest verified backup left a database out (emergency), also keeps the newest verified one that holds every database', () => {
    const entries = [
      entry('full-1', '2025-10-01T00:00:00Z', { verified: true }),
      entry('full-2', '2025-10-10T00:00:00Z', { verified: true }),
      entry('emergency', '2025-10-11T00:00:00Z', { verified: true, leftOut: ['settings'] }),
      entry('full-4', '2025-10-12T00:00:00Z'),
    ];
    assert.deepEqual(table(entries, { last: 1 }), [
      'full-4 keep last 1/1',
      'emergency keep newest verified backup (never deleted)',
      'full-2 keep newest verified backup that holds every database (never deleted)',
      'full-1 delete no rule keeps it',
    ]);
  });

  it('also keeps the newest backup that failed verify for its data alone (it holds that data exactly), but not one whose archive failed', () => {
    const entries = [
      entry('full-1', '2025-10-01T00:00:00Z', { verified: true, archiveSound: true }),
      entry('full-2', '2025-10-10T00:00:00Z', { verified: false, archiveSound: true }),
      entry('full-3', '2025-10-11T00:00:00Z', { verified: false, archiveSound: false }),
      entry('full-4', '2025-10-12T00:00:00Z', { verified: false }),
      entry('full-5', '2025-10-13T00:00:00Z'),
    ];
    assert.deepEqual(table(entries, { last: 1 }), [
      'full-5 keep last 1/1',
      'full-4 delete no rule keeps it (nor can it be restored: it FAILED verification)',
      'full-3 delete no rule keeps it (nor can it be restored: it FAILED verification)',
      'full-2 keep newest backup verified to hold its data exactly, problems the data already had included (never deleted)',
      'full-1 keep newest verified backup (never deleted)',
    ]);
  });
});

describe('ages shown in VS Code', () => {
  it('counts back from now, and a time after now (a clock that was ahead) says so instead of "0 s ago"', () => {
    const now = Date.parse('2025-11-01T12:00:00Z');
    assert.deepEqual(['2025-11-01T11:59:30Z', '2025-11-01T11:15:00Z', '2025-10-31T00:00:00Z', '2025-10-20T12:00:00Z', '2025-11-01T12:00:30Z', '2025-11-02T12:00:00Z'].map((iso) => age(iso, now)),
      ['30 s ago', '45 min ago', '36 h ago', '12 days ago', '0 s ago', 'dated after now']);
  });
});

describe('local time', () => {
  it('follows a TZ changed while the process runs, and each zone keeps its own clock (both are resolved once and kept)', () => {
    const before = process.env.TZ;
    try {
      const shown: string[] = [];
      for (const zone of ['Asia/Seoul', 'America/New_York', 'Asia/Seoul', 'Not/A_Zone']) {
        process.env.TZ = zone;
        shown.push(`${localTimeZone()} ${localTimestamp('2025-11-01T12:00:00Z')}`);
      }
      assert.deepEqual(shown, ['Asia/Seoul 2025-11-01 21:00:00', 'America/New_York 2025-11-01 08:00:00', 'Asia/Seoul 2025-11-01 21:00:00', 'UTC 2025-11-01 12:00:00']);
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  });

  it('a TZ that names a zone file (`:/etc/localtime`, as some systemd services set it) is the zone of that file, through links; a file of no zone reads as UTC', () => {
    // Intl resolves no name for such a TZ (before: every time was shown in UTC, and prune's daily rules
    // counted UTC days).
    const before = process.env.TZ;
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'envprofiles-tz-'));
    try {
      const localtime = path.join(folder, 'localtime');
      fs.symlinkSync('/usr/share/zoneinfo/Asia/Seoul', localtime);
      const notAZone = path.join(folder, 'not-a-zone');
      fs.writeFileSync(notAZone, 'TZif');
      const shown: string[] = [];
      for (const tz of [`:${localtime}`, '/usr/share/zoneinfo/America/New_York', ':/usr/share/zoneinfo/posix/Europe/Berlin', `:${notAZone}`, ':/no/such/file', ':Asia/Seoul']) {
        process.env.TZ = tz;
        shown.push(`${localTimeZone()} ${localTimestamp('2025-11-01T12:00:00Z')}`);
      }
      assert.deepEqual(shown, [
        'Asia/Seoul 2025-11-01 21:00:00',
        'America/New_York 2025-11-01 08:00:00',
        'Europe/Berlin 2025-11-01 13:00:00',
        'UTC 2025-11-01 12:00:00',
        'UTC 2025-11-01 12:00:00',
        'Asia/Seoul 2025-11-01 21:00:00',
      ]);
      // The extension writes instants in the user's locale on the same clock (without the zone, Intl read
      // this TZ as a fixed offset: 21:00 in Seoul's winter too, but Berlin's summer at GMT+01:00).
      process.env.TZ = ':/usr/share/zoneinfo/Europe/Berlin';
      assert.deepEqual(['2025-07-01T12:00:00Z', '2025-12-01T12:00:00Z'].map((iso) => onLocalClock(new Date(iso), 'time', 'en-US')), ['2:00:00 PM', '1:00:00 PM']);
      // Written as toLocaleString and its kin write them with the zone named (the formatters are kept, one per zone).
      const summer = new Date('2025-07-01T12:00:00Z');
      assert.deepEqual([onLocalClock(summer, 'date', 'en-US'), onLocalClock(summer, 'date-time', 'en-US')], [summer.toLocaleDateString('en-US', { timeZone: 'Europe/Berlin' }), summer.toLocaleString('en-US', { timeZone: 'Europe/Berlin' })]);
      process.env.TZ = ':Asia/Seoul';
      assert.equal(onLocalClock(summer, 'date-time', 'en-US'), '7/1/2025, 9:00:00 PM');
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('a TZ in the POSIX form with a fixed offset (JST-9, CST-8, EST5: set on embedded systems) is that offset, as Node\'s clock runs on it (before: UTC, 9 hours off the clock); each such TZ reads as Node\'s clock reads it', async () => {
    const before = process.env.TZ;
    const pad = (n: number): string => String(n).padStart(2, '0');
    try {
      const shown: string[] = [];
      for (const tz of ['JST-9', 'CST-8', 'EST5', 'UTC0', '<+0330>-3:30']) {
        process.env.TZ = tz;
        for (const iso of ['2025-01-15T12:00:00Z', '2025-07-15T12:00:00Z']) {
          const d = new Date(iso);
          const clock = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
          assert.equal(localTimestamp(iso), clock, `${tz} ${iso}: as Node's clock reads it`);
        }
        shown.push(`${localTimeZone()} ${localTimestamp('2025-11-01T12:00:00Z')}`);
      }
      assert.deepEqual(shown.slice(0, 4), ['+09:00 2025-11-01 21:00:00', '+08:00 2025-11-01 20:00:00', '-05:00 2025-11-01 07:00:00', 'UTC 2025-11-01 12:00:00']);
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
    // Through the CLI: the listing's header names the offset, and its times are on that clock.
    const { root, context } = await demoWorkspace();
    const made = await createBackup(context, { profileId: 'dev_environment_001', kind: 'full' });
    const listed = runCli(['backups', 'dev_environment_001', '--workspace', root], { env: { TZ: 'JST-9' } });
    assert.equal(listed.status, 0, listed.stderr);
    const local = new Date(Date.parse(made.entry.createdAt) + 9 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
    assert.match(listed.stdout, /CREATED \(\+09:00\)/);
    assert.ok(listed.stdout.includes(local), `${local} in\n${listed.stdout}`);
  });
});

describe('local time of a TZ in the POSIX form with daylight saving rules', () => {
  // OpenWrt, BusyBox images and other embedded systems set TZ this way. The C library (and so `date`
  // and the user's application) reads the rules; Node reads such a TZ as UTC (before: so did we, and
  // times were shown, and prune's hourly and daily rules counted, hours off the user's clock).
  const ZONES = [
    'CET-1CEST,M3.5.0,M10.5.0/3',
    'EST5EDT,M3.2.0,M11.1.0',
    'NZST-12NZDT,M9.5.0,M4.1.0/3',
    'AEST-10AEDT,M10.1.0,M4.1.0/3',
    '<-03>3<-02>,M3.5.0/-2,M10.5.0/-1',
    'IST-2IDT,M3.4.4/26,M10.5.0',
    'WART4WARST,J1/0,J365/25',
    'XXX3YYY,J60/1,J300',
    'ABC-5:30DEF-6:45,100/1:30,250/-3',
  ];

  function withTz<T>(tz: string, run: () => T): T {
    const before = process.env.TZ;
    process.env.TZ = tz;
    try {
      return run();
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  }

  /** The local clock of each instant as the C library reads `tz` (Python's time.localtime is glibc's localtime_r). */
  function cLibraryClock(tz: string, isos: string[]): string[] {
    const script = 'import sys, time, calendar\nfor line in sys.stdin:\n    t = calendar.timegm(time.strptime(line.strip()[:19], "%Y-%m-%dT%H:%M:%S"))\n    print(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)))\n';
    return execFileSync('python3', ['-c', script], { input: isos.join('\n'), env: { ...process.env, TZ: tz }, maxBuffer: 64 << 20 }).toString().trim().split('\n');
  }

  it('reads every hour of two years (a leap year and the next) as the C library does, across each rule form (Mm.w.d, Jn, n, negative and 26-hour times, all-year daylight saving, the southern hemisphere)', () => {
    const isos: string[] = [];
    for (let hour = 0; hour < 2 * 366 * 24; hour++) isos.push(new Date(Date.UTC(2024, 0, 1) + hour * 3_600_000 + 1_800_000).toISOString());
    for (const tz of ZONES) {
      const expected = cLibraryClock(tz, isos);
      const ours = withTz(tz, () => {
        assert.equal(localTimeZone(), tz, 'the zone is named by the TZ itself');
        return isos.map((iso) => localTimestamp(iso));
      });
      const differing = isos.flatMap((iso, i) => (ours[i] === expected[i] ? [] : [`${iso}: ${ours[i]} against ${expected[i]}`]));
      assert.deepEqual(differing.slice(0, 3), [], `${tz}: ${differing.length} hours differ from the C library`);
    }
  });

  it('a TZ with daylight saving and no rules (CET-1CEST) takes the United States\' rules as musl does; one the time zone database names (EST5EDT) keeps its name; a malformed rule reads as before', () => {
    assert.deepEqual(withTz('CET-1CEST', () => [localTimeZone(), localTimestamp('2025-01-15T12:00:00Z'), localTimestamp('2025-03-20T12:00:00Z'), localTimestamp('2025-07-15T12:00:00Z')]),
      ['CET-1CEST', '2025-01-15 13:00:00', '2025-03-20 14:00:00', '2025-07-15 14:00:00']);
    assert.deepEqual(withTz('EST5EDT', () => [localTimeZone(), localTimestamp('2025-07-15T12:00:00Z')]), ['America/New_York', '2025-07-15 08:00:00']);
    for (const malformed of ['CET-1CEST,M13.5.0,M10.5.0', 'CET-1CEST,M3.6.0,M10.5.0', 'CET-1CEST,J366,M10.5.0', 'CET-1CEST,M3.5.0']) {
      assert.equal(withTz(malformed, () => localTimeZone()), 'UTC', malformed);
    }
  });

  it('the extension\'s clock and prune\'s daily rules follow it: two backups on one UTC day but two local days are two days', () => {
    const tz = 'CET-1CEST,M3.5.0,M10.5.0/3';
    withTz(tz, () => {
      assert.deepEqual(['2025-07-01T12:00:00Z', '2025-12-01T12:00:00Z'].map((iso) => onLocalClock(new Date(iso), 'time', 'en-US')), ['2:00:00 PM', '1:00:00 PM']);
      assert.equal(onLocalClock(new Date('2025-07-01T22:30:00Z'), 'date-time', 'en-US'), '7/2/2025, 12:30:00 AM');
      // 21:30 and 22:30 UTC on July 1 are 23:30 on July 1 and 00:30 on July 2 in Berlin's summer.
      const entries = [entry('a', '2025-07-01T21:30:00Z', { verified: true }), entry('b', '2025-07-01T22:30:00Z', { verified: true })];
      const decided = decideRetention(entries, { daily: 2 }, new Date('2025-07-03T00:00:00Z'), localTimeZone()).map((d) => `${d.id} ${d.action}`);
      assert.deepEqual(decided.sort(), ['a keep', 'b keep']);
    });
  });

  it('through the CLI: the listing\'s header names the TZ, and its times and the archive entries\' are on the C library\'s clock', async () => {
    const tz = 'CET-1CEST,M3.5.0,M10.5.0/3';
    const { root, context } = await demoWorkspace();
    const made = await createBackup(context, { profileId: 'dev_environment_001', kind: 'full' });
    const listed = runCli(['backups', 'dev_environment_001', '--workspace', root], { env: { TZ: tz } });
    assert.equal(listed.status, 0, listed.stderr);
    assert.ok(listed.stdout.includes(`CREATED (${tz})`), listed.stdout);
    const [local] = cLibraryClock(tz, [made.entry.createdAt]);
    assert.ok(listed.stdout.includes(local), `${local} in\n${listed.stdout}`);
    // The archive's entries are dated on the same clock, as Python's zipfile (and `unzip -l`) read them.
    const backedUp = runCli(['backup', 'dev_environment_001', '--full', '--workspace', root, '--json'], { env: { TZ: tz } });
    assert.equal(backedUp.status, 0, backedUp.stderr);
    const { createdAt, archive } = JSON.parse(backedUp.stdout).result as { createdAt: string; archive: string };
    const dated = execFileSync('python3', ['-c', 'import sys, zipfile; print(*sorted({"%04d-%02d-%02d %02d:%02d:%02d" % i.date_time for i in zipfile.ZipFile(sys.argv[1]).infolist()}))', archive]).toString().trim();
    const [clock] = cLibraryClock(tz, [new Date(Math.floor(Date.parse(createdAt) / 2000) * 2000).toISOString()]);
    assert.equal(dated, clock, `the entries of ${archive}`);
  });
});

describe('prune', () => {
  async function workspaceWithBackups(count: number) {
    const { root, context } = await demoWorkspace();
    const file = path.join(root, '.envprofiles/profiles/dev_environment_001.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('    retention_days: 30\n', '    keep:\n      last: 2\n'));
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await createBackup(context, { profileId: 'dev_environment_001', kind: 'full' })).entry.id);
    return { root, context, ids };
  }

  it('--dry-run lists every backup with its decision and changes nothing; prune deletes', async () => {
    const { root, context, ids } = await workspaceWithBackups(4);
    const dry = runCli(['prune', 'dev_environment_001', '--dry-run', '--workspace', root, '--json']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.deepEqual(dry.json?.result.decisions.map((d: { id: string; action: string }) => `${d.id}:${d.action}`), [`${ids[3]}:keep`, `${ids[2]}:keep`, `${ids[1]}:delete`, `${ids[0]}:delete`]);
    assert.equal(fs.readdirSync(path.join(root, '.envprofiles/backups/dev_environment_001')).filter((f) => f.endsWith('.zip')).length, 4);
    const result = await pruneBackups(context, 'dev_environment_001', false);
    assert.deepEqual(result.deleted.sort(), [ids[0], ids[1]].sort());
    assert.deepEqual(result.verifiedFirst, [{ id: ids[3], sound: true, why: 'none had been verified' }], 'none was verified: the newest first, which passed');
    assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/backups/dev_environment_001')).filter((f) => f.endsWith('.zip')).sort(), [`${ids[2]}.zip`, `${ids[3]}.zip`]);
  });

  it('after a backup made while the clock was ahead: the backups made since chain on each other, not each on that one; prune with last 1 keeps the newest of them, which restores to the data as it is', async () => {
    const { root, context } = await demoWorkspace();
    const DEV = 'dev_environment_001';
    const file = path.join(root, '.envprofiles/profiles/dev_environment_001.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('    retention_days: 30\n', '    keep:\n      last: 1\n'));
    const database = path.join(root, 'data/dev/market_data.sqlite3');
    const write = async (close: number): Promise<void> => {
      const db = (await engine()).open(database, { readOnly: false });
      db.exec(`UPDATE price_data SET close = ${close} WHERE rowid = 1`);
      db.close();
    };
    const full = await createBackup(context, { profileId: DEV, kind: 'full' });
    await write(101);
    const ahead = await createBackup({ ...context, now: () => new Date(Date.now() + 86_400_000) }, { profileId: DEV });
    assert.equal(ahead.entry.parent, full.entry.id);
    // The clock is right again.
    await write(102);
    const first = await createBackup(context, { profileId: DEV });
    await write(103);
    const second = await createBackup(context, { profileId: DEV });
    assert.equal(second.entry.parent, first.entry.id, 'before: on the backup dated after now, as was every backup until the clock passed its date');
    // Listed first by its date, it says why it is not the newest.
    const listed = runCli(['backups', DEV, '--workspace', root]).stdout.split('\n');
    assert.match(listed[1], new RegExp(`^${ahead.entry.id.replace(/\./g, '\\.')} .* manual \\(dated after now: the clock was ahead\\) `));
    assert.deepEqual(listed.filter((line) => line.includes('dated after now')).length, 1, listed.join('\n'));
    const result = await pruneBackups(context, DEV, false);
    assert.deepEqual(result.decisions.map((d) => `${d.id} ${d.action}`), [`${ahead.entry.id} keep`, `${second.entry.id} keep`, `${first.entry.id} keep`, `${full.entry.id} keep`]);
    await restoreBackup(context, { reference: second.entry.id, asNew: 'restored' });
    const db = (await engine()).open(path.join(root, 'data/restored/market_data.sqlite3'), { readOnly: true });
    try {
      assert.equal(db.all('SELECT close FROM price_data WHERE rowid = 1')[0]?.close, 103);
    } finally {
      db.close();
    }
  });

  it('a deleted profile\'s backups are pruned by the keep rules in its newest backup (before, prune refused: no profile)', async () => {
    const { root, context, ids } = await workspaceWithBackups(4);
    fs.rmSync(path.join(root, '.envprofiles/profiles/dev_environment_001.yaml'));
    const listed = runCli(['backups', '--workspace', root, '--json']);
    assert.deepEqual(listed.json?.result.deletedProfiles, ['dev_environment_001']);
    assert.match(runCli(['backups', '--workspace', root]).stdout, /^note: dev_environment_001 has no profile file \(it was deleted\); its backups were kept\.$/m);
    const dry = runCli(['prune', 'dev_environment_001', '--dry-run', '--workspace', root]);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`^The profile file of dev_environment_001 is gone: its keep rules were taken from its newest backup, ${ids[3].replace(/\./g, '\\.')}\\.$`, 'm'));
    const result = await pruneBackups(context, 'dev_environment_001', false);
    assert.equal(result.rulesFrom, ids[3]);
    assert.deepEqual(JSON.parse(JSON.stringify(result.keepRules)), { last: 2 }, 'the rules it went by, those of its newest backup');
    assert.deepEqual(result.deleted.sort(), [ids[0], ids[1]].sort());
    assert.equal(runCli(['prune', 'no_such_profile', '--workspace', root]).status, 1, 'a profile with no file and no backups is still unknown');
    // A profile without backups: a sentence, not an empty table.
    const none = runCli(['prune', 'test_environment_001', '--dry-run', '--workspace', root]);
    assert.equal(none.status, 0, none.stderr);
    assert.equal(none.stdout, 'test_environment_001 has no backups: nothing to prune.\n');
  });

  it('a misspelt backup_schedule key is ignored, and prune and validate say so (it could turn retention off)', async () => {
    const { root, context } = await workspaceWithBackups(2);
    const file = path.join(root, '.envprofiles/profiles/dev_environment_001.yaml');
    // Meant: keep the last 2, and everything younger than 30 days. As written, only the last 2.
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('      last: 2\n', '      last: 2\n    retention_dayz: 30\n').replace('  type: "DEVELOPMENT"\n', '  type: "DEVELOPMENT"\n  protect: true\n'));
    const expected = /\.envprofiles\/profiles\/dev_environment_001\.yaml: backup_schedule\.retention_dayz: is not a backup_schedule key \(.*\), so it is ignored; did you mean retention_days\?/;
    const dry = runCli(['prune', 'dev_environment_001', '--dry-run', '--workspace', root]);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout.split('\n')[0], new RegExp(`^note: ${expected.source}`));
    const result = await pruneBackups(context, 'dev_environment_001', true);
    assert.equal(result.notes.length, 1);
    assert.match(result.notes[0], expected);
    const validated = runCli(['validate', 'dev_environment_001', '--workspace', root]);
    assert.equal(validated.status, 0, 'a warning does not fail validation');
    assert.match(validated.stdout, /\n  WARN backup_schedule\.retention_dayz: is not a backup_schedule key .*did you mean retention_days\?\n/);
    assert.match(validated.stdout, /\n  WARN protect: is not a profile key, so it is ignored \(and kept in the file\); did you mean protected\?\n/);
    // show says them too, last (before: nothing, as if the profile were as meant).
    const shown = runCli(['show', 'dev_environment_001', '--workspace', root, '--json']).json?.result;
    assert.deepEqual(shown.warnings.map((w: string) => w.split(':')[0]), ['protect', 'backup_schedule.retention_dayz']);
    assert.match(runCli(['show', 'dev_environment_001', '--workspace', root]).stdout, /\n  warning: protect: is not a profile key, so it is ignored \(and kept in the file\); did you mean protected\?\n  warning: backup_schedule\.retention_dayz: is not a backup_schedule key .*did you mean retention_days\?\n$/);
  });

  it('keep: {last: 0} alone keeps every backup, and prune and validate say why (before: prune deleted all but the newest verified one)', async () => {
    const { root, ids } = await workspaceWithBackups(3);
    const file = path.join(root, '.envprofiles/profiles/dev_environment_001.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('      last: 2\n', '      last: 0\n'));
    const pruned = runCli(['prune', 'dev_environment_001', '--json', '--workspace', root]);
    assert.equal(pruned.status, 0, pruned.stderr);
    assert.deepEqual(pruned.json?.result.deleted, []);
    assert.deepEqual(pruned.json?.result.keepRules, { last: 0 });
    assert.deepEqual(pruned.json?.result.notes, ['.envprofiles/profiles/dev_environment_001.yaml: backup_schedule.keep: every rule is 0, which counts as no rule (as in restic), so prune keeps every backup; to keep only the newest, write last: 1 (or more)']);
    assert.equal(fs.readdirSync(path.join(root, '.envprofiles/backups/dev_environment_001')).filter((f) => f.endsWith('.zip')).length, ids.length);
    const validated = runCli(['validate', 'dev_environment_001', '--workspace', root]);
    assert.equal(validated.status, 0, 'a warning does not fail validation');
    assert.match(validated.stdout, /\n {2}WARN backup_schedule\.keep: every rule is 0, which counts as no rule/);
  });

  it('keeps the newest verified backup even when the rules would drop it', async () => {
    const { context, ids } = await workspaceWithBackups(4);
    await verifyBackup(context, ids[0]);
    const result = await pruneBackups(context, 'dev_environment_001', false);
    assert.deepEqual(result.deleted, [ids[1]]);
    assert.deepEqual(result.verifiedFirst, [], 'one was verified: prune verifies none');
  });

  /** Flips one bit in the middle of a backup's archive: its size stays, so only a verify finds it. */
  function damage(root: string, id: string): void {
    const file = path.join(root, '.envprofiles/backups/dev_environment_001', `${id}.zip`);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length >> 1] ^= 0x40;
    fs.writeFileSync(file, bytes);
  }

  it('with no backup verified, verifies newest first before deleting, and keeps the newest that passes (before: it kept only the newest, which did not restore, and deleted every sound one)', async () => {
    const { root, context, ids } = await workspaceWithBackups(4);
    damage(root, ids[3]);
    const dry = runCli(['prune', 'dev_environment_001', '--dry-run', '--workspace', root]);
    assert.equal(dry.status, 0, dry.stderr);
    const lines = dry.stdout.split('\n');
    assert.match(lines.at(-3) ?? '', new RegExp(`^note: none of these backups has been verified, so before it deletes anything, prune verifies them, newest first, until one passes, .*The decisions above assume the newest, ${ids[3].replace(/\./g, '\\.')}, passes; to know now: envprofiles verify --unverified dev_environment_001$`));
    assert.equal(readCatalog(new BackupLayout(context.layout, workspaceConfigFor(context)), 'dev_environment_001').filter((e) => e.verified).length, 0, 'a dry run verifies nothing');
    const pruned = runCli(['prune', 'dev_environment_001', '--workspace', root, '--json']);
    assert.equal(pruned.status, 0, pruned.stderr);
    const result = pruned.json?.result;
    assert.deepEqual(result.verifiedFirst.map((v: { id: string; sound: boolean }) => `${v.id} ${v.sound}`), [`${ids[3]} false`, `${ids[2]} true`]);
    assert.match(result.verifiedFirst[0].problem, /the archive's SHA-256 differs from the one the catalog recorded/);
    // The damaged newest takes no place of last 2 (it cannot be restored), but is the newest backup.
    assert.deepEqual(result.deleted.sort(), [ids[0]]);
    assert.deepEqual(result.decisions.map((d: { id: string; reasons: string[] }) => `${d.id} ${d.reasons.join('; ')}`).slice(0, 3), [
      `${ids[3]} newest backup (never deleted: the profile's latest state)`,
      `${ids[2]} last 1/2; newest verified backup (never deleted)`,
      `${ids[1]} last 2/2`,
    ]);
    const catalog = readCatalog(new BackupLayout(context.layout, workspaceConfigFor(context)), 'dev_environment_001');
    assert.deepEqual(catalog.map((e) => `${e.id} ${e.verified?.ok}`).sort(), [`${ids[1]} undefined`, `${ids[2]} true`, `${ids[3]} false`].sort(), 'both results are recorded');
    // With a verified backup now, the next prune verifies nothing.
    assert.deepEqual((await pruneBackups(context, 'dev_environment_001', false)).verifiedFirst, []);
  });

  it('the verified backup prune relies on, damaged on the disk since: verified again (FAILED, recorded), then the others newest first until one passes (before: kept as the newest verified on its record alone)', async () => {
    const { root, context, ids } = await workspaceWithBackups(4);
    assert.equal((await verifyBackup(context, ids[1])).ok, true);
    damage(root, ids[1]);
    const pruned = runCli(['prune', 'dev_environment_001', '--workspace', root]);
    assert.equal(pruned.status, 0, pruned.stderr);
    const lines = pruned.stdout.split('\n');
    assert.match(lines[0], new RegExp(`^verified before pruning: ${ids[1].replace(/\./g, '\\.')} \\(its archive changed since it was verified\\) FAILED: .*the archive's SHA-256 differs from the one the catalog recorded`));
    assert.equal(lines[1], `verified before pruning: ${ids[3]} (none had been verified) passed`);
    const catalog = readCatalog(new BackupLayout(context.layout, workspaceConfigFor(context)), 'dev_environment_001');
    assert.deepEqual(catalog.map((e) => `${e.id} ${e.verified?.ok}`).sort(), [`${ids[2]} undefined`, `${ids[3]} true`].sort(), 'the damaged one and the oldest were deleted; the newest passed');
    // An intact verified backup is not verified again: only its archive's SHA-256 is read.
    const newest = (await createBackup(context, { profileId: 'dev_environment_001', kind: 'full' })).entry.id;
    const again = await pruneBackups(context, 'dev_environment_001', false);
    assert.deepEqual(again.verifiedFirst, []);
    assert.deepEqual(again.deleted, [ids[2]]);
    assert.deepEqual(readCatalog(new BackupLayout(context.layout, workspaceConfigFor(context)), 'dev_environment_001').map((e) => e.id).sort(), [ids[3], newest].sort());
  });

  /**
   * dev with keep {last: 1}: a sound full (verified when `soundVerified`), a full whose archive then went
   * (the catalog rebuilt without it), two incrementals on it (the newer verified before it went), and a
   * newest full damaged on the disk.
   */
  async function strandedChain(soundVerified: boolean) {
    const { root, context } = await demoWorkspace();
    const file = path.join(root, '.envprofiles/profiles/dev_environment_001.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('    retention_days: 30\n', '    keep:\n      last: 1\n'));
    const backup = async (kind: 'full' | 'incremental'): Promise<string> => (await createBackup(context, { profileId: 'dev_environment_001', kind })).entry.id;
    const sound = await backup('full');
    if (soundVerified) assert.equal((await verifyBackup(context, sound)).ok, true);
    const lost = await backup('full');
    const stranded = [await backup('incremental'), await backup('incremental')];
    assert.equal((await verifyBackup(context, stranded[1])).ok, true);
    fs.rmSync(path.join(root, '.envprofiles/backups/dev_environment_001', `${lost}.zip`));
    assert.equal(runCli(['backups', 'dev_environment_001', '--rebuild-catalog', '--workspace', root]).status, 0);
    const newest = await backup('full');
    damage(root, newest);
    const archivesLeft = (): string[] => fs.readdirSync(path.join(root, '.envprofiles/backups/dev_environment_001')).filter((f) => f.endsWith('.zip')).sort();
    return { root, context, sound, lost, stranded, newest, archivesLeft };
  }

  const escaped = (id: string): string => id.replace(/\./g, '\\.');

  it('a verified backup whose chain lost an archive (the catalog rebuilt without it) is not the one prune relies on: the sound verified full before it is kept (before: it was deleted, and nothing restorable was left)', async () => {
    const { root, context, sound, lost, stranded, newest, archivesLeft } = await strandedChain(true);
    const pruned = runCli(['prune', 'dev_environment_001', '--workspace', root, '--json']);
    assert.equal(pruned.status, 0, pruned.stderr);
    assert.deepEqual(pruned.json?.result.verifiedFirst, [], 'the sound full is verified and its archive intact: nothing to verify');
    const reasons = new Map((pruned.json?.result.decisions as { id: string; reasons: string[] }[]).map((d) => [d.id, d.reasons.join('; ')]));
    assert.equal(reasons.get(sound), 'newest verified backup (never deleted)');
    assert.equal(reasons.get(stranded[1]), `no rule keeps it (nor can it be restored: its chain lost ${lost})`);
    assert.deepEqual(archivesLeft(), [`${sound}.zip`, `${newest}.zip`].sort(), 'the stranded incrementals go (no rule keeps them, and they cannot be restored)');
    assert.ok((await restoreBackup(context, { reference: sound })).backupId === sound);
  });

  it('the same with that full never verified: prune verifies newest first (the damaged newest and the stranded incremental fail) and keeps the full, which passes', async () => {
    const { root, sound, lost, stranded, newest, archivesLeft } = await strandedChain(false);
    const dry = runCli(['prune', 'dev_environment_001', '--dry-run', '--workspace', root]);
    assert.match(dry.stdout, /\nnote: none of these backups that can be restored has been verified \(the chains of those verified lost an archive\), so before it deletes anything/);
    const pruned = runCli(['prune', 'dev_environment_001', '--workspace', root]);
    assert.equal(pruned.status, 0, pruned.stderr);
    const why = 'none had been verified that can be restored: the chains of those verified lost an archive';
    const lines = pruned.stdout.split('\n');
    assert.match(lines[0], new RegExp(`^verified before pruning: ${escaped(newest)} \\(${why}\\) FAILED: `));
    assert.match(lines[1], new RegExp(`^verified before pruning: ${escaped(stranded[0])} \\(${why}\\) FAILED: .*depends on backup ${escaped(lost)}, whose archive .* is missing`));
    assert.equal(lines[2], `verified before pruning: ${sound} (${why}) passed`);
    assert.deepEqual(archivesLeft(), [`${sound}.zip`, `${newest}.zip`].sort());
  });

  it('with no backup verified and none passing, deletes nothing and says so (exit 3)', async () => {
    const { root, context, ids } = await workspaceWithBackups(3);
    for (const id of ids) damage(root, id);
    const before = snapshotTree(path.join(root, '.envprofiles/backups'));
    const pruned = runCli(['prune', 'dev_environment_001', '--workspace', root]);
    assert.equal(pruned.status, 3, pruned.stderr);
    assert.match(pruned.stderr, new RegExp(`^error\\[NEEDS_BACKUP\\]: None of dev_environment_001's backups is known to restore: prune verified the 3 never verified before deleting anything, and none passed \\(the newest, ${ids[2].replace(/\./g, '\\.')}: .*\\); nothing was deleted\\.\n  Make a backup and verify it: envprofiles backup dev_environment_001 --full --verify; then prune again`));
    assert.doesNotMatch(pruned.stderr, /\n\s+at /, 'no stack trace');
    const after = snapshotTree(path.join(root, '.envprofiles/backups'));
    const archives = (tree: Record<string, string>): [string, string][] => Object.entries(tree).filter(([file]) => file.endsWith('.zip'));
    assert.equal(archives(before).length, 3);
    assert.deepEqual(archives(after), archives(before), 'every archive is still there, as it was');
    // Each failure is recorded, so the list says which failed; a second prune verifies none again.
    assert.equal(runCli(['backups', 'dev_environment_001', '--workspace', root]).stdout.match(/ FAILED\n/g)?.length, 3);
    const again = runCli(['prune', 'dev_environment_001', '--workspace', root]);
    assert.equal(again.status, 3);
    assert.match(again.stderr, /None of dev_environment_001's backups is known to restore: each failed verify before; nothing was deleted\./);
    // Each refusal is in the audit log (before: only a prune that deleted was).
    const prunes = readAudit(context).filter((e) => e.event === 'prune');
    assert.deepEqual(prunes.map((e) => `${e.profile} ${e.outcome}`), ['dev_environment_001 refused', 'dev_environment_001 refused']);
    assert.match(prunes[1].detail ?? '', /^None of dev_environment_001's backups is known to restore/);
  });

  it('refuses when the catalog and the archives on disk disagree, saying what disagrees', async () => {
    const { root, context, ids } = await workspaceWithBackups(3);
    fs.rmSync(path.join(root, '.envprofiles/backups/dev_environment_001', `${ids[2]}.zip`));
    fs.writeFileSync(path.join(root, '.envprofiles/backups/dev_environment_001/stray.zip'), 'x');
    await assert.rejects(pruneBackups(context, 'dev_environment_001', true), (error: unknown) => {
      assert.ok(error instanceof EnvProfilesError && error.code === 'CATALOG_MISMATCH');
      assert.match(error.message, new RegExp(`lists ${ids[2].replace(/\./g, '\\.')} but .* is missing`));
      assert.match(error.message, /stray\.zip is in .* but not in the catalog/);
      return true;
    });
    // A dry run leaves no line in the audit log; a prune refused does.
    assert.deepEqual(readAudit(context).filter((e) => e.event === 'prune'), []);
    await assert.rejects(pruneBackups(context, 'dev_environment_001', false), (error: unknown) => error instanceof EnvProfilesError && error.code === 'CATALOG_MISMATCH');
    assert.deepEqual(readAudit(context).filter((e) => e.event === 'prune').map((e) => `${e.profile} ${e.outcome}`), ['dev_environment_001 failed']);
  });
});

describe('a prune that cannot finish', () => {
  const DEV = 'dev_environment_001';
  const DAY = 86_400_000;

  /** dev with a full and an incremental of ten days ago (to be pruned) and a full of now (kept: keep last 1, retention 1 day). */
  async function workspaceWithOldChain() {
    const { root, context } = await demoWorkspace();
    const profileFile = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    fs.writeFileSync(profileFile, fs.readFileSync(profileFile, 'utf8').replace('    retention_days: 30', '    retention_days: 1\n    keep:\n      last: 1'));
    const tenDaysAgo = { ...context, now: () => new Date(Date.now() - 10 * DAY) };
    const oldFull = await createBackup(tenDaysAgo, { profileId: DEV, kind: 'full' });
    const oldIncremental = await createBackup(tenDaysAgo, { profileId: DEV, kind: 'incremental' });
    const current = await createBackup(context, { profileId: DEV, kind: 'full' });
    const folder = path.join(root, '.envprofiles/backups', DEV);
    const listed = (): string[] => readCatalog(new BackupLayout(context.layout, workspaceConfigFor(context)), DEV).map((e) => e.id).sort();
    const archives = (): string[] => fs.readdirSync(folder).filter((name) => name.endsWith('.zip')).map((name) => name.slice(0, -4)).sort();
    return { root, context, folder, listed, archives, oldFull: oldFull.entry.id, oldIncremental: oldIncremental.entry.id, current: current.entry.id };
  }

  it('killed at each of its steps: the next command deletes what the catalog no longer lists, so catalog and folder agree and the next prune runs (before: the archives stayed, and every prune refused)', async () => {
    let made: Awaited<ReturnType<typeof workspaceWithOldChain>> | undefined;
    const first = await workspaceWithOldChain();
    const steps = stepsOf(['prune', DEV, '--workspace', first.root]);
    assert.ok(steps.includes('prune-catalog-written'), steps.join(', '));
    await killAtEveryStep({
      steps,
      prepare: async () => {
        made = await workspaceWithOldChain();
        return ['prune', DEV, '--workspace', made.root];
      },
      check: ({ context }) => {
        const { root, listed, archives, current } = made as NonNullable<typeof made>;
        const next = runCli(['list', '--workspace', root]);
        assert.equal(next.status, 0, `${context}: ${next.stderr}`);
        assert.deepEqual(archives(), listed(), `${context}: the catalog lists exactly the archives in the folder`);
        assert.ok(listed().includes(current), context);
        const pruned = runCli(['prune', DEV, '--workspace', root]);
        assert.equal(pruned.status, 0, `${context}: ${pruned.stderr}`);
        assert.deepEqual(archives(), [current], context);
        assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), [], context);
      },
    });
  });

  describe('as root', function () {
    before(needsRoot('marking a file immutable (chattr +i)'));

    it('an archive that cannot be deleted (marked immutable) stays listed with the backup it builds on; the others are deleted; the next prune runs (before: the first failure stopped it, those archives unlisted, and every prune after refused)', async () => {
      const { root, context, folder, listed, archives, oldFull, oldIncremental, current } = await workspaceWithOldChain();
      const stuck = path.join(folder, `${oldIncremental}.zip`);
      execFileSync('chattr', ['+i', stuck]);
      try {
        const refused = runCli(['prune', DEV, '--workspace', root]);
        assert.equal(refused.status, 1, refused.stderr);
        assert.match(refused.stderr, new RegExp(`^error\\[PERMISSION_DENIED\\]: Pruning ${DEV} deleted 0 of 2 backups: ${oldIncremental.replace(/\./g, '\\.')} could not be deleted and stays listed; ${oldFull.replace(/\./g, '\\.')}, which it builds on, was kept too\\. Permission denied for `));
        assert.match(refused.stderr, /The catalog lists every archive still in the folder\.\n$/);
        assert.deepEqual(listed(), [oldFull, oldIncremental, current].sort());
        assert.deepEqual(archives(), listed());
        const dryRun = runCli(['prune', DEV, '--dry-run', '--workspace', root]);
        assert.equal(dryRun.status, 0, dryRun.stderr);
        // One line in the audit log, with what it deleted (none), not a second one for the error.
        const prunes = readAudit(context).filter((e) => e.event === 'prune');
        assert.deepEqual(prunes.map((e) => `${e.outcome} ${e.detail}`), ['failed deleted none']);
      } finally {
        execFileSync('chattr', ['-i', stuck]);
      }
      const pruned = runCli(['prune', DEV, '--workspace', root]);
      assert.equal(pruned.status, 0, pruned.stderr);
      assert.deepEqual(archives(), [current]);
      assert.deepEqual(listed(), [current]);
    });
  });
});

describe('delete', () => {
  it('needs a verified backup newer than the last change (NEEDS_BACKUP, exit 3), then deletes and keeps the data', async () => {
    const { root, context } = await demoWorkspace();
    const refused = runCli(['delete', 'test_environment_001', '--workspace', root], { env: { TZ: 'Asia/Tokyo' } });
    assert.equal(refused.status, 3);
    assert.match(refused.stderr, /error\[NEEDS_BACKUP\][\s\S]*envprofiles backup test_environment_001 --full/);
    // --json carries the fix as data too (what a script or an editor can offer as an action).
    const refusedJson = runCli(['delete', 'test_environment_001', '--workspace', root, '--json']);
    assert.equal(refusedJson.status, 3);
    assert.deepEqual(refusedJson.json?.error.nextStep, { action: 'backup', profileId: 'test_environment_001' });
    // The last change in local time, its zone named; and what backups there are.
    assert.match(refused.stderr, /its last change \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, Asia\/Tokyo time\); it has no backups,/);
    // The backup opens the WAL databases, which makes each an empty -wal file: that is no change.
    for (const name of ['settings', 'strategies', 'market_data']) assert.ok(!fs.existsSync(path.join(root, `data/test/${name}.sqlite3-wal`)));
    const backup = await createBackup(context, { profileId: 'test_environment_001' });
    assert.equal(fs.statSync(path.join(root, 'data/test/settings.sqlite3-wal')).size, 0);
    await assert.rejects(deleteProfile(context, { id: 'test_environment_001' }), (e: unknown) => e instanceof EnvProfilesError && e.code === 'NEEDS_BACKUP' && /none of its 1 backup is verified/.test(e.message), 'an unverified backup is not enough');
    await verifyBackup(context, backup.entry.id);
    const result = await deleteProfile(context, { id: 'test_environment_001' });
    assert.equal(result.coveredBy, backup.entry.id);
    // Each refusal is in the audit log with what it said, and the delete.
    const deletes = readAudit(context).filter((e) => e.event === 'delete');
    assert.deepEqual(deletes.map((e) => `${e.profile} ${e.outcome}`), [...Array(3).fill('test_environment_001 refused'), 'test_environment_001 ok']);
    assert.match(deletes[2].detail ?? '', /^Profile "test_environment_001" has no verified backup newer than its last change .*none of its 1 backup is verified/);
    assert.ok(!fs.existsSync(path.join(root, '.envprofiles/profiles/test_environment_001.yaml')));
    assert.ok(fs.existsSync(path.join(root, 'data/test/settings.sqlite3')), 'data kept by default');
    assert.ok(fs.existsSync(path.join(root, '.envprofiles/backups/test_environment_001', `${backup.entry.id}.zip`)), 'backups kept');
  });

  it('--dry-run says what would be removed and kept, what covers the profile, and what would refuse it now (exit 3), and changes nothing', async () => {
    const { root, context } = await demoWorkspace();
    const PROD = 'prod_environment_001';
    const before = snapshotTree(root, (rel) => rel === '.envprofiles/lock');
    const refused = runCli(['delete', PROD, '--dry-run', '--delete-data', '--workspace', root]);
    assert.equal(refused.status, 3, refused.stderr);
    assert.match(refused.stdout, /^Dry run: deleting profile prod_environment_001 would remove \.envprofiles\/profiles\/prod_environment_001\.yaml, data\/prod\/settings\.sqlite3, data\/prod\/strategies\.sqlite3, data\/prod\/market_data\.sqlite3\.\n {2}it needs --confirm prod_environment_001 \(a protected profile\)\n {2}it would be refused now: Profile "prod_environment_001" has no verified backup newer than its last change \([^)]+\); it has no backups, so it cannot be deleted now\. Make one and verify it: envprofiles backup prod_environment_001 --full --verify; then delete again\.\nNothing was changed\.\n$/);
    assert.deepEqual(snapshotTree(root, (rel) => rel === '.envprofiles/lock'), before, 'a dry run changes nothing, not even the audit log');
    const backup = await createBackup(context, { profileId: PROD });
    await verifyBackup(context, backup.entry.id);
    const covered = runCli(['delete', PROD, '--dry-run', '--workspace', root, '--json']);
    assert.equal(covered.status, 0, covered.stderr);
    assert.deepEqual(covered.json?.result, {
      id: PROD, coveredBy: backup.entry.id, deletedFiles: ['.envprofiles/profiles/prod_environment_001.yaml'],
      keptFiles: ['data/prod/settings.sqlite3', 'data/prod/strategies.sqlite3', 'data/prod/market_data.sqlite3'], notes: [], plan: { wouldRefuse: [], confirmationNeeded: PROD },
    });
    assert.ok(fs.existsSync(path.join(root, '.envprofiles/profiles/prod_environment_001.yaml')));
    // Several files are "them", one is "it".
    assert.match(runCli(['delete', PROD, '--dry-run', '--workspace', root]).stdout, /\n {2}it would keep data\/prod\/settings\.sqlite3, data\/prod\/strategies\.sqlite3, data\/prod\/market_data\.sqlite3 \(--delete-data removes them\)\n/);
    const onlyOne = path.join(root, '.envprofiles/profiles/dev_environment_001.yaml');
    fs.writeFileSync(onlyOne, fs.readFileSync(onlyOne, 'utf8').replace(/\n {4}(strategies|market_data): .*/g, ''));
    assert.match(runCli(['delete', 'dev_environment_001', '--dry-run', '--workspace', root]).stdout, /\n {2}it would keep data\/dev\/settings\.sqlite3 \(--delete-data removes it\)\n/);
    // The active profile: refused for that first.
    await switchProfile(context, 'test_environment_001');
    const active = runCli(['delete', 'test_environment_001', '--dry-run', '--workspace', root]);
    assert.equal(active.status, 3);
    assert.match(active.stdout, /\n {2}it would be refused now: Profile "test_environment_001" is the active profile and cannot be deleted\. Switch to another profile first\.\n/);
  });

  it('a change after the backup needs a new one, also one made right after it (to its profile or its data); --delete-data removes the databases', async () => {
    const { root, context } = await demoWorkspace();
    await pastLastWrite();
    const backup = await createBackup(context, { profileId: 'test_environment_001' });
    await verifyBackup(context, backup.entry.id);
    fs.appendFileSync(path.join(root, '.envprofiles/profiles/test_environment_001.yaml'), '# edited\n');
    await assert.rejects(deleteProfile(context, { id: 'test_environment_001' }), (e: unknown) => e instanceof EnvProfilesError && e.code === 'NEEDS_BACKUP');
    await pastLastWrite();
    const second = await createBackup(context, { profileId: 'test_environment_001' });
    await verifyBackup(context, second.entry.id);
    // The application writes a row the moment the backup is done: that row is in no backup.
    const db = (await engine()).open(path.join(root, 'data/test/market_data.sqlite3'), { readOnly: false });
    db.exec('UPDATE price_data SET close = close + 1 WHERE rowid = 1');
    db.close();
    await assert.rejects(deleteProfile(context, { id: 'test_environment_001', deleteData: true }), (e: unknown) => e instanceof EnvProfilesError && e.code === 'NEEDS_BACKUP');
    await pastLastWrite();
    const fresh = await createBackup(context, { profileId: 'test_environment_001' });
    await verifyBackup(context, fresh.entry.id);
    await deleteProfile(context, { id: 'test_environment_001', deleteData: true });
    assert.ok(!fs.existsSync(path.join(root, 'data/test/settings.sqlite3')));
  });

  it('--delete-data removes the data folder it leaves empty (before: an empty data/dev/ stayed behind), and keeps one with anything else in it, the workspace\'s own folders, and one outside the workspace', async () => {
    const { root, context } = await demoWorkspace();
    const outside = tempDir();
    allowFolders(root, outside);
    // prod keeps a note of the user's beside its databases; test's market_data lives outside the workspace.
    fs.writeFileSync(path.join(root, 'data/prod/NOTES.txt'), 'mine\n');
    fs.renameSync(path.join(root, 'data/test/market_data.sqlite3'), path.join(outside, 'market_data.sqlite3'));
    const testFile = path.join(root, '.envprofiles/profiles/test_environment_001.yaml');
    fs.writeFileSync(testFile, fs.readFileSync(testFile, 'utf8').replace('market_data: "data/test/market_data.sqlite3"', `market_data: "${path.join(outside, 'market_data.sqlite3')}"`));
    for (const id of ['dev_environment_001', 'test_environment_001', 'prod_environment_001']) {
      await pastLastWrite();
      await verifyBackup(context, (await createBackup(context, { profileId: id, kind: 'full' })).entry.id);
    }
    const dev = runCli(['delete', 'dev_environment_001', '--delete-data', '--json', '--workspace', root]);
    assert.equal(dev.status, 0, dev.stderr);
    assert.deepEqual(dev.json?.result.deletedFiles.slice(-1), ['data/dev/']);
    assert.ok(!fs.existsSync(path.join(root, 'data/dev')));
    const test = runCli(['delete', 'test_environment_001', '--delete-data', '--json', '--workspace', root]);
    assert.equal(test.status, 0, test.stderr);
    assert.deepEqual(test.json?.result.deletedFiles.slice(-1), ['data/test/']);
    assert.ok(fs.existsSync(outside) && fs.readdirSync(outside).length === 0, 'the empty folder outside the workspace stays');
    const prod = runCli(['delete', 'prod_environment_001', '--delete-data', '--confirm', 'prod_environment_001', '--json', '--workspace', root]);
    assert.equal(prod.status, 0, prod.stderr);
    assert.ok(!prod.json?.result.deletedFiles.includes('data/prod/'));
    assert.deepEqual(fs.readdirSync(path.join(root, 'data/prod')), ['NOTES.txt']);
    assert.ok(fs.existsSync(path.join(root, '.envprofiles/profiles')), 'the profiles folder stays, empty or not');
  });

  it('data with foreign key violations (an application that leaves foreign keys off): its backup fails verify for the data alone, and still covers delete, which says so; a damaged archive does not', async () => {
    const { root, context } = await demoWorkspace();
    const db = (await engine()).open(path.join(root, 'data/test/strategies.sqlite3'), { readOnly: false });
    db.exec("PRAGMA foreign_keys = OFF; INSERT INTO trading_conditions (strategy_id, expression, weight) VALUES (999999, 'orphan', 1)");
    db.close();
    await pastLastWrite();
    // A backup whose archive is then damaged: its failure is the archive's, so it covers nothing.
    const damaged = await createBackup(context, { profileId: 'test_environment_001', kind: 'full' });
    const bytes = fs.readFileSync(damaged.archive);
    bytes[Math.floor(bytes.length / 2)] ^= 0x10;
    fs.writeFileSync(damaged.archive, bytes);
    const damagedResult = await verifyBackup(context, damaged.entry.id);
    assert.deepEqual([damagedResult.ok, damagedResult.archiveSound], [false, false]);
    await assert.rejects(deleteProfile(context, { id: 'test_environment_001' }), (e: unknown) => e instanceof EnvProfilesError && e.code === 'NEEDS_BACKUP');

    // backup --verify: the backup is written, its verification fails for the data, and the exit code says so.
    const backedUp = runCli(['backup', 'test_environment_001', '--full', '--verify', '--workspace', root]);
    assert.equal(backedUp.status, 1, backedUp.stderr);
    const sound = { entry: { id: /^Backed up test_environment_001: (\S+) \(full, /.exec(backedUp.stdout)?.[1] as string } };
    assert.match(backedUp.stdout, /\n {2}verification FAILED:\n {4}- .*database "strategies" rebuilds to exactly what was backed up, .* 1 foreign key violation: trading_conditions row \d+ -> strategy_profiles\n/);
    const verify = runCli(['verify', sound.entry.id, '--workspace', root]);
    assert.equal(verify.status, 1, 'the data itself fails foreign_key_check');
    assert.match(verify.stdout, /database "strategies" rebuilds to exactly what was backed up, so data\/test\/strategies\.sqlite3 was already like this when the backup was taken \(the archive is intact\), but it has 1 foreign key violation: trading_conditions row \d+ -> strategy_profiles$/m);
    assert.match(verify.stdout, /It is an exact copy of that data, so "envprofiles delete" accepts it as a verified backup\./);
    const listed = runCli(['backups', 'test_environment_001', '--workspace', root]);
    assert.match(listed.stdout, new RegExp(`${damaged.entry.id.replace(/\./g, '\\.')} .* FAILED\n`));
    assert.match(listed.stdout, new RegExp(`${sound.entry.id.replace(/\./g, '\\.')} .* FAILED \\(data; archive intact\\)`));

    const deleted = runCli(['delete', 'test_environment_001', '--workspace', root]);
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.match(deleted.stdout, new RegExp(`covered by verified backup ${sound.entry.id.replace(/\./g, '\\.')}`));
    assert.match(deleted.stdout, /note: .* holds the data exactly as it was backed up, but that data already had problems, which it keeps: .*1 foreign key violation/);
    assert.ok(!fs.existsSync(path.join(root, '.envprofiles/profiles/test_environment_001.yaml')));
  });

  it('--delete-data keeps a database file another profile also uses, and says whose it is, one note line each', async () => {
    const { root, context } = await demoWorkspace();
    // test_environment_001 shares dev's settings and strategies databases.
    const testFile = path.join(root, '.envprofiles/profiles/test_environment_001.yaml');
    fs.writeFileSync(testFile, fs.readFileSync(testFile, 'utf8').replace('settings: "data/test/settings.sqlite3"', 'settings: "data/dev/settings.sqlite3"').replace('strategies: "data/test/strategies.sqlite3"', 'strategies: "data/dev/strategies.sqlite3"'));
    await pastLastWrite();
    const backup = await createBackup(context, { profileId: 'test_environment_001', kind: 'full' });
    await verifyBackup(context, backup.entry.id);
    const note = (name: string, would: string) => `data/dev/${name}.sqlite3 ${would} kept: it is also the database of dev_environment_001`;
    // The dry run and the output say why it is kept (before: "use --delete-data to remove them", which was given).
    const dryRun = runCli(['delete', 'test_environment_001', '--delete-data', '--dry-run', '--workspace', root]);
    assert.equal(dryRun.status, 0, dryRun.stderr);
    assert.match(dryRun.stdout, /\n {2}it would keep data\/dev\/settings\.sqlite3, data\/dev\/strategies\.sqlite3 \(each is used by another profile too\)\n/);
    // Each note on a line of its own (before: joined with "; " into one).
    assert.ok(dryRun.stdout.includes(`\n  note: ${note('settings', 'would be')}\n  note: ${note('strategies', 'would be')}\n`), dryRun.stdout);
    const deleted = runCli(['delete', 'test_environment_001', '--delete-data', '--workspace', root]);
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.ok(deleted.stdout.endsWith(`\nnote: ${note('settings', 'was')}\nnote: ${note('strategies', 'was')}\n`), deleted.stdout);
    assert.ok(fs.existsSync(path.join(root, 'data/dev/settings.sqlite3')) && fs.existsSync(path.join(root, 'data/dev/strategies.sqlite3')), "dev's databases are still there");
    assert.ok(!fs.existsSync(path.join(root, 'data/test/market_data.sqlite3')), 'its own database is deleted');
    // JSON has them as a list, and in one line for scripts that read "note".
    const { context: other, root: otherRoot } = await demoWorkspace();
    fs.writeFileSync(path.join(otherRoot, '.envprofiles/profiles/test_environment_001.yaml'), fs.readFileSync(testFile.replace(root, otherRoot), 'utf8').replace('settings: "data/test/settings.sqlite3"', 'settings: "data/dev/settings.sqlite3"').replace('strategies: "data/test/strategies.sqlite3"', 'strategies: "data/dev/strategies.sqlite3"'));
    await pastLastWrite();
    await verifyBackup(other, (await createBackup(other, { profileId: 'test_environment_001', kind: 'full' })).entry.id);
    const json = runCli(['delete', 'test_environment_001', '--delete-data', '--json', '--workspace', otherRoot]).json?.result;
    assert.deepEqual(json.keptFiles, ['data/dev/settings.sqlite3', 'data/dev/strategies.sqlite3']);
    assert.deepEqual(json.notes, [note('settings', 'was'), note('strategies', 'was')]);
    assert.equal(json.note, json.notes.join('; '));
  });

  it('--delete-data of a database whose path is a symbolic link removes the file it leads to, with its -wal and -shm, and says so (before: the link only, the data left behind)', async () => {
    const { root, context } = await demoWorkspace();
    // test_environment_001's strategies database is reached through a link in another folder.
    fs.mkdirSync(path.join(root, 'links'));
    fs.symlinkSync('../data/test/strategies.sqlite3', path.join(root, 'links/strategies.sqlite3'));
    const testFile = path.join(root, '.envprofiles/profiles/test_environment_001.yaml');
    fs.writeFileSync(testFile, fs.readFileSync(testFile, 'utf8').replace('strategies: "data/test/strategies.sqlite3"', 'strategies: "links/strategies.sqlite3"'));
    const db = (await engine()).open(path.join(root, 'links/strategies.sqlite3'), { readOnly: false });
    db.exec('CREATE TABLE kept_by_the_wal (x)');
    db.close();
    await pastLastWrite();
    const backup = await createBackup(context, { profileId: 'test_environment_001', kind: 'full' });
    await verifyBackup(context, backup.entry.id);
    const note = (would: string) => `links/strategies.sqlite3 is a symbolic link: the database it leads to, data/test/strategies.sqlite3, ${would} removed with it`;
    const dryRun = runCli(['delete', 'test_environment_001', '--delete-data', '--dry-run', '--workspace', root]);
    assert.equal(dryRun.status, 0, dryRun.stderr);
    assert.match(dryRun.stdout, /would remove \.envprofiles\/profiles\/test_environment_001\.yaml, data\/test\/settings\.sqlite3, links\/strategies\.sqlite3, data\/test\/strategies\.sqlite3, data\/test\/market_data\.sqlite3\./);
    assert.ok(dryRun.stdout.includes(`  note: ${note('would be')}\n`), dryRun.stdout);
    const deleted = runCli(['delete', 'test_environment_001', '--delete-data', '--json', '--workspace', root]);
    assert.equal(deleted.status, 0, deleted.stderr);
    // The folders it emptied go too (data/test held nothing else, nor did links).
    assert.deepEqual(deleted.json?.result.deletedFiles, ['.envprofiles/profiles/test_environment_001.yaml', 'data/test/settings.sqlite3', 'links/strategies.sqlite3', 'data/test/strategies.sqlite3', 'data/test/market_data.sqlite3', 'data/test/', 'links/']);
    assert.equal(deleted.json?.result.note, note('was'));
    assert.ok(!fs.existsSync(path.join(root, 'links')));
    assert.ok(!fs.existsSync(path.join(root, 'data/test')), 'the database the link led to is gone, and so are its -wal and -shm');
  });

  it('a backup dated after now (taken while the clock was ahead) does not cover a change made since the clock was put right', async () => {
    const { root, context } = await demoWorkspace();
    const ahead = { ...context, now: () => new Date(Date.now() + 86_400_000) };
    await pastLastWrite();
    const backup = await createBackup(ahead, { profileId: 'test_environment_001', kind: 'full' });
    await verifyBackup(ahead, backup.entry.id);
    // The clock is right again; the application writes a row that no backup holds.
    const db = (await engine()).open(path.join(root, 'data/test/market_data.sqlite3'), { readOnly: false });
    db.exec('UPDATE price_data SET close = close + 1 WHERE rowid = 1');
    db.close();
    await assert.rejects(deleteProfile(context, { id: 'test_environment_001', deleteData: true }), (e: unknown) => {
      assert.ok(e instanceof EnvProfilesError && e.code === 'NEEDS_BACKUP', String(e));
      assert.match(e.message, new RegExp(`\\(backup ${backup.entry.id.replace(/\./g, '\\.')} is dated after now, \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d: taken while the clock was ahead, it does not count\\)`));
      return true;
    });
    assert.ok(fs.existsSync(path.join(root, 'data/test/market_data.sqlite3')));
  });

  it('a backup whose catalog entry was given a later time (a catalog edited or merged by hand) covers only what came before the time of its id (before: delete --delete-data removed a change no backup held)', async () => {
    const { root, context } = await demoWorkspace();
    // The profile as it was a day ago, backed up a minute ago.
    const old = new Date(Date.now() - 86_400_000);
    for (const file of ['.envprofiles/profiles/test_environment_001.yaml', ...['settings', 'strategies', 'market_data'].map((name) => `data/test/${name}.sqlite3`)]) fs.utimesSync(path.join(root, file), old, old);
    const then = { ...context, now: () => new Date(Date.now() - 60_000) };
    const backup = await createBackup(then, { profileId: 'test_environment_001', kind: 'full' });
    await verifyBackup(then, backup.entry.id);
    const db = (await engine()).open(path.join(root, 'data/test/market_data.sqlite3'), { readOnly: false });
    db.exec('UPDATE price_data SET close = close + 1 WHERE rowid = 1');
    db.close();
    await pastLastWrite();
    // The catalog now says the backup was taken after that change.
    const catalogFile = new BackupLayout(context.layout, workspaceConfigFor(context)).catalogFile('test_environment_001');
    const catalog = JSON.parse(fs.readFileSync(catalogFile, 'utf8')) as { backups: CatalogEntry[] };
    const later = new Date(Date.now() - 10);
    catalog.backups[0].createdAt = later.toISOString();
    fs.writeFileSync(catalogFile, JSON.stringify(catalog));
    // SQLite removes a -wal when its last connection closes; the databases are what must stay.
    const databasesOnly = (rel: string): boolean => /-(wal|shm)$/.test(rel);
    const before = snapshotTree(path.join(root, 'data/test'), databasesOnly);
    await assert.rejects(deleteProfile(context, { id: 'test_environment_001', deleteData: true }), (e: unknown) => {
      assert.ok(e instanceof EnvProfilesError && e.code === 'NEEDS_BACKUP', String(e));
      const zone = localTimeZone();
      assert.ok(e.message.includes(`its newest verified backup, ${backup.entry.id}, is from ${localTimestamp(backup.entry.createdAt, zone)} (its catalog entry gives it a later time, ${localTimestamp(later.toISOString(), zone)}, than its id: the time of the id counts), so it was not deleted.`), e.message);
      return true;
    });
    assertSameTree(snapshotTree(path.join(root, 'data/test'), databasesOnly), before, 'the data is as it was');
  });

  it('a backup whose catalog entry says it holds a database it left out (a catalog edited or merged by hand) does not cover that database, which its archive shows (before: delete --delete-data removed it)', async () => {
    const { root, context } = await demoWorkspace();
    const strategies = path.join(root, 'data/test/strategies.sqlite3');
    const aside = path.join(root, 'strategies-aside.sqlite3');
    fs.renameSync(strategies, aside);
    for (const suffix of ['-wal', '-shm']) fs.rmSync(`${strategies}${suffix}`, { force: true });
    await pastLastWrite();
    const backup = await createBackup(context, { profileId: 'test_environment_001', kind: 'full', leaveOutMissing: true });
    await verifyBackup(context, backup.entry.id);
    assert.deepEqual(backup.entry.leftOut, ['strategies']);
    // The database is back, with a time from before the backup; the catalog now says the backup holds it.
    fs.renameSync(aside, strategies);
    const old = new Date(Date.now() - 86_400_000);
    fs.utimesSync(strategies, old, old);
    const catalogFile = new BackupLayout(context.layout, workspaceConfigFor(context)).catalogFile('test_environment_001');
    const catalog = JSON.parse(fs.readFileSync(catalogFile, 'utf8')) as { backups: CatalogEntry[] };
    delete catalog.backups[0].leftOut;
    catalog.backups[0].databases.push('strategies');
    fs.writeFileSync(catalogFile, JSON.stringify(catalog));
    await assert.rejects(deleteProfile(context, { id: 'test_environment_001', deleteData: true }), (e: unknown) => {
      assert.ok(e instanceof EnvProfilesError && e.code === 'NEEDS_BACKUP', String(e));
      assert.ok(e.message.includes(`${backup.entry.id}, verified, but its catalog record is not what its archive says (the catalog says it holds settings, market_data, strategies, its archive settings, market_data; envprofiles backups test_environment_001 --rebuild-catalog makes the catalog match)`), e.message);
      return true;
    });
    assert.ok(fs.existsSync(strategies), 'the database the backup does not hold is still there');
  });

  it('a change made within the second after the newest verified backup (a restore right after its safety backup): the refusal says the backup came a moment before it', async () => {
    const { root, context } = await demoWorkspace();
    const DEV = 'dev_environment_001';
    const profileFile = path.join(root, '.envprofiles/profiles', `${DEV}.yaml`);
    const databases = ['settings', 'strategies', 'market_data'].map((name) => path.join(root, 'data/dev', `${name}.sqlite3`));
    const old = new Date('2020-01-01T00:00:00Z');
    for (const file of [profileFile, ...databases]) fs.utimesSync(file, old, old);
    const taken = new Date('2026-01-01T10:00:00.100Z');
    const then = { ...context, now: () => taken };
    const backup = await createBackup(then, { profileId: DEV, kind: 'full' });
    await verifyBackup(then, backup.entry.id);
    // The application writes 300 ms after the backup began: the same second to a reader.
    fs.utimesSync(databases[0], new Date(taken.getTime() + 300), new Date(taken.getTime() + 300));
    await assert.rejects(deleteProfile(context, { id: DEV }), (e: unknown) => {
      assert.ok(e instanceof EnvProfilesError && e.code === 'NEEDS_BACKUP', String(e));
      const zone = localTimeZone();
      assert.ok(e.message.includes(`last change (${localTimestamp('2026-01-01T10:00:00.410Z', zone)}, ${zone} time); its newest verified backup, ${backup.entry.id}, is from ${localTimestamp(taken.toISOString(), zone)}, a moment before that change, so it was not deleted.`), e.message);
      return true;
    });
    // A second later it reads as an earlier second, and needs no such words.
    fs.utimesSync(databases[0], new Date(taken.getTime() + 1300), new Date(taken.getTime() + 1300));
    await assert.rejects(deleteProfile(context, { id: DEV }), (e: unknown) => e instanceof EnvProfilesError && e.code === 'NEEDS_BACKUP' && !e.message.includes('a moment before'));
  });

  /** A demo workspace whose dev profile has, after its last change, a full backup and a verified incremental on it. */
  async function verifiedIncrementalOnFull() {
    const { root, context } = await demoWorkspace();
    const DEV = 'dev_environment_001';
    await pastLastWrite();
    const full = (await createBackup(context, { profileId: DEV, kind: 'full' })).entry.id;
    const incremental = (await createBackup(context, { profileId: DEV, kind: 'incremental' })).entry.id;
    assert.equal((await verifyBackup(context, incremental)).ok, true);
    return { root, context, DEV, full, incremental };
  }

  it('the covering backup must still restore: an archive of its chain gone or damaged on the disk since it was verified refuses the delete, naming it (before: the data was deleted on the strength of the record)', async () => {
    const { root, context, DEV, full, incremental } = await verifiedIncrementalOnFull();
    const fullArchive = path.join(root, '.envprofiles/backups', DEV, `${full}.zip`);
    const original = fs.readFileSync(fullArchive);
    // The audit log records each refusal, and the empty -wal and -shm of a database looked at go with its last connection; the rest stays as it was.
    const kept = (rel: string): boolean => (rel.startsWith('.envprofiles/') && !/^\.envprofiles\/(profiles|backups)\//.test(rel)) || /-(wal|shm)$/.test(rel);
    const before = snapshotTree(root, kept);
    const refusedFor = (why: string): void => {
      const dry = runCli(['delete', DEV, '--delete-data', '--dry-run', '--workspace', root, '--json']);
      assert.equal(dry.status, 3, dry.stderr);
      assert.equal(dry.json?.result.plan.wouldRefuse.length, 1);
      assert.ok(dry.json?.result.plan.wouldRefuse[0].includes(`that can be restored now: ${incremental}, verified, cannot be restored now: ${why}. So it cannot be deleted now.`), dry.json?.result.plan.wouldRefuse[0]);
      const refused = runCli(['delete', DEV, '--delete-data', '--workspace', root]);
      assert.equal(refused.status, 3, refused.stderr);
      assert.match(refused.stderr, /^error\[NEEDS_BACKUP\]: .*So it was not deleted\.\n  Make one and verify it: envprofiles backup dev_environment_001 --full --verify; then delete again\./);
    };
    fs.rmSync(fullArchive);
    refusedFor(`the archive of ${full}, which it builds on, is missing`);
    const damaged = Buffer.from(original);
    damaged[damaged.length >> 1] ^= 0x40;
    fs.writeFileSync(fullArchive, damaged);
    refusedFor(`the archive of ${full}, which it builds on, changed since it was verified`);
    fs.writeFileSync(fullArchive, original);
    assertSameTree(snapshotTree(root, kept), before, 'nothing was deleted');
    // The archive as it was verified: the backup covers the profile again.
    const deleted = await deleteProfile(context, { id: DEV, deleteData: true });
    assert.equal(deleted.coveredBy, incremental);
  });

  it('a refusal for a verified backup older than the last change says when that backup cannot be restored either (its chain lost an archive)', async () => {
    const { root, DEV, full, incremental } = await verifiedIncrementalOnFull();
    fs.rmSync(path.join(root, '.envprofiles/backups', DEV, `${full}.zip`));
    assert.equal(runCli(['backups', DEV, '--rebuild-catalog', '--workspace', root]).status, 0);
    await pastLastWrite();
    fs.appendFileSync(path.join(root, '.envprofiles/profiles', `${DEV}.yaml`), '# changed\n');
    const refused = runCli(['delete', DEV, '--workspace', root]);
    assert.equal(refused.status, 3, refused.stderr);
    assert.match(refused.stderr, new RegExp(`its newest verified backup, ${incremental.replace(/\./g, '\\.')}, is from [^;]+ \\(nor can it be restored: its chain lost ${full.replace(/\./g, '\\.')}\\), so it was not deleted\\.`));
  });

  it('a profile whose database file is gone: backup --skip-missing holds the rest, and covers delete only while that file stays missing', async () => {
    const { root, context } = await demoWorkspace();
    const TEST = 'test_environment_001';
    const settings = path.join(root, 'data/test/settings.sqlite3');
    const saved = fs.readFileSync(settings);
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${settings}${suffix}`, { force: true });
    const refused = runCli(['delete', TEST, '--workspace', root]);
    assert.equal(refused.status, 3);
    assert.match(refused.stderr, /envprofiles backup test_environment_001 --full --verify --skip-missing; then delete again\. \(data\/test\/settings\.sqlite3 does not exist: --skip-missing backs up the rest/);
    await pastLastWrite();
    assert.equal(runCli(['backup', TEST, '--full', '--workspace', root]).status, 1, 'without --skip-missing the backup is refused');
    // The command the refusal gives, as given: it backs up and verifies.
    const backup = runCli(['backup', TEST, '--full', '--verify', '--skip-missing', '--workspace', root, '--json']);
    assert.equal(backup.status, 0, backup.stderr);
    assert.deepEqual([backup.json?.result.databases, backup.json?.result.leftOut], [['strategies', 'market_data'], ['settings']]);
    assert.match(backup.json?.result.note, /^settings was left out of this backup: data\/test\/settings\.sqlite3 \(database "settings" of test_environment_001\) does not exist/);
    assert.equal(backup.json?.result.verification.ok, true);
    assert.equal(readCatalog(new BackupLayout(context.layout, workspaceConfigFor(context)), TEST).find((e) => e.id === backup.json?.result.id)?.verified?.ok, true, 'the catalog records it');
    // The file comes back with its old time (a copy that keeps times): the backup does not hold it.
    fs.writeFileSync(settings, saved);
    fs.utimesSync(settings, new Date('2020-01-01'), new Date('2020-01-01'));
    await assert.rejects(deleteProfile(context, { id: TEST, deleteData: true }), (e: unknown) => e instanceof EnvProfilesError && e.code === 'NEEDS_BACKUP' && e.message.includes(`its newest verified backup, ${backup.json?.result.id}, is from `) && e.message.includes(', but it left out settings, which exists now, so it was not deleted.'));
    assert.ok(fs.existsSync(settings));
    fs.rmSync(settings);
    const result = await deleteProfile(context, { id: TEST, deleteData: true });
    assert.equal(result.coveredBy, backup.json?.result.id);
  });

  it('a restore\'s safety backup names a damaged database the restore leaves as it is as left out, so it does not cover a delete with the data, which is refused and says so (before: it did not name it, and delete --delete-data removed that file, kept in no backup; found by the evolving-profiles test)', async () => {
    const { root, context } = await demoWorkspace();
    const DEV = 'dev_environment_001';
    const profileFile = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    const threeDatabases = fs.readFileSync(profileFile, 'utf8');
    // A backup of the profile when it had one other database, and a file of files: as it was then.
    fs.mkdirSync(path.join(root, 'config'));
    fs.writeFileSync(path.join(root, 'config/app.json'), '{"mode": 1}\n');
    const sqlite = await engine();
    sqlite.open(path.join(root, 'data/dev/scratch.sqlite3'), { readOnly: false, create: true }).exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    fs.writeFileSync(profileFile, threeDatabases.replace(/  databases:\n(    .*\n)+/, '  databases:\n    scratch: "data/dev/scratch.sqlite3"\n').replace('  configurations:', '  files:\n    - config/app.json\n  configurations:'));
    const earlier = await createBackup(context, { profileId: DEV, kind: 'full' });
    assert.equal((await verifyBackup(context, earlier.entry.id)).ok, true);
    // Now the profile has its three databases again, one of them damaged, and the file has changed.
    fs.writeFileSync(profileFile, threeDatabases.replace('  configurations:', '  files:\n    - config/app.json\n  configurations:'));
    const strategies = path.join(root, 'data/dev/strategies.sqlite3');
    for (const suffix of ['-wal', '-shm']) fs.rmSync(`${strategies}${suffix}`, { force: true });
    const handle = fs.openSync(strategies, 'r+');
    fs.writeSync(handle, Buffer.alloc(100, 0x21), 0, 100, 0);
    fs.closeSync(handle);
    const damaged = fs.readFileSync(strategies);
    fs.writeFileSync(path.join(root, 'config/app.json'), '{"mode": 2}\n');
    await pastLastWrite();
    // The restore puts the file back and no database: the safety backup holds the two it can read.
    const restored = await restoreBackup(context, { reference: earlier.entry.id });
    assert.ok(restored.notes.some((note) => note.startsWith('data/dev/strategies.sqlite3 is not a SQLite 3 database') && note.endsWith('this restore does not replace it, and left it as it is')), restored.notes.join('\n'));
    const safety = readCatalog(new BackupLayout(context.layout, workspaceConfigFor(context)), DEV).find((e) => e.id === restored.safetyBackup);
    assert.deepEqual([safety?.databases, safety?.leftOut, safety?.keptAsFound, safety?.verified?.ok], [['settings', 'market_data'], ['strategies'], undefined, true]);
    assert.equal(restored.notes.filter((note) => note.startsWith('data/dev/strategies.sqlite3 is not a SQLite 3 database')).length, 1, `said once: ${restored.notes.join('\n')}`);
    await assert.rejects(deleteProfile(context, { id: DEV, deleteData: true }), (e: unknown) => e instanceof EnvProfilesError && e.code === 'NEEDS_BACKUP'
      && e.message.includes(`its newest verified backup, ${restored.safetyBackup}, is from `) && e.message.includes(', but it left out strategies, which exists now, so it was not deleted.')
      && (e.hint ?? '').includes('--keep-damaged'));
    assert.deepEqual(fs.readFileSync(strategies), damaged, 'the damaged file is still there');
    // The backup the refusal asks for keeps it as found, and covers the delete.
    const kept = await createBackup(context, { profileId: DEV, kind: 'full', keepDamaged: true });
    assert.equal((await verifyBackup(context, kept.entry.id)).ok, true);
    assert.equal((await deleteProfile(context, { id: DEV, deleteData: true })).coveredBy, kept.entry.id);
  });

  it('a backup that does not name a database of the profile (added with old times, as a copy that keeps them) does not cover a delete with the data: the refusal says it does not hold it', async () => {
    const { root, context } = await demoWorkspace();
    const DEV = 'dev_environment_001';
    const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
    assert.equal((await verifyBackup(context, backup.entry.id)).ok, true);
    const profileFile = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    const journal = path.join(root, 'data/dev/journal.sqlite3');
    (await engine()).open(journal, { readOnly: false, create: true }).exec('CREATE TABLE entries (x); INSERT INTO entries VALUES (1)');
    fs.writeFileSync(profileFile, fs.readFileSync(profileFile, 'utf8').replace('  databases:\n', '  databases:\n    journal: "data/dev/journal.sqlite3"\n'));
    for (const file of [journal, profileFile]) fs.utimesSync(file, new Date('2020-01-01'), new Date('2020-01-01'));
    await assert.rejects(deleteProfile(context, { id: DEV, deleteData: true }), (e: unknown) => e instanceof EnvProfilesError && e.code === 'NEEDS_BACKUP'
      && e.message.includes(`its newest verified backup, ${backup.entry.id}, is from `) && e.message.includes(', but it does not hold journal, which exists now, so it was not deleted.'));
    assert.ok(fs.existsSync(journal));
  });

  it('a profile with a damaged database: an emergency backup that kept its files as found (raw copies) covers delete, and the note says a restore does not bring it back', async () => {
    const { root, context } = await demoWorkspace();
    const TEST = 'test_environment_001';
    const market = path.join(root, 'data/test/market_data.sqlite3');
    const damaged = Buffer.concat([Buffer.from('not a database!!'), fs.readFileSync(market).subarray(16)]);
    fs.writeFileSync(market, damaged);
    await pastLastWrite();
    const emergency = runCli(['backup', '--all', '--reason', 'emergency', '--verify', '--workspace', root, '--json']);
    const made = (emergency.json?.result.backups as { id: string; profileId: string }[]).find((b) => b.profileId === TEST);
    assert.ok(made, emergency.stdout + emergency.stderr);
    const planned = await deleteProfile(context, { id: TEST, deleteData: true, dryRun: true });
    assert.deepEqual([planned.coveredBy, planned.plan?.wouldRefuse], [made.id, []]);
    assert.equal(planned.note, `market_data is in ${made.id} only as found, damaged, byte for byte: a restore does not bring it back ("unzip -p" takes the files out of the archive, under damaged/)`);
    await deleteProfile(context, { id: TEST, deleteData: true });
    assert.ok(!fs.existsSync(market));
    const archive = path.join(root, '.envprofiles/backups', TEST, `${made.id}.zip`);
    assert.deepEqual(execFileSync('unzip', ['-p', archive, 'damaged/market_data/market_data.sqlite3'], { maxBuffer: 64 * 1048576 }), damaged);
  });

  it('PRODUCTION needs --confirm; the active profile cannot be deleted', async () => {
    const { context } = await demoWorkspace();
    await pastLastWrite();
    const prod = await createBackup(context, { profileId: 'prod_environment_001' });
    await verifyBackup(context, prod.entry.id);
    await assert.rejects(deleteProfile(context, { id: 'prod_environment_001' }), (e: unknown) => e instanceof EnvProfilesError && e.code === 'CONFIRMATION_REQUIRED' && !e.message.includes('confirmation given'));
    const long = 'x'.repeat(200);
    await assert.rejects(deleteProfile(context, { id: 'prod_environment_001', confirmedId: long }), (e: unknown) => e instanceof EnvProfilesError && e.code === 'CONFIRMATION_REQUIRED'
      && e.message === `Profile "prod_environment_001" is PRODUCTION; deleting it needs confirmation. The confirmation given, "${'x'.repeat(80)}…", is not its id; nothing was changed.`);
    assert.ok(fs.existsSync(path.join(context.layout.profilesDir, 'prod_environment_001.yaml')));
    await switchProfile(context, 'prod_environment_001', { confirmedId: 'prod_environment_001' });
    await assert.rejects(deleteProfile(context, { id: 'prod_environment_001', confirmedId: 'prod_environment_001' }), (e: unknown) => e instanceof EnvProfilesError && e.code === 'PROFILE_ACTIVE');
  });
});
