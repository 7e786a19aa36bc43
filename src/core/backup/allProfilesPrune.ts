import { localTimeZone } from '../localTime';
import { workspaceConfigFor } from '../workspaceConfig';
import { throwIfCancelled, type WorkspaceContext } from '../workspaceContext';
import { requireInitialised } from '../workspaceInit';
import { withWorkspaceLock } from '../workspaceSession';
import { BackupLayout } from './backupLayout';
import { workspaceProfilesWithBackups } from './deletedProfiles';
import { pruneProfileBackups, type PruneResult } from './backupPruning';
import { profileFailure, type ProfileFailure } from './profileFailure';

export interface AllProfilesPruneResult {
  dryRun: boolean;
  timeZone: string;
  /** One per profile with backups, in id order: the workspace's profiles and the deleted ones whose backups it keeps. */
  results: PruneResult[];
  /** Each profile that was not pruned, and why (its catalog disagrees with its folder, its file does not load, …). */
  failures: ProfileFailure[];
}

/**
 * Prunes the backups of every profile under one workspace lock, each by its own keep rules (as
 * `pruneBackups` does for one). One profile that cannot be pruned does not stop the others: its
 * backups are all kept, and the failure is reported.
 */
export async function pruneAllProfiles(context: WorkspaceContext, dryRun: boolean, timeZone = localTimeZone()): Promise<AllProfilesPruneResult> {
  requireInitialised(context.layout);
  return withWorkspaceLock(context, 'prune of every profile', async () => {
    const config = workspaceConfigFor(context);
    const backups = new BackupLayout(context.layout, config);
    // A folder of a profile this workspace never had is another workspace's (a shared backups folder): its prune decides.
    const ids = workspaceProfilesWithBackups(context.layout, backups);
    if (ids.length === 0) backups.requireVisible(dryRun ? 'the dry run has nothing to list' : 'nothing was pruned');
    const results: PruneResult[] = [];
    const failures: AllProfilesPruneResult['failures'] = [];
    for (const profileId of ids) {
      throwIfCancelled(context);
      try {
        results.push(await pruneProfileBackups(context, config, profileId, dryRun, timeZone));
      } catch (error) {
        failures.push(profileFailure(profileId, error));
      }
    }
    return { dryRun, timeZone, results, failures };
  });
}
