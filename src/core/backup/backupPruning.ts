import * as fs from 'node:fs';
import { appendAudit } from '../auditLog';
import { EnvProfilesError } from '../errors';
import { loadProfile } from '../profileStore';
import { workspaceConfigFor } from '../workspaceConfig';
import type { WorkspaceContext } from '../workspaceContext';
import { requireInitialised } from '../workspaceInit';
import { withWorkspaceLock } from '../workspaceSession';
import { catalogDisagreements, readCatalog, writeCatalog } from './backupCatalog';
import { BackupLayout } from './backupLayout';
import { sharingWorkspaceFinder } from './backupOrigin';
import { decideRetention, keepRulesFrom, type RetentionDecision } from './retentionPolicy';

export interface PruneResult {
  profileId: string;
  dryRun: boolean;
  timeZone: string;
  decisions: RetentionDecision[];
  deleted: string[];
  freedBytes: number;
}


/** Applies the profile's retention rules; with `dryRun` only reports. Refuses when catalog and disk disagree. */
export async function pruneBackups(context: WorkspaceContext, profileId: string, dryRun: boolean, timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone): Promise<PruneResult> {
  requireInitialised(context.layout);
  return withWorkspaceLock(context, `prune ${profileId}`, () => {
    const config = workspaceConfigFor(context);
    const { profile } = loadProfile(context.layout, config, profileId);
    const backups = new BackupLayout(context.layout, config);
    const entries = readCatalog(backups, profileId);
    const disagreements = catalogDisagreements(backups, profileId, entries);
    if (disagreements.length > 0) {
      throw new EnvProfilesError('CATALOG_MISMATCH', `The backup catalog of ${profileId} disagrees with the archives on disk: ${disagreements.join('; ')}.`, {
        file: backups.catalogFile(profileId),
        hint: `Nothing was deleted. Put missing archives back if you have them, then make the catalog match the folder: envprofiles backups ${profileId} --rebuild-catalog (--dry-run shows what it would change); then prune again.`,
      });
    }
    // Backups another workspace made into this shared folder follow that workspace's rules, not these.
    const pinned = new Map<string, string>();
    const otherLiveWorkspace = sharingWorkspaceFinder(context.layout, backups);
    for (const entry of entries) {
      const other = otherLiveWorkspace(entry.origin);
      if (other) pinned.set(entry.id, `made by the workspace at ${other}, which shares this backups folder (its own prune decides)`);
    }
    const decisions = decideRetention(entries, keepRulesFrom(profile.backupSchedule), context.now(), timeZone, pinned);
    const doomed = decisions.filter((d) => d.action === 'delete').map((d) => d.id);
    let freedBytes = 0;
    if (!dryRun && doomed.length > 0) {
      // The catalog goes first: an archive no longer listed is harmless; a listed archive that is gone is not.
      writeCatalog(backups, profileId, entries.filter((e) => !doomed.includes(e.id)));
      for (const id of doomed) {
        const file = backups.archiveFile(profileId, id);
        freedBytes += fs.existsSync(file) ? fs.statSync(file).size : 0;
        fs.rmSync(file, { force: true });
      }
      appendAudit(context, { event: 'prune', profile: profileId, outcome: 'ok', detail: `deleted ${doomed.join(', ')}` });
    } else {
      freedBytes = entries.filter((e) => doomed.includes(e.id)).reduce((sum, e) => sum + e.sizeBytes, 0);
    }
    return { profileId, dryRun, timeZone, decisions, deleted: dryRun ? [] : doomed, freedBytes };
  });
}
