import * as fs from 'node:fs';
import { missingArchives, newestFirst, profilesWithBackups, readCatalog, readCatalogOrProblem, type CatalogEntry, type UnreadableCatalogError } from './backupCatalog';
import { unmarkedFolderProblem } from './backupsFolderMark';
import { BackupLayout } from './backupLayout';
import { backupsElsewhere, type BackupsElsewhere } from './backupsElsewhere';
import { sharingWorkspaceFinder } from './backupOrigin';
import { deletedProfilesWithBackups } from './deletedProfiles';
import { earlierProfileBackupIds } from './earlierProfile';
import { settledDisagreements } from './settledCatalog';
import type { EnvProfilesError } from '../errors';
import { profileNotFoundError } from '../profileStore';
import { workspaceConfigFor } from '../workspaceConfig';
import type { WorkspaceContext } from '../workspaceContext';

// The backups of a profile (or of every profile) as `backups` lists them, with what a user must know
// beside each: a catalog that disagrees with its folder, a chain that lost an archive, backups another
// workspace made, a profile deleted, backups of an earlier profile with the same id.

export interface BackupListing {
  /** The backups folder (read from config.yaml once, for the caller too). */
  folder: BackupLayout;
  /** The profiles listed: the one named, or every one with backups. */
  profiles: string[];
  /** Every readable catalog's backups, newest first. */
  backups: CatalogEntry[];
  /** Per profile, how its catalog disagrees with its folder. */
  disagreements: Record<string, string[]>;
  /** Per profile, the backups that cannot be restored now, each with the archives of its chain that are gone. */
  unrestorable: Record<string, Record<string, string[]>>;
  /** Per profile, how many of its backups each other live workspace (sharing the folder) made. */
  sharedWith: Record<string, Record<string, number>>;
  /** Profiles with backups but no profile file (deleted; their backups were kept). */
  deletedProfiles: string[];
  /** Per profile, the backups made before the current profile with that id was created. */
  earlierProfile: Record<string, string[]>;
  /** An empty mount point where this workspace's backups were (backups.directory outside it). */
  folderProblem?: EnvProfilesError;
  /** Catalogs that cannot be read (with every profile listed; a profile named alone is refused instead). */
  unreadable: UnreadableCatalogError[];
  /** Backups of the profiles listed in a folder this workspace used before (see backupsElsewhere). */
  elsewhere: BackupsElsewhere[];
}

/** Lists the backups of `named`, or of every profile that has some. */
export async function listBackups(context: WorkspaceContext, named: string | undefined): Promise<BackupListing> {
  const config = workspaceConfigFor(context);
  const backups = new BackupLayout(context.layout, config);
  const profiles = named !== undefined ? [named] : profilesWithBackups(backups);
  // The list of every profile's backups goes on past a catalog that cannot be read (named, exit 1):
  // before, one damaged catalog hid the backups of every profile. A profile named alone is refused.
  const read = profiles.map((profileId) => (named !== undefined ? { profileId, entries: readCatalog(backups, profileId) } : { profileId, ...readCatalogOrProblem(backups, profileId) }));
  const unreadable = read.flatMap((c) => (c.unreadable ? [c.unreadable] : []));
  const catalogs = read.filter((c) => !c.unreadable);
  // A catalog that lost track of its folder (lost, restored from elsewhere, edited) would make a list
  // that is wrong without saying so; "No backups" beside a folder of archives would be alarming.
  const disagreements: Record<string, string[]> = {};
  for (const catalog of catalogs) {
    // Read again after a change of the catalog under way (a workspace sharing the folder), as it stands then.
    const first = catalog.entries;
    const settled = await settledDisagreements(backups, catalog.profileId, () => {
      const again = readCatalogOrProblem(backups, catalog.profileId);
      return again.unreadable ? first : again.entries;
    }, first);
    catalog.entries = settled.entries;
    if (settled.disagreements.length > 0) disagreements[catalog.profileId] = settled.disagreements;
  }
  const entries = catalogs.flatMap((c) => c.entries).sort(newestFirst);
  // Backups that cannot be restored now: their own archive, or one their chain builds on, is gone.
  const unrestorable: Record<string, Record<string, string[]>> = {};
  for (const { profileId, entries: listed } of catalogs) {
    const missing = missingArchives(backups, profileId, listed);
    if (missing.size > 0) unrestorable[profileId] = Object.fromEntries(missing);
  }
  // Backups another workspace made into this folder (the same profile id, a shared backups.directory).
  const sharedWith: Record<string, Record<string, number>> = {};
  const otherLiveWorkspace = sharingWorkspaceFinder(context.layout, backups);
  for (const { profileId, entries: listed } of catalogs) {
    for (const entry of listed) {
      const other = otherLiveWorkspace(entry.origin);
      if (other) (sharedWith[profileId] ??= {})[other] = (sharedWith[profileId]?.[other] ?? 0) + 1;
    }
  }
  // A profile that was deleted keeps its backups.
  const deletedProfiles = deletedProfilesWithBackups(context.layout, backups, (id) => catalogs.find((c) => c.profileId === id)?.entries ?? []);
  // Backups of an earlier profile whose id a new profile took (the new one's created_at tells them apart).
  const earlierProfile: Record<string, string[]> = {};
  for (const { profileId, entries: listed } of catalogs) {
    const ids = deletedProfiles.includes(profileId) ? [] : earlierProfileBackupIds(context.layout, config, profileId, listed.filter((e) => !otherLiveWorkspace(e.origin)), context.now());
    if (ids.length > 0) earlierProfile[profileId] = ids;
  }
  // Backups of the profiles listed in a folder used before backups.directory changed.
  const elsewhere = backupsElsewhere(backups)
    .map((found) => ({ ...found, backups: Object.fromEntries(Object.entries(found.backups).filter(([profileId]) => named === undefined || profileId === named)) }))
    .filter((found) => Object.keys(found.backups).length > 0);
  // No backups and no profile of that name: most likely a typo of an id.
  if (entries.length === 0 && elsewhere.length === 0 && named !== undefined && !fs.existsSync(context.layout.profileFile(named))) throw profileNotFoundError(context.layout, config, named);
  const folderProblem = unmarkedFolderProblem(context.layout, backups);
  return { folder: backups, profiles, backups: entries, disagreements, unrestorable, sharedWith, deletedProfiles, earlierProfile, ...(folderProblem ? { folderProblem } : {}), unreadable, elsewhere };
}
