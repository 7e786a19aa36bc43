import { counted } from '../counted';
import { localParts } from '../localTime';
import { holdsDataExactly, newestFirst as byNewestFirst, verificationStatus, type CatalogEntry } from './backupCatalog';
import { chainFault, chainFaultWords } from './verifiedArchives';

/**
 * restic-style keep rules plus `retention_days`, from the profile's backup_schedule. `retention_days` is
 * counted back from now (restic's --keep-within counts from the newest backup): a backup older than that
 * is one no rule keeps, and the newest backup is kept whatever its age (decideRetention).
 */
export interface KeepRules {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  withinDays?: number;
}

export interface RetentionDecision {
  id: string;
  createdAt: string;
  kind: CatalogEntry['kind'];
  action: 'keep' | 'delete';
  /** Every rule that kept it, or why it goes. */
  reasons: string[];
}

type Bucket = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';
const BUCKETS: Bucket[] = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'];

/** ISO-8601 week of a calendar date (weeks start on Monday; week 1 holds the year's first Thursday). */
function isoWeek(year: number, month: number, day: number): string {
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const weekYear = date.getUTCFullYear();
  const week = Math.ceil(((date.getTime() - Date.UTC(weekYear, 0, 1)) / 86400000 + 1) / 7);
  return `${weekYear}-W${String(week).padStart(2, '0')}`;
}

function bucketOf(bucket: Bucket, iso: string, timeZone: string): string {
  const p = localParts(iso, timeZone);
  const pad = (n: number): string => String(n).padStart(2, '0');
  switch (bucket) {
    case 'hourly':
      return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}h`;
    case 'daily':
      return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
    case 'weekly':
      return isoWeek(p.year, p.month, p.day);
    case 'monthly':
      return `${p.year}-${pad(p.month)}`;
    case 'yearly':
      return `${p.year}`;
  }
}

/** True when no rule is set: then nothing is deleted. */
export function hasRules(rules: KeepRules): boolean {
  // As in restic, 0 is "not this rule": `keep: {last: 0}` alone is no rule (before, it kept nothing,
  // and prune deleted every backup but the newest verified one, the newest backup included).
  return Object.values(rules).some((v) => v !== undefined && v > 0);
}

/**
 * Decides, for every backup, keep or delete and why. Rules as in restic, among the backups that can be
 * restored (not failed verification on their archive, their whole chain listed and not failed either):
 * `last n` keeps the n newest;
 * each bucket rule keeps the newest backup of each of the n newest periods (local time); `withinDays`
 * keeps everything younger. Then the safety rules override: the newest backup and the newest verified
 * one that can be restored are always kept (and the newest that holds its data exactly, when its data failed the checks),
 * and every backup that a kept incremental depends on is kept. Backups in `pinned` (id to reason: another
 * workspace's) and backups dated after `now` are kept and are not counted by the rules, which decide
 * among the others only.
 */
export function decideRetention(entries: CatalogEntry[], rules: KeepRules, now: Date, timeZone: string, pinned: ReadonlyMap<string, string> = new Map()): RetentionDecision[] {
  const newestFirst = [...entries].sort(byNewestFirst);
  const reasons = new Map<string, string[]>(newestFirst.map((e) => [e.id, []]));
  const add = (id: string, reason: string): void => {
    reasons.get(id)?.push(reason);
  };
  for (const [id, reason] of pinned) add(id, reason);
  // A backup dated after now was made while the clock was ahead (or before it was set back): its date
  // says nothing of its age, and sorted by it, it would pass for newer than the backups made since
  // (with `last: 1`, the newest one would go). So it is kept, and the rules decide among the others.
  const undatable = new Set(newestFirst.filter((e) => !pinned.has(e.id) && Date.parse(e.createdAt) > now.getTime()).map((e) => e.id));
  for (const id of undatable) add(id, 'dated after now (made while the clock was ahead): its age cannot be judged');
  const ruled = newestFirst.filter((e) => !pinned.has(e.id) && !undatable.has(e.id));
  // A backup that cannot be restored (its archive failed verification, or its chain lost an archive or
  // holds one that failed) takes none of the places the counting rules give, which go to backups that
  // restore (before, with `last: 3`, two such backups took two places and the older full, the only
  // other that restored, was deleted).
  const listed = new Map(newestFirst.map((e) => [e.id, e]));
  const unrestorable = (e: CatalogEntry): string | undefined => {
    if (verificationStatus(e) === 'failed') return 'it FAILED verification';
    const fault = chainFault(e, listed);
    return fault ? `its chain ${chainFaultWords(fault)}` : undefined;
  };
  const restorable = (e: CatalogEntry): boolean => unrestorable(e) === undefined;
  const countable = ruled.filter(restorable);
  if (!hasRules(rules)) for (const e of ruled) add(e.id, Object.keys(rules).length > 0 ? 'every keep rule is 0 (none): everything is kept' : 'no keep rules: everything is kept');
  countable.slice(0, rules.last ?? 0).forEach((e, i) => add(e.id, `last ${i + 1}/${rules.last}`));
  for (const bucket of BUCKETS) {
    const limit = rules[bucket] ?? 0;
    const seen = new Set<string>();
    for (const e of countable) {
      if (seen.size >= limit) break;
      const key = bucketOf(bucket, e.createdAt, timeZone);
      if (seen.has(key)) continue;
      seen.add(key);
      add(e.id, `${bucket} ${seen.size}/${limit} (${key})`);
    }
  }
  if (rules.withinDays !== undefined) {
    const limit = now.getTime() - rules.withinDays * 86400000;
    for (const e of ruled) if (Date.parse(e.createdAt) >= limit) add(e.id, `within ${counted(rules.withinDays, 'day')}`);
  }
  // Nor is a verified one that cannot be restored the verified backup prune relies on: that is the
  // newest one that can.
  const newestVerified = ruled.find((e) => e.verified?.ok && restorable(e));
  if (newestVerified) add(newestVerified.id, 'newest verified backup (never deleted)');
  // When that one left a database out (an emergency backup saves what it can), the newest verified
  // backup that holds every database is kept as well.
  const newestWhole = newestVerified?.leftOut ? ruled.find((e) => e.verified?.ok && !e.leftOut && restorable(e)) : undefined;
  if (newestWhole) add(newestWhole.id, 'newest verified backup that holds every database (never deleted)');
  // Where every backup fails verify for its data alone (an application without foreign keys), the newest
  // one verified to hold its data exactly is what delete relied on: it is kept too.
  const newestExact = ruled.find((e) => holdsDataExactly(e) && restorable(e));
  if (newestExact && newestExact !== newestVerified) add(newestExact.id, 'newest backup verified to hold its data exactly, problems the data already had included (never deleted)');
  // A prune never leaves the profile without its latest state: with backups that stopped for longer
  // than retention_days (and none verified), the rules kept nothing, and every backup went.
  // The newest of all, also when it cannot be restored (it takes no place of the rules, but a prune
  // keeps what may be the only copy of the latest state of the databases it does hold).
  const newest = ruled[0];
  if (newest && (reasons.get(newest.id) ?? []).length === 0) add(newest.id, 'newest backup (never deleted: the profile\'s latest state)');
  // Dependencies: a kept incremental needs its whole chain.
  for (const e of newestFirst) {
    if ((reasons.get(e.id) ?? []).length === 0) continue;
    for (const ancestor of e.chain) if (listed.has(ancestor) && !(reasons.get(ancestor) ?? []).some((r) => r === `needed by ${e.id}`)) add(ancestor, `needed by ${e.id}`);
  }
  return newestFirst.map((e) => {
    const kept = reasons.get(e.id) ?? [];
    const why = unrestorable(e);
    const unkept = why ? `no rule keeps it (nor can it be restored: ${why})` : 'no rule keeps it';
    return { id: e.id, createdAt: e.createdAt, kind: e.kind, action: kept.length > 0 ? 'keep' : 'delete', reasons: kept.length > 0 ? kept : [unkept] };
  });
}

/**
 * A decision's reasons in one line, for people: the later backups that need this one are folded into
 * one reason (the newest named), so that a full backup under a long chain is one line, not seven.
 */
export function reasonsText(reasons: string[]): string {
  const neededBy = reasons.filter((r) => r.startsWith('needed by '));
  if (neededBy.length < 2) return reasons.join('; ');
  const more = neededBy.length - 1;
  const folded = `${neededBy[0]} and ${more} later backup${more === 1 ? '' : 's'} of its chain`;
  return [...reasons.filter((r) => !neededBy.includes(r)), folded].join('; ');
}

/** The rules of a profile's backup_schedule: only those written (so that "every rule is 0" is said of rules that are there). */
export function keepRulesFrom(schedule: Record<string, unknown> | undefined): KeepRules {
  const keep = (schedule?.keep ?? {}) as Record<string, number>;
  const rules: KeepRules = {};
  for (const rule of ['last', ...BUCKETS] as const) if (keep[rule] !== undefined) rules[rule] = keep[rule];
  if (typeof schedule?.retention_days === 'number') rules.withinDays = schedule.retention_days;
  return rules;
}

/** The rules in one line, for people: "within 30 days, last 5, daily 7", or what having none means. */
export function keepRulesText(rules: KeepRules): string {
  const written = [
    ...(rules.withinDays !== undefined ? [`within ${counted(rules.withinDays, 'day')}`] : []),
    ...(['last', ...BUCKETS] as const).filter((rule) => (rules[rule] ?? 0) > 0).map((rule) => `${rule} ${rules[rule]}`),
  ];
  return written.length > 0 ? written.join(', ') : 'no rules (prune keeps every backup)';
}
