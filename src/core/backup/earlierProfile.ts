import type { Profile } from '../profileModel';
import { readProfileFile } from '../profileStore';
import type { WorkspaceConfig } from '../workspaceConfig';
import type { WorkspaceLayout } from '../workspaceLayout';
import { oldestFirst, readCatalog, type CatalogEntry } from './backupCatalog';
import { BackupLayout } from './backupLayout';
import { sharingWorkspaceFinder } from './backupOrigin';
import { counted } from '../counted';

/**
 * A profile that was deleted keeps its backups, under its id. When a new profile is made with that id
 * (create, clone, restore --as-new), those backups list under it, but they hold the data of the earlier
 * profile. The new profile's `created_at` tells them apart: a backup made before it is of the earlier
 * profile. A `created_at` that is missing, or later than now (a clock that was ahead), tells nothing.
 */
function currentProfileSince(profile: Pick<Profile, 'createdAt'>, now: Date): number | undefined {
  if (profile.createdAt === undefined) return undefined;
  const since = Date.parse(profile.createdAt);
  return Number.isNaN(since) || since > now.getTime() ? undefined : since;
}

/** The backups (of `entries`, the profile's catalog) made of an earlier profile that had the same id. */
export function backupsOfEarlierProfile<Entry extends Pick<CatalogEntry, 'createdAt'>>(entries: Entry[], profile: Pick<Profile, 'createdAt'>, now: Date): Entry[] {
  const since = currentProfileSince(profile, now);
  return since === undefined ? [] : entries.filter((entry) => Date.parse(entry.createdAt) < since);
}

/** The backups of one profile among several that had the same id one after another. */
export interface ProfileGeneration {
  /** That profile's `created_at`; undefined for backups older than every one known. */
  createdAt?: string;
  /** Oldest first. */
  backups: CatalogEntry[];
}

function isDate(text: string | undefined): text is string {
  return text !== undefined && !Number.isNaN(Date.parse(text));
}

/**
 * Splits the backups of profiles that had one id (deleted one after another) into each profile's, oldest
 * profile first. A backup records its profile's `created_at`; one made before backups recorded it
 * belongs to the newest profile created at or before it was made, and those made before every known
 * `created_at` form one group (as all did before).
 */
export function generationsOf(entries: CatalogEntry[]): ProfileGeneration[] {
  const starts = [...new Set(entries.map((e) => e.profileCreatedAt).filter(isDate))].sort((a, b) => Date.parse(a) - Date.parse(b));
  const groups = new Map<string | undefined, CatalogEntry[]>();
  for (const entry of [...entries].sort(oldestFirst)) {
    const made = Date.parse(entry.createdAt);
    const key = isDate(entry.profileCreatedAt) ? entry.profileCreatedAt : starts.filter((start) => Date.parse(start) <= made).pop();
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === undefined ? -Infinity : Date.parse(a)) - (b === undefined ? -Infinity : Date.parse(b)))
    .map(([createdAt, backups]) => ({ ...(createdAt !== undefined ? { createdAt } : {}), backups }));
}

/** What a new profile that reuses the id of a deleted one is told about the backups it finds under that id. */
function earlierBackupsNote(profileId: string, earlier: CatalogEntry[]): string | undefined {
  if (earlier.length === 0) return undefined;
  const newest = earlier[earlier.length - 1];
  return `${counted(earlier.length, 'backup')} of an earlier profile with the id ${profileId} (deleted; the newest from ${newest.createdAt}) ${earlier.length === 1 ? 'is kept and lists' : 'are kept and list'} under this profile. ` +
    `${earlier.length === 1 ? 'It holds' : 'They hold'} that profile's data: restoring ${earlier.length === 1 ? 'it' : 'one'} over ${profileId} replaces this profile's databases (after a safety backup); restore ${earlier.length === 1 ? 'it' : 'one'} with --as-new <id> to keep them apart. ` +
    `This profile's first backup is a full one.`;
}

/**
 * For a profile just made (create, clone, restore --as-new): the note on the backups of an earlier profile
 * with its id, if there are any. A catalog that cannot be read is left to the backup commands to report.
 */
export function earlierBackupsNoteFor(layout: WorkspaceLayout, config: WorkspaceConfig, profile: Pick<Profile, 'id' | 'createdAt'>, now: Date): string | undefined {
  const backups = new BackupLayout(layout, config);
  let entries: CatalogEntry[];
  try {
    entries = readCatalog(backups, profile.id);
  } catch {
    return undefined;
  }
  // Another workspace's backups in a shared folder are that workspace's live profile's, not a deleted one's.
  const otherWorkspace = sharingWorkspaceFinder(layout, backups);
  return earlierBackupsNote(profile.id, backupsOfEarlierProfile(entries.filter((e) => !otherWorkspace(e.origin)), profile, now));
}

/**
 * The ids of the backups in `entries` (a profile's catalog) made of an earlier profile with its id, judged
 * by the profile file there now (none when there is no readable one: then they are a deleted profile's).
 */
export function earlierProfileBackupIds(layout: WorkspaceLayout, config: WorkspaceConfig, profileId: string, entries: CatalogEntry[], now: Date): string[] {
  const { profile } = readProfileFile(layout, config, profileId);
  return profile ? backupsOfEarlierProfile(entries, profile, now).map((entry) => entry.id) : [];
}
