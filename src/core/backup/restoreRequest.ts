import { namedFew } from '../namedFew';

// What a restore is asked (over its profile, as a new one, one database, a dry run) and what it answers,
// and how its notes word what was done or, in a dry run, what would be.

export interface RestoreRequest {
  /** A backup id or the path of an archive. */
  reference: string;
  /** Restore into a new profile with this id instead of over the original. */
  asNew?: string;
  /** Restore only this logical database. */
  database?: string;
  /** The id typed to confirm restoring over a protected profile. */
  confirmedId?: string;
  /** Check and plan only: say what the restore would write and replace, and change nothing. */
  dryRun?: boolean;
  cwd?: string;
}

export interface RestoreResult {
  backupId: string;
  profileId: string;
  databases: string[];
  files: string[];
  safetyBackup?: string;
  /** Whether the safety backup passed verification (false: it holds the replaced data exactly, but that data was already damaged; a note says so). */
  safetyBackupVerified?: boolean;
  notes: string[];
  durationMs: number;
  /** Set by a dry run, which changed nothing: what the restore would write (each replaced, or made new). */
  plan?: RestorePlan;
}

/** What a restore wrote, for its one-line summary: its databases, else its files (a backup that holds no database: its databases were all missing or damaged). */
export function restoredWhat(result: Pick<RestoreResult, 'databases' | 'files'>): string {
  if (result.databases.length > 0) return result.databases.join(', ');
  // The notes say why the backup holds no database (and whether the profile file was put back).
  return result.files.length > 0 ? `${result.files.length === 1 ? 'the file' : 'the files'} ${namedFew(result.files, 5)} (no database: the backup holds none)` : 'no database (the backup holds none)';
}

export interface RestorePlan {
  /** Every file the restore would write: a database (its logical name), a `files:` entry, the profile file. */
  writes: { kind: 'database' | 'file' | 'profile file'; name: string; path: string; exists: boolean }[];
  /** Whether a safety backup of the current state would be taken first. */
  safetyBackupFirst: boolean;
  /** Set when the restore needs `--confirm <this id>` (a protected profile). */
  confirmationNeeded?: string;
  /** What would refuse the restore if it ran now (each as its error says it), e.g. the application is live. */
  wouldRefuse: string[];
  /**
   * The backup has not passed a verification (never verified, or an archive the catalog does not list),
   * and a dry run reads only its manifest: the plan says nothing of its data. (One that failed has a note.)
   */
  notVerified: boolean;
  /**
   * For a backup that passed a verification: why its archive, or one of its chain, is no longer the one
   * verified (its SHA-256 differs from the catalog's, or it is gone), e.g. "its archive changed since it
   * was verified"; absent when every archive is as verified. The dry run hashes the archives for it.
   */
  changedSinceVerified?: string;
  /** Whether the archive is the one the catalog lists: only then can a verification of it be on record (`verify` records none for a copy). */
  listed: boolean;
}

/** Whether notes tell what a restore did, or (a dry run) what it would do. */
export type Outcome = 'done' | 'planned';

export function told(outcome: Outcome, done: string, planned: string): string {
  return outcome === 'done' ? done : planned;
}
