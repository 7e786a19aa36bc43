import { EnvProfilesError } from '../errors';
import type { WorkspaceContext } from '../workspaceContext';
import { holdsDataExactly, newestFirst, type CatalogEntry } from './backupCatalog';
import type { BackupLayout } from './backupLayout';
import { verifyUnlocked, type VerificationResult } from './backupVerification';
import { chainFault, chainFaultsInWords, changedSinceVerified, type ChainFault } from './verifiedArchives';

/** A backup that prune verified before it deleted anything, and what verify found. */
export interface PruneVerification {
  id: string;
  /** It restores its data exactly (verify passed, or failed only on problems the data already had). */
  sound: boolean;
  /** Verify's first problem, when it failed. */
  problem?: string;
  /** Verified before, but its archive (or one of its chain) is no longer the one verified: verified again. */
  again?: true;
  /** Why prune verified it: "none had been verified", or what changed since its verification. */
  why: string;
}

/** One line for a backup prune verified first: "<id> passed", or why it was verified and why it failed. */
export function pruneVerificationText(v: PruneVerification): string {
  return `${v.id} (${v.why}) ${v.sound ? 'passed' : `FAILED: ${v.problem}`}`;
}

/** Verifies one backup (the result recorded in the catalog) and says what prune needs of it. */
async function verifiedNow(context: WorkspaceContext, id: string, why: string, again: boolean): Promise<{ verification: PruneVerification; result: VerificationResult }> {
  const result = await verifyUnlocked(context, id);
  const sound = result.ok || result.archiveSound;
  return { result, verification: { id, sound, why, ...(again ? { again: true as const } : {}), ...(sound ? {} : { problem: result.problems[0] }) } };
}

/** A group of backups decided by one set of keep rules, as prune sees it for this check. */
export interface GroupToCheck {
  backups: CatalogEntry[];
  /** Put before each line about the group (an earlier profile with the id), as in the decisions. */
  label?: string;
  /** Whether a new backup of it can be made (its profile file is there). */
  canBackUp: boolean;
}

/**
 * The groups from which prune would delete with nothing verified among their backups (that can be
 * restored: a verified backup whose chain lost an archive cannot): keep rules alone then decide, and a
 * prune of a catalog that a rebuild reset (or of backups never verified) kept only the newest,
 * unverified one, which may not restore, and deleted every sound backup before it.
 */
export function groupsWithNothingVerified<Group extends GroupToCheck>(groups: Group[], doomed: ReadonlySet<string>, listed: ReadonlyMap<string, CatalogEntry>): Group[] {
  return groups.filter((group) => group.backups.some((e) => doomed.has(e.id)) && !group.backups.some((e) => holdsDataExactly(e) && chainFault(e, listed) === undefined));
}

/** What the chains of a group's verified backups have against them (none verified: empty). */
function faultsOfVerified(group: GroupToCheck, listed: ReadonlyMap<string, CatalogEntry>): ChainFault[] {
  return group.backups.filter(holdsDataExactly).flatMap((e) => chainFault(e, listed) ?? []);
}

/** "none had been verified", or why the verified ones do not count: their chains lost an archive, or hold one that failed. */
function noneVerifiedInWords(group: GroupToCheck, listed: ReadonlyMap<string, CatalogEntry>): string {
  const faults = faultsOfVerified(group, listed);
  return faults.length > 0 ? `none had been verified that can be restored: the chains of those verified ${chainFaultsInWords(faults)}` : 'none had been verified';
}

/** What a dry run says prune will do first, for such a group. */
export function verifyFirstNote(profileId: string, group: GroupToCheck, listed: ReadonlyMap<string, CatalogEntry>): string {
  const newest = [...group.backups].sort(newestFirst)[0];
  const faults = faultsOfVerified(group, listed);
  const none = faults.length > 0 ? `none of these backups that can be restored has been verified (the chains of those verified ${chainFaultsInWords(faults)})` : 'none of these backups has been verified';
  return `${group.label ? `${group.label}: ` : ''}${none}, so before it deletes anything, prune verifies them, newest first, until one passes, and keeps it (with the backups it builds on); if none passes, it deletes nothing. The decisions above assume the newest, ${newest.id}, passes; to know now: envprofiles verify --unverified ${profileId}`;
}

/**
 * Verifies the group's never-verified backups, newest first, until one restores its data exactly and
 * holds every database (each result is recorded in the catalog, where the keep rules then find it as the
 * newest verified backup, which is never deleted). Throws when none passes: then nothing is deleted.
 * The caller holds the workspace lock.
 */
export async function verifyUntilOnePasses(context: WorkspaceContext, profileId: string, group: GroupToCheck, listed: ReadonlyMap<string, CatalogEntry>): Promise<PruneVerification[]> {
  const verified: PruneVerification[] = [];
  const why = noneVerifiedInWords(group, listed);
  for (const entry of [...group.backups].sort(newestFirst)) {
    if (entry.verified) continue;
    const { result, verification } = await verifiedNow(context, entry.id, why, false);
    verified.push(verification);
    const { sound } = verification;
    if (sound && !result.recorded) {
      throw new EnvProfilesError('NEEDS_BACKUP', `Prune verified ${entry.id} of ${profileId} before deleting anything, and it passed, but the result could not be recorded in the catalog${result.notRecorded ? ` (${result.notRecorded})` : ''}; nothing was deleted.`, {
        kind: 'refused',
        hint: 'Make the backups folder writable, then prune again.',
      });
    }
    if (sound && !result.leftOut?.length) return verified;
  }
  if (verified.some((v) => v.sound)) return verified;
  const failed = verified[0];
  const what = group.label ? `the ${group.label}'s backups` : `${profileId}'s backups`;
  throw new EnvProfilesError('NEEDS_BACKUP', failed
    ? `None of ${what} is known to restore: prune verified the ${verified.length} never verified before deleting anything, and none passed (the newest, ${failed.id}: ${failed.problem}); nothing was deleted.`
    : `None of ${what} is known to restore: each failed verify before; nothing was deleted.`, {
    kind: 'refused',
    hint: group.canBackUp
      ? `Make a backup and verify it: envprofiles backup ${profileId} --full --verify; then prune again ("envprofiles verify <id>" says what is wrong with each).`
      : `They are all there is of that profile: "envprofiles verify <id>" says what is wrong with each. To delete them anyway, move their archives out of the backups folder and rebuild the catalog (envprofiles backups ${profileId} --rebuild-catalog).`,
    ...(group.canBackUp ? { nextStep: { action: 'backup' as const, profileId } } : {}),
  });
}

/**
 * Checks that the verified backup the group relies on (its newest) is still what was verified; when its
 * archive (or one of its chain) changed since, verifies it again, which records the failure, and goes on
 * to the next verified one. Returns what it verified again (empty when the newest verified one is intact).
 * The caller holds the workspace lock and decides again when this returns anything.
 */
export async function verifiedAgainWhereChanged(context: WorkspaceContext, backups: BackupLayout, profileId: string, group: GroupToCheck, listed: readonly CatalogEntry[]): Promise<PruneVerification[]> {
  const byId = new Map(listed.map((e) => [e.id, e]));
  const again: PruneVerification[] = [];
  for (const entry of group.backups.filter((e) => holdsDataExactly(e) && chainFault(e, byId) === undefined).sort(newestFirst)) {
    const changed = await changedSinceVerified(backups, profileId, entry, byId);
    if (changed === undefined) return again;
    const { verification } = await verifiedNow(context, entry.id, changed, true);
    again.push(verification);
    if (verification.sound) return again;
  }
  return again;
}
