import { readCatalog, readCatalogOrProblem, type CatalogEntry, type UnreadableCatalogError } from './backupCatalog';
import type { BackupLayout } from './backupLayout';
import { workspaceProfilesWithBackups } from './deletedProfiles';
import { NewerFormatError } from './backupManifest';
import { verifyBackup, type VerificationResult } from './backupVerification';
import { profileFailure, type BackupFailure } from './profileFailure';
import { EnvProfilesError, isEnvProfilesError } from '../errors';
import { letWaitersIn } from '../lockWait';
import type { WorkspaceContext } from '../workspaceContext';

// Verifying many backups in turn (verify --unverified, verify --all): a check that archives kept for a
// long time can still be restored, run so that other commands are not kept out of the workspace for it.

/** What became of one backup of a run, in the order they were verified. */
export type ScrubOutcome =
  | { backupId: string; kind: 'verified'; result: VerificationResult }
  /** It could not be verified (its archive missing, say): a failure, and the run goes on. */
  | { backupId: string; kind: 'failed'; failure: BackupFailure }
  /** Pruned (or deleted with its profile's backups) by a command that ran in between: not a failure. */
  | { backupId: string; kind: 'deleted' }
  /** Written by a newer version (a backups folder shared with another machine, say): not verified rather than FAILED. */
  | { backupId: string; kind: 'newer-format'; message: string };

/** What verifying the backups of one profile found. */
export interface ScrubbedProfile {
  results: VerificationResult[];
  errors: BackupFailure[];
  deletedMeanwhile: string[];
  /** Backups this version cannot verify: their archives were written by a newer one. */
  newerFormat: string[];
  failed: number;
  outcomes: ScrubOutcome[];
}

/** The backups of `profileId` to verify (oldest first: a chain's links before what builds on them) and how many it has. */
export function backupsToVerify(backups: BackupLayout, profileId: string, onlyUnverified: boolean): { pending: CatalogEntry[]; total: number; unreadable?: UnreadableCatalogError } {
  const { entries, unreadable } = readCatalogOrProblem(backups, profileId);
  return { pending: onlyUnverified ? entries.filter((entry) => entry.verified === null) : entries, total: entries.length, ...(unreadable ? { unreadable } : {}) };
}

/** A run of verifications stopped because another operation held the workspace longer than it waits: what it verified before. */
export class VerificationStopped extends Error {
  constructor(readonly busy: EnvProfilesError, readonly done: { results: VerificationResult[]; errors: BackupFailure[]; left: number }) {
    super(busy.message);
  }
}

/**
 * Verifies `pending` one at a time (each under its own lock). One that cannot be verified (its archive
 * missing, say) is reported as failed and the others are still verified; a cancel stops them all. The
 * lock is free between two backups, so another command may run there: one that holds the lock is waited
 * for (up to `lockWaitMs`), and a backup it deleted (a prune) is skipped, neither a failure. A wait that
 * runs out ends the run (VerificationStopped): the next backup would wait as long again.
 */
export async function verifyInTurn(context: WorkspaceContext, backups: BackupLayout, profileId: string, pending: CatalogEntry[], lockWaitMs: number): Promise<ScrubbedProfile> {
  const outcomes: ScrubOutcome[] = [];
  for (const [index, entry] of pending.entries()) {
    // A command waiting for the lock runs now, between two backups, rather than after them all.
    await letWaitersIn(context.layout);
    try {
      outcomes.push(await outcomeOf(context, backups, profileId, entry.id, lockWaitMs));
    } catch (error) {
      if (isEnvProfilesError(error) && error.code === 'WORKSPACE_BUSY') throw new VerificationStopped(error, { ...resultsAndErrors(outcomes), left: pending.length - index });
      throw error;
    } finally {
      // Between two backups the lock is free: tests hold here to run another command in between.
      context.onStep?.('between-backups');
    }
  }
  const { results, errors } = resultsAndErrors(outcomes);
  const idsOf = (kind: ScrubOutcome['kind']): string[] => outcomes.filter((o) => o.kind === kind).map((o) => o.backupId);
  return { results, errors, deletedMeanwhile: idsOf('deleted'), newerFormat: idsOf('newer-format'), failed: results.filter((r) => !r.ok).length + errors.length, outcomes };
}

/** What verifying the backups of every profile found (verify --all). */
export interface ScrubbedWorkspace {
  /** The profiles that had backups to verify, in the order they were verified. */
  profiles: (ScrubbedProfile & { profileId: string })[];
  /** How many backups the readable catalogs list, verified before or not. */
  backupsSeen: number;
  /** Catalogs that could not be read: their profiles' backups were not verified, and the others were. */
  unreadable: UnreadableCatalogError[];
}

/**
 * Verifies the backups of every profile this workspace keeps backups of (its deleted ones too), profile
 * by profile, each backup as `verifyInTurn` does. A wait that runs out ends the run: the VerificationStopped
 * holds what every profile before verified, not only the last one's.
 */
export async function verifyEveryProfileInTurn(context: WorkspaceContext, backups: BackupLayout, onlyUnverified: boolean, lockWaitMs: number): Promise<ScrubbedWorkspace> {
  const profileIds = workspaceProfilesWithBackups(context.layout, backups);
  // No profile has backups: maybe because the backups folder is on a disk that is not mounted.
  if (profileIds.length === 0) backups.requireVisible('nothing was verified');
  const scrubbed: ScrubbedWorkspace = { profiles: [], backupsSeen: 0, unreadable: [] };
  for (const profileId of profileIds) {
    const { pending, total, unreadable } = backupsToVerify(backups, profileId, onlyUnverified);
    // One catalog that cannot be read does not stop the scrub of the others.
    if (unreadable) {
      scrubbed.unreadable.push(unreadable);
      continue;
    }
    scrubbed.backupsSeen += total;
    if (pending.length === 0) continue;
    try {
      scrubbed.profiles.push({ profileId, ...(await verifyInTurn(context, backups, profileId, pending, lockWaitMs)) });
    } catch (error) {
      if (!(error instanceof VerificationStopped)) throw error;
      const earlier = scrubbed.profiles;
      throw new VerificationStopped(error.busy, {
        results: [...earlier.flatMap((p) => p.results), ...error.done.results],
        errors: [...earlier.flatMap((p) => p.errors), ...error.done.errors],
        left: error.done.left,
      });
    }
  }
  return scrubbed;
}

/** What became of one backup; a busy workspace (the wait ran out) and a cancel are thrown. */
async function outcomeOf(context: WorkspaceContext, backups: BackupLayout, profileId: string, backupId: string, lockWaitMs: number): Promise<ScrubOutcome> {
  try {
    return { backupId, kind: 'verified', result: await verifyBackup({ ...context, lockWaitMs }, backupId) };
  } catch (error) {
    if (isEnvProfilesError(error) && error.code === 'WORKSPACE_BUSY') throw error;
    if (isEnvProfilesError(error) && error.code === 'BACKUP_NOT_FOUND' && !readCatalog(backups, profileId).some((e) => e.id === backupId)) return { backupId, kind: 'deleted' };
    // This version cannot tell whether it is sound (it may well be).
    if (error instanceof NewerFormatError) return { backupId, kind: 'newer-format', message: error.message };
    return { backupId, kind: 'failed', failure: { backupId, ...profileFailure(profileId, error) } };
  }
}

/** The verifications and the failures among `outcomes`. */
function resultsAndErrors(outcomes: ScrubOutcome[]): { results: VerificationResult[]; errors: BackupFailure[] } {
  return {
    results: outcomes.flatMap((o) => (o.kind === 'verified' ? [o.result] : [])),
    errors: outcomes.flatMap((o) => (o.kind === 'failed' ? [o.failure] : [])),
  };
}
