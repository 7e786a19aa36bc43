import * as fs from 'node:fs';
import { appendAudit } from '../auditLog';
import { EnvProfilesError } from '../errors';
import type { Profile } from '../profileModel';
import { loadProfile } from '../profileStore';
import { unknownBackupScheduleKeys } from '../profileValidation';
import { workspaceConfigFor, type WorkspaceConfig } from '../workspaceConfig';
import type { WorkspaceContext } from '../workspaceContext';
import { requireInitialised } from '../workspaceInit';
import { withWorkspaceLock } from '../workspaceSession';
import { catalogDisagreements, newestFirst, readCatalog, writeCatalog, type CatalogEntry } from './backupCatalog';
import { closeChain, openChain } from './backupChain';
import { profileFromBackup } from './backedUpFiles';
import { BackupLayout } from './backupLayout';
import { sharingWorkspaceFinder } from './backupOrigin';
import { backupsOfEarlierProfile } from './earlierProfile';
import { decideRetention, keepRulesFrom, type KeepRules, type RetentionDecision } from './retentionPolicy';

export interface PruneResult {
  profileId: string;
  dryRun: boolean;
  timeZone: string;
  decisions: RetentionDecision[];
  deleted: string[];
  freedBytes: number;
  /** Set when the profile file is gone: the backup whose copy of it gave the keep rules. */
  rulesFrom?: string;
  /**
   * Set when some backups are of an earlier profile with this id (deleted, then the id reused): the
   * backup whose copy of that profile gave their keep rules. They are decided apart from the others.
   */
  earlierProfileRulesFrom?: string;
  /** Keys of the profile's backup_schedule this version does not know (a misspelt rule is ignored): one line each. */
  notes: string[];
}

/**
 * The keep rules of a profile: from its file, or, when the profile was deleted (its backups stay), from
 * the newest backup's copy of it, so that those backups can still be pruned.
 */
async function keepRulesOf(context: WorkspaceContext, config: WorkspaceConfig, profileId: string, entries: CatalogEntry[], backups: BackupLayout): Promise<{ rules: KeepRules; rulesFrom?: string; profile?: Profile }> {
  if (fs.existsSync(context.layout.profileFile(profileId)) || entries.length === 0) {
    const { profile } = loadProfile(context.layout, config, profileId);
    return { rules: keepRulesFrom(profile.backupSchedule), profile };
  }
  const found = await keepRulesInNewest(context, config, profileId, entries, backups);
  if (!found.rules) {
    throw new EnvProfilesError('PROFILE_NOT_FOUND', `No profile "${profileId}" in ${context.layout.relative(context.layout.profilesDir)}, and its newest backup ${found.rulesFrom} holds no readable copy of it, so there are no keep rules to prune its backups by; nothing was deleted.`, {
      hint: `Restore the profile (envprofiles restore ${found.rulesFrom}), or delete the backups you no longer want from ${backups.profileDir(profileId)} and rebuild the catalog (envprofiles backups ${profileId} --rebuild-catalog).`,
    });
  }
  return { rules: found.rules, rulesFrom: found.rulesFrom };
}

/** The keep rules in the copy of the profile file that the newest of `entries` holds (none when it holds no readable copy). */
async function keepRulesInNewest(context: WorkspaceContext, config: WorkspaceConfig, profileId: string, entries: CatalogEntry[], backups: BackupLayout): Promise<{ rules?: KeepRules; rulesFrom: string }> {
  const newest = [...entries].sort(newestFirst)[0];
  const chain = await openChain(backups.archiveFile(profileId, newest.id));
  try {
    const profile = await profileFromBackup(context, config, chain, profileId);
    return { rules: profile ? keepRulesFrom(profile.backupSchedule) : undefined, rulesFrom: newest.id };
  } finally {
    closeChain(chain);
  }
}


/** Applies the profile's retention rules; with `dryRun` only reports. Refuses when catalog and disk disagree. */
export async function pruneBackups(context: WorkspaceContext, profileId: string, dryRun: boolean, timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone): Promise<PruneResult> {
  requireInitialised(context.layout);
  return withWorkspaceLock(context, `prune ${profileId}`, async () => {
    const config = workspaceConfigFor(context);
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
    const own = entries.filter((e) => !pinned.has(e.id));
    const { rules, rulesFrom, profile: current } = await keepRulesOf(context, config, profileId, own, backups);
    const profileFile = context.layout.relative(context.layout.profileFile(profileId));
    const notes = unknownBackupScheduleKeys(current?.backupSchedule).map(({ key, message }) => `${profileFile}: backup_schedule.${key}: ${message}`);
    // The backups of an earlier profile with this id keep that profile's rules, as a deleted profile's
    // would, and its own newest verified backup: the new profile's rules and backups never sweep them away.
    const earlier = current ? backupsOfEarlierProfile(own, current, context.now()) : [];
    let decisions = decideRetention(entries, rules, context.now(), timeZone, earlier.length > 0 ? new Map([...pinned, ...earlier.map((e) => [e.id, 'of an earlier profile'] as const)]) : pinned);
    let earlierProfileRulesFrom: string | undefined;
    if (earlier.length > 0) {
      const earlierRules = await keepRulesInNewest(context, config, profileId, earlier, backups);
      earlierProfileRulesFrom = earlierRules.rulesFrom;
      // Without a copy of that profile's file there are no rules for them: each is kept (the safe side).
      const rules = earlierRules.rules ?? {};
      // Everything else counts as kept here, so whatever depends on an earlier backup keeps it.
      const others = new Map(entries.filter((e) => !earlier.includes(e)).map((e) => [e.id, 'not of the earlier profile'] as const));
      const earlierDecisions = new Map(decideRetention(entries, rules, context.now(), timeZone, others).map((d) => [d.id, d]));
      decisions = decisions.map((d) => {
        const fromEarlier = earlierDecisions.get(d.id);
        return earlier.some((e) => e.id === d.id) && fromEarlier ? { ...fromEarlier, reasons: fromEarlier.reasons.map((r) => `earlier profile: ${r}`) } : d;
      });
    }
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
    return { profileId, dryRun, timeZone, decisions, deleted: dryRun ? [] : doomed, freedBytes, notes, ...(rulesFrom ? { rulesFrom } : {}), ...(earlierProfileRulesFrom ? { earlierProfileRulesFrom } : {}) };
  });
}
