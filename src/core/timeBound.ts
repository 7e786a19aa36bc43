import { EnvProfilesError } from './errors';
import { instantOnLocalClock, localTimeZone } from './localTime';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

const FORMS = 'a date (2026-12-07, its start), a date and time on the local clock as lists show it (2026-12-07 14:30, or 2026-12-07T14:30:00; add Z or +01:00 for another zone), or how long ago (90m, 36h, 2d, 1w)';

/**
 * A moment the user names on the command line (`--before`): a date, a date and time on the local clock
 * (every time the CLI shows is on it, its zone named) or with a zone of its own, or a span before `now`.
 * Anything else, or a date no calendar has (2026-02-30), is a usage error that names the forms.
 */
export function parseTimeBound(text: string, option: string, now: Date, timeZone = localTimeZone()): Date {
  const given = text.trim();
  const ago = /^(\d{1,6})\s*([mhdw])(?:\s+ago)?$/i.exec(given);
  if (ago) return new Date(now.getTime() - Number(ago[1]) * UNIT_MS[ago[2].toLowerCase()]);
  const dated = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.exec(given);
  if (dated) {
    const [year, month, day, hour, minute, second] = dated.slice(1, 7).map((part) => Number(part ?? 0));
    // Lists show times to the second: a time without a fraction stands for the whole of its second, so that
    // a backup listed at 16:07:16 (taken at 16:07:16.645) is "at or before 16:07:16". One as catalogs and
    // JSON give it, with milliseconds, is exact.
    const milliseconds = dated[7] === undefined ? 999 : Math.round(Number(dated[7]) * 1000);
    const zone = dated[8];
    const asUtc = new Date(Date.UTC(year, month - 1, day, hour, minute, second, milliseconds));
    // Date.UTC rolls 2026-02-30 over into March: a date that does not come back as written is none.
    const real = asUtc.getUTCFullYear() === year && asUtc.getUTCMonth() === month - 1 && asUtc.getUTCDate() === day && hour < 24 && minute < 60 && second < 60;
    if (real) {
      if (zone === undefined) return new Date(instantOnLocalClock({ year, month, day, hour, minute, second }, timeZone).getTime() + milliseconds);
      if (zone.toUpperCase() === 'Z') return asUtc;
      const [, sign, hours, minutes] = /^([+-])(\d{2}):?(\d{2})$/.exec(zone) as RegExpExecArray;
      return new Date(asUtc.getTime() - (sign === '-' ? -1 : 1) * (Number(hours) * 60 + Number(minutes)) * 60_000);
    }
  }
  throw new EnvProfilesError('USAGE', `--${option} "${text}" is not a time this command reads.`, { kind: 'usage', hint: `Give ${FORMS}.` });
}
