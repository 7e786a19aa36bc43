import * as fs from 'node:fs';
import type { Profile } from '../profileModel';
import type { WorkspaceContext } from '../workspaceContext';
import { readCatalogOrProblem, verificationStatus, type CatalogEntry, type UnreadableCatalogError } from './backupCatalog';
import { backupsOfEarlierProfile } from './earlierProfile';
import { BackupLayout } from './backupLayout';
import { sharingWorkspaceFinder } from './backupOrigin';
import type { BackupKind } from './backupManifest';
import type { RequestedKind } from './backupRequest';

// Whether a backup is full or incremental, and on which parent: the newest of this workspace's backups of
// this profile whose archive is there, on a sound chain shorter than max_chain; else full, saying why.

/** Chooses full or incremental: incremental needs a parent, and the chain must be shorter than max_chain. */
function chooseParent(entries: CatalogEntry[], requested: RequestedKind, maxChain: number, backups: BackupLayout, now: Date): { kind: BackupKind; parent?: CatalogEntry; note?: string } {
  if (requested === 'full') return { kind: 'full' };
  const parent = newestPresentParent(entries, backups, now);
  if (!parent) return { kind: 'full', note: requested === 'incremental' ? 'no earlier backup to build on, so this one is full' : undefined };
  // An incremental on a chain that lost an archive could never be restored.
  const lost = parent.chain.find((id) => !fs.existsSync(backups.archiveFile(parent.profileId, id)));
  if (lost) return { kind: 'full', note: `the chain of ${parent.id} lost the archive of ${lost}, so this one is full` };
  // Nor on one with an archive known or seen to be damaged: it failed its last verification, or it is
  // no longer the size the catalog recorded. (A full backup is always sound to take.)
  for (const link of [...parent.chain, parent.id].map((id) => entries.find((e) => e.id === id))) {
    if (!link) continue;
    const where = link.id === parent.id ? '' : ` (in the chain of ${parent.id})`;
    // One that failed only because of its data (orphan rows, say) is an intact archive: the chain goes on.
    if (verificationStatus(link) === 'failed') return { kind: 'full', note: `${link.id}${where} failed its last verification, so this one is full` };
    if (fs.statSync(backups.archiveFile(link.profileId, link.id)).size !== link.sizeBytes) return { kind: 'full', note: `the archive of ${link.id}${where} is not the size the catalog recorded (damaged or replaced), so this one is full` };
  }
  if (parent.chain.length + 1 > maxChain) return { kind: 'full', note: requested === 'incremental' ? `the chain reached max_chain (${maxChain}), so this one is full` : undefined };
  return { kind: 'incremental', parent };
}

/**
 * The newest backup whose archive is there, by its date, unless that date is after now (made while the
 * clock was ahead): that one would stay the newest, and every backup until now passes its date would be
 * a first link on it; then the newest there is. Searched from the newest down, so a catalog of thousands
 * costs a look at a file or two (it was one per backup listed: 9,000 stats, ~55 ms, on every backup).
 */
function newestPresentParent(entries: readonly CatalogEntry[], backups: BackupLayout, now: Date): CatalogEntry | undefined {
  let newestPresent: CatalogEntry | undefined;
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i];
    if (!fs.existsSync(backups.archiveFile(entry.profileId, entry.id))) continue;
    newestPresent ??= entry;
    if (Date.parse(entry.createdAt) <= now.getTime()) return entry;
  }
  return newestPresent;
}

/**
 * Full or incremental, and on which parent, from the catalog as it is now. Its own function so that the
 * catalog it reads (thousands of entries, tens of megabytes of objects) is not held while the backup runs.
 */
export function planBackup(context: WorkspaceContext, backups: BackupLayout, profile: Profile, requested: RequestedKind, maxChain: number, now: Date): { choice: ReturnType<typeof chooseParent>; unreadableCatalog?: UnreadableCatalogError } {
  // A catalog that cannot be read does not stop the backup (an emergency one least of all): the data
  // is saved as a full backup, which needs no chain, and the catalog is left as it is for a rebuild.
  const { entries: catalog, unreadable: unreadableCatalog } = readCatalogOrProblem(backups, profile.id);
  // A chain is built on this workspace's own backups, not on another's in a shared folder (whose pages
  // would all differ, and whose prune is not this one's).
  const otherLiveWorkspace = sharingWorkspaceFinder(context.layout, backups);
  const own = catalog.filter((e) => !otherLiveWorkspace(e.origin));
  // Nor on the backups of an earlier profile that had this id (deleted, then the id reused).
  const earlier = backupsOfEarlierProfile(own, profile, now);
  const ofEarlierProfile = new Set(earlier);
  const choice = chooseParent(own.filter((e) => !ofEarlierProfile.has(e)), requested, maxChain, backups, now);
  if (unreadableCatalog) {
    choice.note = `${unreadableCatalog.message} So this backup is full (no chain can be trusted without the catalog) and is not listed in it; its archive is kept, and ${unreadableCatalog.listedBy}`;
  } else if (choice.kind === 'full' && requested !== 'full' && earlier.length > 0 && earlier.length === own.length) {
    choice.note = `the backups under ${profile.id} are of an earlier profile with this id (made before ${profile.createdAt}, when this one was created), so this one is full`;
  }
  return { choice, unreadableCatalog };
}
