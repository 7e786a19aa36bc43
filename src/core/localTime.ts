/**
 * Instants as the user's calendar and clock show them. Catalogs and JSON keep UTC (ISO-8601); what a
 * person reads, and what retention's hourly/daily/weekly rules count, is in the local time zone.
 */

import * as fs from 'node:fs';
import { parsePosixTimeZone, posixOffsetAt, type PosixTimeZone } from './posixTimeZone';

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The local calendar parts of an instant in `timeZone` (DST included). */
export function localParts(iso: string, timeZone: string): LocalParts {
  const rules = posixRulesOf(timeZone);
  if (rules) return utcParts(shiftedBy(rules, new Date(iso)));
  const parts = partsFormatter(timeZone).formatToParts(new Date(iso));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second') };
}

// Making a formatter costs about 0.1 ms (ICU loads the zone's rules); a list of a year of hourly backups
// called for tens of thousands of them (`backups` of 1,000 took 0.9 s, 0.35 s of it here).
const formatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * The machine's time zone (TZ, or the system's). A TZ the time zone database does not know, and that is
 * in no POSIX form (see posixRulesZone, fixedOffsetZone), reads as UTC, as the C library reads it and as
 * Node's clock then runs: an empty TZ (which made every command that shows a time fail with INTERNAL,
 * "Invalid time zone specified: Etc/Unknown"), a misspelt name (shown as "undefined"). A TZ that names a
 * zone file (`:/etc/localtime`, which some systemd services set, or `/usr/share/zoneinfo/Europe/Berlin`)
 * is the zone of that file: Node's clock runs on it, but Intl resolves no name for it. So is one in the
 * POSIX form with a fixed offset (see fixedOffsetZone).
 */
export function localTimeZone(): string {
  // Resolved once per value of TZ (Node follows a TZ changed at run time, so must this).
  const tz = process.env.TZ;
  if (lastZone && lastZone.tz === tz) return lastZone.zone;
  // For a TZ of a file, Intl's name is not to be trusted: ICU names only files below its zoneinfo
  // folder, and may answer with the system's zone (/etc/localtime) for any other.
  const resolved = Intl.DateTimeFormat().resolvedOptions().timeZone as string | undefined;
  const zone = zoneOfFile(tz) ?? posixRulesZone(tz) ?? (resolved && isKnownTimeZone(resolved) ? resolved : undefined) ?? fixedOffsetZone() ?? 'UTC';
  lastZone = { tz, zone };
  return zone;
}

/** The zone a TZ of a file path names: the file's real path below a `zoneinfo` folder; else undefined. */
function zoneOfFile(tz: string | undefined): string | undefined {
  const file = tz?.startsWith(':') ? tz.slice(1) : tz;
  if (!file?.startsWith('/')) return undefined;
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch {
    return undefined;
  }
  const below = real.lastIndexOf('/zoneinfo/');
  if (below < 0) return undefined;
  // posix/ and right/ hold the same zones (right/ with leap seconds, which Intl does not count).
  const name = real.slice(below + '/zoneinfo/'.length).replace(/^(posix|right)\//, '');
  return isKnownTimeZone(name) ? name : undefined;
}

let lastZone: { tz: string | undefined; zone: string } | undefined;

/**
 * The zone of a TZ in the POSIX form with one fixed offset (`JST-9`, `CST-8`, `EST5`: set on embedded
 * systems and in images made for them), which has no name in the time zone database though Node's
 * clock runs on it (before: times were shown, and prune's daily rules counted, in UTC, 9 hours off).
 * Its offset as Intl takes it (`+09:00`, Node 22 and later), else as `Etc/GMT-9` (whole hours; the sign
 * of those names is the other way round). None for a TZ with daylight saving rules, or one Node's clock
 * reads as UTC.
 */
function fixedOffsetZone(): string | undefined {
  const year = new Date().getUTCFullYear();
  const behind = new Date(Date.UTC(year, 0, 1)).getTimezoneOffset();
  if (behind === 0 || behind !== new Date(Date.UTC(year, 6, 1)).getTimezoneOffset()) return undefined;
  const ahead = Math.abs(behind);
  const offset = `${behind < 0 ? '+' : '-'}${String(Math.floor(ahead / 60)).padStart(2, '0')}:${String(ahead % 60).padStart(2, '0')}`;
  if (isKnownTimeZone(offset)) return offset;
  return ahead % 60 === 0 ? `Etc/GMT${behind < 0 ? '-' : '+'}${ahead / 60}` : undefined;
}

/**
 * A TZ in the POSIX form with daylight saving time that the time zone database does not name
 * (`CET-1CEST,M3.5.0,M10.5.0/3`): the zone is the TZ itself, its clock computed from its rules as the C
 * library and `date` compute it (before: UTC, as Node's clock reads it, and prune's daily rules counted
 * UTC days). `EST5EDT` and its kin are names in the database, and keep them.
 */
function posixRulesZone(tz: string | undefined): string | undefined {
  return tz && posixRulesOf(tz) ? tz : undefined;
}

const posixZones = new Map<string, PosixTimeZone | undefined>();

/** The daylight saving rules of a zone in the POSIX form that the time zone database does not name. */
function posixRulesOf(zone: string): PosixTimeZone | undefined {
  if (!posixZones.has(zone)) {
    const rules = parsePosixTimeZone(zone);
    // Only a zone without rules after a comma can be a name in the database, and only then is Intl
    // asked (its first use costs 12–14 ms).
    posixZones.set(zone, rules && (zone.includes(',') || !isKnownTimeZone(zone)) ? rules : undefined);
  }
  return posixZones.get(zone);
}

function utcParts(at: Date): LocalParts {
  return { year: at.getUTCFullYear(), month: at.getUTCMonth() + 1, day: at.getUTCDate(), hour: at.getUTCHours(), minute: at.getUTCMinutes(), second: at.getUTCSeconds() };
}

/** The instant moved by the zone's offset then: its UTC parts are those of the zone's clock. */
function shiftedBy(rules: PosixTimeZone, when: Date): Date {
  return new Date(when.getTime() + posixOffsetAt(rules, when.getTime()) * 1000);
}

/**
 * The parts of `when` on the local clock, without Intl: Node's clock, but for a TZ of POSIX daylight
 * saving rules, which Node reads as UTC. For the dates of archive entries, in every backup.
 */
export function localClockParts(when: Date): LocalParts {
  // Node's clock is the zone's for every TZ but one of POSIX rules, which it runs as UTC (an offset of 0;
  // asked only then, as the rules of `EST5EDT` and its kin, names in the database, cost Intl's start).
  const tz = process.env.TZ;
  const rules = tz && when.getTimezoneOffset() === 0 ? posixRulesOf(tz) : undefined;
  if (rules) return utcParts(shiftedBy(rules, when));
  return { year: when.getFullYear(), month: when.getMonth() + 1, day: when.getDate(), hour: when.getHours(), minute: when.getMinutes(), second: when.getSeconds() };
}

const knownZones = new Map<string, boolean>();

function isKnownTimeZone(zone: string): boolean {
  let known = knownZones.get(zone);
  if (known === undefined) {
    known = canFormatIn(zone);
    knownZones.set(zone, known);
  }
  return known;
}

function canFormatIn(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Which fields an instant is written with, as toLocaleDateString, toLocaleTimeString and toLocaleString pick them. */
const CLOCK_FIELDS: Record<'date' | 'time' | 'date-time', Intl.DateTimeFormatOptions> = {
  date: { year: 'numeric', month: 'numeric', day: 'numeric' },
  time: { hour: 'numeric', minute: 'numeric', second: 'numeric' },
  'date-time': { year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' },
};

const clockFormatters = new Map<string, Intl.DateTimeFormat>();

/**
 * An instant in the user's locale (or `locale`) on the local clock (the extension's lists and dialogs):
 * its date, its time, or both, as toLocaleDateString and its kin write them. The zone is named, since
 * without it a TZ that names a zone file reads as a fixed offset (GMT+01:00 all year for Europe/Berlin).
 * The formatters are kept: making one takes about 0.1 ms, which the tree paid twice for each backup.
 */
export function onLocalClock(when: Date, fields: keyof typeof CLOCK_FIELDS = 'date-time', locale?: string): string {
  const zone = localTimeZone();
  const rules = posixRulesOf(zone);
  // A zone of POSIX rules has no name for Intl: its clock is written as UTC's of the shifted instant.
  const timeZone = rules ? 'UTC' : zone;
  const key = `${fields} ${timeZone} ${locale ?? ''}`;
  let formatter = clockFormatters.get(key);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(locale, { timeZone, ...CLOCK_FIELDS[fields] });
    clockFormatters.set(key, formatter);
  }
  return formatter.format(rules ? shiftedBy(rules, when) : when);
}

/** `2026-12-02 05:19:43`: an instant on the local clock of `timeZone`, to the second. */
export function localTimestamp(iso: string, timeZone = localTimeZone()): string {
  const p = localParts(iso, timeZone);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
}

/** `2026-12-02 05:19:43 (Europe/Berlin)`: localTimestamp with its zone named, as the CLI shows a time. */
export function localTimestampWithZone(iso: string): string {
  const zone = localTimeZone();
  return `${localTimestamp(iso, zone)} (${zone})`;
}

/**
 * The instant at which the clock of `timeZone` shows `parts`. A time the clock skips (the hour a
 * change to summer time leaves out) is read with the offset from before the change, as if the clock had
 * not jumped: 02:30 becomes 03:30 summer time. One the clock shows twice is the later of the two.
 */
export function instantOnLocalClock(parts: LocalParts, timeZone = localTimeZone()): Date {
  const wanted = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  const offsetAt = (ms: number): number => {
    const shown = localParts(new Date(ms).toISOString(), timeZone);
    return Date.UTC(shown.year, shown.month - 1, shown.day, shown.hour, shown.minute, shown.second) - ms;
  };
  const first = wanted - offsetAt(wanted);
  const offset = offsetAt(first);
  const second = wanted - offset;
  // Where the offset is the same at the answer as the one it was worked out with, the clock shows `parts` there.
  if (offsetAt(second) === offset) return new Date(second);
  return new Date(Math.max(first, second));
}

/** What `age` says of a time after now. */
export const DATED_AFTER_NOW = 'dated after now';

/**
 * "3 min ago" style ages for backups and validations. A time more than a minute after `now` (a backup
 * made while the clock was ahead) has no age to show: it says so rather than "0 s ago".
 */
export function age(iso: string, now = Date.now()): string {
  const ahead = Date.parse(iso) - now;
  if (ahead > 60_000) return DATED_AFTER_NOW;
  const seconds = Math.max(0, Math.round(-ahead / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}
