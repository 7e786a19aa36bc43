/**
 * A TZ in the POSIX form with daylight saving rules (`CET-1CEST,M3.5.0,M10.5.0/3`, as OpenWrt, BusyBox
 * images and many embedded systems set it). The C library, and so `date` and the user's application,
 * read it; Node's time zone database does not, and its clock runs on UTC then. The local clock of such a
 * TZ is computed here from its rules, as the C library computes it.
 *
 * The form: `std offset [dst [offset] [,start[/time],end[/time]]]`. Offsets count west of Greenwich
 * (`-1` is an hour east); the daylight offset is an hour east of the standard one unless given; a rule
 * is `Jn` (day 1–365, February 29 never counted), `n` (day 0–365, counted) or `Mm.w.d` (day d, 0 =
 * Sunday, of week w, 5 = the last, of month m); a time is local, 02:00 unless given, and may be
 * negative or past 24 hours. A TZ with daylight saving and no rules (`CET-1CEST`) takes the United
 * States' rules, as musl does; glibc takes the transitions of its `posixrules` file (New York's), which
 * lands within hours of these twice a year (Node reads such a TZ as UTC, hours off all year).
 */

export interface PosixTimeZone {
  /** Seconds east of UTC outside daylight saving time. */
  standardEast: number;
  daylightEast: number;
  start: TransitionRule;
  end: TransitionRule;
}

interface TransitionRule {
  day: { kind: 'julian'; n: number } | { kind: 'zero-based'; n: number } | { kind: 'month'; month: number; week: number; weekday: number };
  /** Seconds after local midnight. */
  time: number;
}

const NAME = String.raw`(?:[A-Za-z]{3,}|<[A-Za-z0-9+-]{3,}>)`;
const OFFSET = String.raw`[+-]?\d{1,3}(?::\d{1,2}){0,2}`;
const RULE = String.raw`(?:J\d{1,3}|\d{1,3}|M\d{1,2}\.\d\.\d)(?:\/${OFFSET})?`;
const FORM = new RegExp(`^${NAME}(${OFFSET})${NAME}(${OFFSET})?(?:,(${RULE}),(${RULE}))?$`);

/** The United States' rules since 2007, which musl takes for a TZ with daylight saving and no rules. */
const DEFAULT_RULES = ['M3.2.0', 'M11.1.0'];

/** The TZ's zone when it is in the POSIX form with daylight saving time; else undefined. */
export function parsePosixTimeZone(tz: string): PosixTimeZone | undefined {
  const form = FORM.exec(tz);
  if (!form) return undefined;
  const standardWest = seconds(form[1]);
  if (standardWest === undefined) return undefined;
  const daylightWest = form[2] === undefined ? standardWest - 3600 : seconds(form[2]);
  const start = transitionRule(form[3] ?? DEFAULT_RULES[0]);
  const end = transitionRule(form[4] ?? DEFAULT_RULES[1]);
  if (daylightWest === undefined || !start || !end) return undefined;
  return { standardEast: -standardWest, daylightEast: -daylightWest, start, end };
}

/** Seconds east of UTC on the zone's clock at the instant `epochMs`. */
export function posixOffsetAt(zone: PosixTimeZone, epochMs: number): number {
  // The rules of the year UTC is in, as the C library takes them (a zone with daylight saving time all
  // year, `J1/0,J365/25`, is on standard time for the hours the two years' rules leave between them).
  const year = new Date(epochMs).getUTCFullYear();
  const starts = transitionAt(zone.start, year) - zone.standardEast * 1000;
  const ends = transitionAt(zone.end, year) - zone.daylightEast * 1000;
  const daylight = starts < ends ? epochMs >= starts && epochMs < ends : epochMs < ends || epochMs >= starts;
  return daylight ? zone.daylightEast : zone.standardEast;
}

/** `hh[:mm[:ss]]` with an optional sign, in seconds; undefined when a part is out of range. */
function seconds(text: string): number | undefined {
  const sign = text.startsWith('-') ? -1 : 1;
  const [hours, minutes = 0, secs = 0] = text.replace(/^[+-]/, '').split(':').map(Number);
  if (hours > 167 || minutes > 59 || secs > 59) return undefined;
  return sign * (hours * 3600 + minutes * 60 + secs);
}

function transitionRule(text: string): TransitionRule | undefined {
  const [dayText, timeText] = text.split('/');
  const time = timeText === undefined ? 7200 : seconds(timeText);
  if (time === undefined) return undefined;
  if (dayText.startsWith('J')) {
    const n = Number(dayText.slice(1));
    return n >= 1 && n <= 365 ? { day: { kind: 'julian', n }, time } : undefined;
  }
  if (dayText.startsWith('M')) {
    const [month, week, weekday] = dayText.slice(1).split('.').map(Number);
    const valid = month >= 1 && month <= 12 && week >= 1 && week <= 5 && weekday <= 6;
    return valid ? { day: { kind: 'month', month, week, weekday }, time } : undefined;
  }
  const n = Number(dayText);
  return n <= 365 ? { day: { kind: 'zero-based', n }, time } : undefined;
}

/** The rule's instant in `year`, as milliseconds since the epoch on a clock that reads UTC. */
function transitionAt(rule: TransitionRule, year: number): number {
  const day = rule.day;
  let midnight: number;
  if (day.kind === 'julian') {
    // Day 60 is March 1 in every year: February 29 is not counted.
    midnight = Date.UTC(year, 0, day.n) + (isLeapYear(year) && day.n >= 60 ? 86_400_000 : 0);
  } else if (day.kind === 'zero-based') {
    midnight = Date.UTC(year, 0, day.n + 1);
  } else {
    const firstWeekday = new Date(Date.UTC(year, day.month - 1, 1)).getUTCDay();
    let date = 1 + ((day.weekday - firstWeekday + 7) % 7) + (day.week - 1) * 7;
    const daysInMonth = new Date(Date.UTC(year, day.month, 0)).getUTCDate();
    while (date > daysInMonth) date -= 7;
    midnight = Date.UTC(year, day.month - 1, date);
  }
  return midnight + rule.time * 1000;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}
