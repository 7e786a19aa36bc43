import * as fs from 'node:fs';
import { appendAudit, auditedAlready, auditingUnfinished } from '../auditLog';
import { EnvProfilesError } from '../errors';
import { removeJournal, writeJournal } from '../operationJournal';
import { typedSystemError } from '../systemErrors';
import { localTimeZone } from '../localTime';
import type { Profile } from '../profileModel';
import { loadProfile } from '../profileStore';
import { backupScheduleWarnings } from '../profileValidation';
import { workspaceConfigFor, type WorkspaceConfig } from '../workspaceConfig';
import type { WorkspaceContext } from '../workspaceContext';
import { requireInitialised } from '../workspaceInit';
import { withWorkspaceLock } from '../workspaceSession';
import { newestFirst, readCatalog, writeCatalog, type CatalogEntry } from './backupCatalog';
import { withCatalogLock } from './catalogLock';
import { settledDisagreements } from './settledCatalog';
import { closeChain, openChain } from './backupChain';
import { profileFromBackup } from './backedUpFiles';
import { BackupLayout } from './backupLayout';
import { sharingWorkspaceFinder } from './backupOrigin';
import { backupsOfEarlierProfile, generationsOf, type ProfileGeneration } from './earlierProfile';
import { decideRetention, keepRulesFrom, type KeepRules, type RetentionDecision } from './retentionPolicy';
import { recordsDisagreeingWithArchives } from './catalogRecordCheck';
import { groupsWithNothingVerified, verifiedAgainWhereChanged, verifyFirstNote, verifyUntilOnePasses, type GroupToCheck, type PruneVerification } from './pruneVerification';
import { counted } from '../counted';

/** An earlier profile with the id: when it was created (if known), whose rules decided, how many backups. */
export interface EarlierProfileRules {
  createdAt?: string;
  /** The backup whose copy of that profile gave the keep rules. */
  rulesFrom: string;
  backups: number;
  /** False when that copy could not be read: then every backup of that profile is kept. */
  hasRules: boolean;
}

export interface PruneResult {
  profileId: string;
  dryRun: boolean;
  timeZone: string;
  decisions: RetentionDecision[];
  deleted: string[];
  freedBytes: number;
  /** The profile's keep rules (its backup_schedule's, or, its file gone, its newest backup's); keepRulesText says them. */
  keepRules: KeepRules;
  /** Set when the profile file is gone: the backup whose copy of it gave the keep rules. */
  rulesFrom?: string;
  /**
   * Set when some backups are of an earlier profile with this id (deleted, then the id reused): the
   * backup whose copy of that profile gave their keep rules. They are decided apart from the others.
   */
  earlierProfileRulesFrom?: string;
  /** Each earlier profile with this id whose backups are kept, newest first (set with earlierProfileRulesFrom). */
  earlierProfiles?: EarlierProfileRules[];
  /** Keys of the profile's backup_schedule this version does not know (a misspelt rule is ignored): one line each. */
  notes: string[];
  /**
   * A dry run's word on each group of backups none of which was verified: prune verifies them first
   * (and the decisions assume the newest passes). Empty otherwise.
   */
  verifyFirst: string[];
  /** The backups this prune verified before it deleted anything (none was verified, or the verified one's archive changed since: `again`); empty when it needed none. */
  verifiedFirst: PruneVerification[];
}

/** A group of backups decided together: one profile's, by that profile's keep rules. */
interface PruneGroup {
  backups: CatalogEntry[];
  rules: KeepRules;
  /** Put before each reason, for the backups of an earlier profile with the id. */
  label?: string;
}

/** The keep rules in the copy of the profile file that the newest of `entries` holds (none when it holds no readable copy). */
async function keepRulesInNewest(context: WorkspaceContext, config: WorkspaceConfig, profileId: string, entries: CatalogEntry[], backups: BackupLayout): Promise<{ rules?: KeepRules; rulesFrom: string }> {
  const newest = [...entries].sort(newestFirst)[0];
  const chain = await openChain(backups.archiveFile(profileId, newest.id), backups);
  try {
    const profile = await profileFromBackup(context, config, chain, profileId);
    return { rules: profile ? keepRulesFrom(profile.backupSchedule) : undefined, rulesFrom: newest.id };
  } finally {
    closeChain(chain);
  }
}

/**
 * The groups `own` (this workspace's backups of the profile) is decided in: the profile's own backups by
 * its file's rules; when the profile file is gone, the newest deleted profile's by the rules in its
 * newest backup; and the backups of each earlier profile with the id (deleted, then the id reused) by
 * that profile's rules, from its own newest backup (each is kept when there is no readable copy).
 */
async function pruneGroups(context: WorkspaceContext, config: WorkspaceConfig, profileId: string, own: CatalogEntry[], backups: BackupLayout): Promise<{ groups: PruneGroup[]; current?: Profile; rulesFrom?: string; earlierProfiles: EarlierProfileRules[] }> {
  let current: Profile | undefined;
  let generations: ProfileGeneration[];
  const groups: PruneGroup[] = [];
  let rulesFrom: string | undefined;
  if (fs.existsSync(context.layout.profileFile(profileId)) || own.length === 0) {
    current = loadProfile(context.layout, config, profileId).profile;
    const earlier = backupsOfEarlierProfile(own, current, context.now());
    groups.push({ backups: own.filter((e) => !earlier.includes(e)), rules: keepRulesFrom(current.backupSchedule) });
    generations = generationsOf(earlier);
  } else {
    generations = generationsOf(own);
    const deleted = generations.pop() as ProfileGeneration;
    const found = await keepRulesInNewest(context, config, profileId, deleted.backups, backups);
    if (!found.rules) {
      throw new EnvProfilesError('PROFILE_NOT_FOUND', `No profile "${profileId}" in ${context.layout.relative(context.layout.profilesDir)}, and its newest backup ${found.rulesFrom} holds no readable copy of it, so there are no keep rules to prune its backups by; nothing was deleted.`, {
        hint: `Restore the profile (envprofiles restore ${found.rulesFrom}), or delete the backups you no longer want from ${backups.profileDir(profileId)} and rebuild the catalog (envprofiles backups ${profileId} --rebuild-catalog).`,
      });
    }
    groups.push({ backups: deleted.backups, rules: found.rules });
    rulesFrom = found.rulesFrom;
  }
  const earlierProfiles: EarlierProfileRules[] = [];
  for (const generation of generations.reverse()) {
    // An archive that cannot be read gives no rules: that profile's backups are then all kept, and the
    // profile's own backups can still be pruned.
    const found = await keepRulesInNewest(context, config, profileId, generation.backups, backups).catch(() => ({ rules: undefined, rulesFrom: [...generation.backups].sort(newestFirst)[0].id }));
    earlierProfiles.push({ ...(generation.createdAt !== undefined ? { createdAt: generation.createdAt } : {}), rulesFrom: found.rulesFrom, backups: generation.backups.length, hasRules: found.rules !== undefined });
    const since = generation.createdAt ? ` (created ${generation.createdAt})` : '';
    // Without a copy of that profile's file there are no rules for them: each is kept (the safe side).
    groups.push({ backups: generation.backups, rules: found.rules ?? {}, label: `earlier profile${since}` });
  }
  return { groups, current, rulesFrom, earlierProfiles };
}

/**
 * Decides every backup: each group by its rules, with everything outside the group counted as kept (so
 * whatever depends on it keeps it) and out of its rules; `pinned` backups (another workspace's) are kept.
 */
function decideGroups(entries: CatalogEntry[], groups: PruneGroup[], pinned: ReadonlyMap<string, string>, now: Date, timeZone: string): RetentionDecision[] {
  const decided = new Map<string, RetentionDecision>();
  for (const group of groups) {
    const inGroup = new Set(group.backups.map((e) => e.id));
    const others = new Map([...pinned, ...entries.filter((e) => !inGroup.has(e.id) && !pinned.has(e.id)).map((e) => [e.id, 'not of this profile'] as const)]);
    for (const d of decideRetention(entries, group.rules, now, timeZone, others)) {
      if (inGroup.has(d.id)) decided.set(d.id, group.label ? { ...d, reasons: d.reasons.map((r) => `${group.label}: ${r}`) } : d);
    }
  }
  // Another workspace's backups, and the order: as decided with everything pinned but them.
  return decideRetention(entries, {}, now, timeZone, pinned).map((d) => decided.get(d.id) ?? d);
}

/** The profile's backups as they stand, and what the keep rules decide for each. Refuses when catalog and disk disagree. */
async function decide(context: WorkspaceContext, config: WorkspaceConfig, backups: BackupLayout, profileId: string, timeZone: string) {
  const { entries, disagreements } = await settledDisagreements(backups, profileId, () => readCatalog(backups, profileId));
  if (disagreements.length > 0) throw catalogDisagreementError(backups, profileId, disagreements);
  // Backups another workspace made into this shared folder follow that workspace's rules, not these.
  const pinned = new Map<string, string>();
  const otherLiveWorkspace = sharingWorkspaceFinder(context.layout, backups);
  for (const entry of entries) {
    const other = otherLiveWorkspace(entry.origin);
    if (other) pinned.set(entry.id, `made by the workspace at ${other}, which shares this backups folder (its own prune decides)`);
  }
  const own = entries.filter((e) => !pinned.has(e.id));
  const { groups, current, rulesFrom, earlierProfiles } = await pruneGroups(context, config, profileId, own, backups);
  return { entries, groups, current, rulesFrom, earlierProfiles, decisions: decideGroups(entries, groups, pinned, context.now(), timeZone) };
}

/** Applies the profile's retention rules; with `dryRun` only reports. Refuses when catalog and disk disagree. */
export async function pruneBackups(context: WorkspaceContext, profileId: string, dryRun: boolean, timeZone = localTimeZone()): Promise<PruneResult> {
  requireInitialised(context.layout);
  return withWorkspaceLock(context, `prune ${profileId}`, () => pruneProfileBackups(context, workspaceConfigFor(context), profileId, dryRun, timeZone));
}

/**
 * pruneBackups's work, for a caller that holds the workspace lock (the prune of every profile takes it
 * once). A prune refused (the catalog disagrees with the archives, nothing verified passes) or failed is
 * in the audit log too (before, only one that deleted was).
 */
export async function pruneProfileBackups(context: WorkspaceContext, config: WorkspaceConfig, profileId: string, dryRun: boolean, timeZone: string): Promise<PruneResult> {
  return auditingUnfinished(context, 'prune', () => ({ profile: profileId, dryRun }), () => prune(context, config, profileId, dryRun, timeZone));
}

async function prune(context: WorkspaceContext, config: WorkspaceConfig, profileId: string, dryRun: boolean, timeZone: string): Promise<PruneResult> {
  const backups = new BackupLayout(context.layout, config);
  let decided = await decide(context, config, backups, profileId, timeZone);
  const doomedIn = (decisions: RetentionDecision[]): Set<string> => new Set(decisions.filter((d) => d.action === 'delete').map((d) => d.id));
  const checkedGroups = (): (PruneGroup & GroupToCheck)[] => decided.groups.map((group) => ({ ...group, canBackUp: decided.current !== undefined && group.label === undefined }));
  const verifiedFirst: PruneVerification[] = [];
  if (!dryRun) {
    // The verified backup each group relies on must still be the archive that was verified.
    const doomed = doomedIn(decided.decisions);
    for (const group of checkedGroups().filter((g) => g.backups.some((e) => doomed.has(e.id)))) verifiedFirst.push(...(await verifiedAgainWhereChanged(context, backups, profileId, group, decided.entries)));
    if (verifiedFirst.length > 0) decided = await decide(context, config, backups, profileId, timeZone);
  }
  // Keep rules alone must not decide where no backup is known to restore: the newest one they keep may not.
  const listedById = new Map(decided.entries.map((e) => [e.id, e]));
  const unverified = groupsWithNothingVerified(checkedGroups(), doomedIn(decided.decisions), listedById);
  if (!dryRun && unverified.length > 0) {
    for (const group of unverified) verifiedFirst.push(...(await verifyUntilOnePasses(context, profileId, group, listedById)));
    // The results are in the catalog now: the newest that passed is the newest verified backup, never deleted.
    decided = await decide(context, config, backups, profileId, timeZone);
  }
  const verifyFirst = dryRun ? unverified.map((group) => verifyFirstNote(profileId, group, listedById)) : [];
  const { entries, current, rulesFrom, earlierProfiles, decisions } = decided;
  const profileFile = context.layout.relative(context.layout.profileFile(profileId));
  const notes = backupScheduleWarnings(current?.backupSchedule).map(({ key, message }) => `${profileFile}: backup_schedule.${key}: ${message}`);
  // "No backups" from a disk that is not mounted would mislead.
  if (entries.length === 0) backups.requireVisible(dryRun ? 'the dry run has nothing to list' : 'nothing was pruned');
  const doomed = decisions.filter((d) => d.action === 'delete').map((d) => d.id);
  // A set: a year of hourly backups is thousands of ids, and a list's `includes` for each made it quadratic.
  const isDoomed = (entry: { id: string }): boolean => doomedIds.has(entry.id);
  const doomedIds = new Set(doomed);
  // What a kept backup needs is decided from its record: each is checked against its archive before anything goes.
  const wrongRecords = doomed.length > 0 ? await recordsDisagreeingWithArchives(backups, profileId, entries.filter((e) => !isDoomed(e))) : [];
  if (wrongRecords.length > 0) throw catalogDisagreementError(backups, profileId, wrongRecords);
  let freedBytes = 0;
  if (!dryRun && doomed.length > 0) {
    const journalName = `prune-${profileId}`;
    writeJournal(context.layout, journalName, { operation: 'prune', startedAt: context.now().toISOString(), profileId, catalogFile: backups.catalogFile(profileId), archives: doomed.map((id) => ({ id, file: backups.archiveFile(profileId, id) })) });
    // The catalog goes first: an archive no longer listed is harmless; a listed archive that is gone is not.
    // As it is now: a workspace sharing the folder may have listed a backup since it was read. The archives
    // go under the same hold of the catalog's lock, so that a reader of the folder never sees them unlisted
    // and still there (before, a prune of a workspace sharing the folder refused then).
    let catalogWritten = false;
    let undeletable: UndeletableArchive[] = [];
    try {
      await withCatalogLock(backups, profileId, `prune ${profileId}`, () => {
        writeCatalog(backups, profileId, readCatalog(backups, profileId).filter((e) => !isDoomed(e)));
        catalogWritten = true;
        context.onStep?.('prune-catalog-written');
        const deletion = deleteArchives(backups, profileId, entries.filter(isDoomed));
        freedBytes = deletion.freed;
        undeletable = deletion.undeletable;
        if (undeletable.length > 0) {
          // Still there and whole: listed again (with the backups they build on), so catalog and folder agree.
          const kept = new Set(undeletable.map((u) => u.entry.id));
          const current = readCatalog(backups, profileId);
          writeCatalog(backups, profileId, [...current, ...entries.filter((e) => kept.has(e.id) && !current.some((c) => c.id === e.id))]);
        }
      }, (message) => context.logger.warn(message));
    } catch (error) {
      // Nothing was taken out of the catalog (a read-only backups folder, say): nothing to finish.
      if (!catalogWritten) removeJournal(context.layout, journalName);
      throw error;
    }
    const kept = new Set(undeletable.map((u) => u.entry.id));
    removeJournal(context.layout, journalName);
    const deleted = doomed.filter((id) => !kept.has(id));
    appendAudit(context, { event: 'prune', profile: profileId, outcome: undeletable.length > 0 ? 'failed' : 'ok', detail: `deleted ${deleted.join(', ') || 'none'}` });
    if (undeletable.length > 0) throw auditedAlready(undeletableError(profileId, deleted.length, doomed.length, undeletable));
  } else {
    freedBytes = entries.filter(isDoomed).reduce((sum, e) => sum + e.sizeBytes, 0);
  }
  return {
    profileId, dryRun, timeZone, keepRules: decided.groups[0]?.rules ?? {}, decisions, deleted: dryRun ? [] : doomed, freedBytes, notes, verifyFirst, verifiedFirst, ...(rulesFrom ? { rulesFrom } : {}),
    ...(earlierProfiles.length > 0 ? { earlierProfileRulesFrom: earlierProfiles[0].rulesFrom, earlierProfiles } : {}),
  };
}

/** A pruned archive that could not be deleted (`error`), or that a backup which could not be deleted builds on (`error` undefined). */
interface UndeletableArchive {
  entry: CatalogEntry;
  error?: unknown;
}

/**
 * Deletes the archives of `pruned`, each after every backup that builds on it: when one cannot be
 * deleted (a file marked immutable, a disk gone read-only), the backups its chain needs are kept too,
 * and the others are still deleted. Before, the first failure stopped the prune with those archives
 * no longer listed, and every prune after refused ("the catalog disagrees with the folder").
 */
function deleteArchives(backups: BackupLayout, profileId: string, pruned: CatalogEntry[]): { freed: number; undeletable: UndeletableArchive[] } {
  let freed = 0;
  const undeletable: UndeletableArchive[] = [];
  const needed = new Set<string>();
  // Longer chains first: an incremental comes before every backup it builds on.
  for (const entry of [...pruned].sort((a, b) => b.chain.length - a.chain.length || newestFirst(a, b))) {
    if (needed.has(entry.id)) {
      undeletable.push({ entry });
      for (const id of entry.chain) needed.add(id);
      continue;
    }
    const file = backups.archiveFile(profileId, entry.id);
    try {
      const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
      fs.rmSync(file, { force: true });
      freed += size;
    } catch (error) {
      undeletable.push({ entry, error });
      for (const id of entry.chain) needed.add(id);
    }
  }
  return { freed, undeletable };
}

function undeletableError(profileId: string, deleted: number, doomed: number, undeletable: UndeletableArchive[]): EnvProfilesError {
  const failed = undeletable.filter((u) => u.error !== undefined);
  const first = failed[0].error;
  const typed = typedSystemError(first);
  const why = typed?.message ?? (first as Error)?.message ?? String(first);
  const needed = undeletable.filter((u) => u.error === undefined).map((u) => u.entry.id);
  const keptToo = needed.length > 0 ? `; ${needed.join(', ')}, which ${needed.length === 1 ? 'it builds' : 'they build'} on, ${needed.length === 1 ? 'was' : 'were'} kept too` : '';
  return new EnvProfilesError(typed?.code ?? 'IO_ERROR', `Pruning ${profileId} deleted ${deleted} of ${counted(doomed, 'backup')}: ${failed.map((u) => u.entry.id).join(', ')} could not be deleted and ${failed.length === 1 ? 'stays' : 'stay'} listed${keptToo}. ${why}`, {
    file: typed?.file,
    cause: first,
    hint: `${typed?.hint ?? 'Check the disk of the backups folder, then prune again.'} The catalog lists every archive still in the folder.`,
  });
}

/** Prune's refusal when the catalog and the archives disagree: nothing was deleted; rebuild the catalog. */
function catalogDisagreementError(backups: BackupLayout, profileId: string, disagreements: string[]): EnvProfilesError {
  return new EnvProfilesError('CATALOG_MISMATCH', `The backup catalog of ${profileId} disagrees with the archives on disk: ${disagreements.join('; ')}.`, {
    file: backups.catalogFile(profileId),
    hint: `Nothing was deleted. Put missing archives back if you have them, then make the catalog match the folder: envprofiles backups ${profileId} --rebuild-catalog (--dry-run shows what it would change), and move out of the folder any file the rebuild skips (it says why); then prune again.`,
    nextStep: { action: 'rebuild-catalog', profileId },
  });
}
