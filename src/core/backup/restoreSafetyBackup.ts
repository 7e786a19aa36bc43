import * as fs from 'node:fs';
import { isEnvProfilesError, reworded } from '../errors';
import { siblingPath } from '../fittingName';
import { realLocation } from '../pathSafety';
import type { Profile } from '../profileModel';
import type { WorkspaceConfig } from '../workspaceConfig';
import type { WorkspaceContext } from '../workspaceContext';
import { backUpProfile } from './backupCreation';
import type { LeftOutDatabase } from './backupRequest';
import { databaseFileProblem } from '../sqlite/sqliteHeader';
import { checkSafetyBackup, safetyBackupFailed } from './safetyBackupCheck';
import { DATABASE_FILE_SUFFIXES } from '../sqlite/companionFiles';
import { type Outcome, told } from './restoreRequest';
import { namedFew } from '../namedFew';
import { outputLinkAtDatabasePath } from '../outputCollisions';

// The safety backup a restore over a profile takes first: what it holds, and what is kept aside instead
// when a file the restore replaces cannot be backed up (not a SQLite database, damaged).

const LONGEST_COMPANION_BYTES = Math.max(...DATABASE_FILE_SUFFIXES.map((suffix) => suffix.length));

/**
 * The safety backup before a restore over `profile`: every database file the restore replaces
 * (`replaced`, real paths) and every other database of the profile (the whole state before the
 * restore), those that exist now. A file that is there but is not a SQLite database cannot be backed
 * up; if the restore replaces it, it is kept beside its target instead, never deleted: `keptAs` gives
 * the name.
 */
export async function backUpWhatIsThere(context: WorkspaceContext, config: WorkspaceConfig, profile: Profile, plan: SafetyBackupPlan, profileFileContent: Buffer | undefined): Promise<{ safetyBackup?: string; safetyBackupVerified?: boolean; keptAs: Map<string, string>; notes: string[] }> {
  if (!plan.takesBackup) return { keptAs: plan.keptAs, notes: plan.notes };
  const first = await takeSafetyBackup(context, config, profile, plan, profileFileContent, 'auto');
  context.onStep?.('safety-backup-written');
  let taken = first;
  let checked = await checkSafetyBackup(context, first.id, first.archive);
  // An incremental gives the data back only with the archives it builds on: one of them damaged on the
  // disk since fails it. A full one needs none of them (before, the restore stopped here, and said to
  // take a full backup by hand and restore again).
  if ('failed' in checked && first.kind === 'incremental') {
    context.logger.warn(`the incremental safety backup ${first.id} failed verification (${checked.failed}); taking a full one instead`);
    taken = await takeSafetyBackup(context, config, profile, plan, profileFileContent, 'full');
    context.onStep?.('safety-backup-written');
    const failedFirst = checked.failed;
    checked = await checkSafetyBackup(context, taken.id, taken.archive);
    if (!('failed' in checked)) plan.notes.push(`the safety backup was first taken as an incremental, ${first.id}, which failed verification (${failedFirst}); a full backup, ${taken.id}, was taken in its place`);
  }
  if ('failed' in checked) throw safetyBackupFailed(taken.id, checked);
  const unlisted = taken.unlistedNote ? [taken.unlistedNote] : [];
  return { safetyBackup: taken.id, safetyBackupVerified: checked.verified, keptAs: plan.keptAs, notes: [...plan.notes, ...checked.notes, ...unlisted] };
}

/** Takes the safety backup (`kind` 'auto': incremental on the profile's chain when it has one); the damaged databases it left out are kept aside. */
async function takeSafetyBackup(context: WorkspaceContext, config: WorkspaceConfig, profile: Profile, plan: SafetyBackupPlan, profileFileContent: Buffer | undefined, kind: 'auto' | 'full'): Promise<{ id: string; archive: string; kind: string; unlistedNote?: string }> {
  context.progress?.(`Taking a ${kind === 'full' ? 'full ' : ''}safety backup of the current state`);
  try {
    // The damaged databases the restore leaves as they are go in too, to be named as left out: a backup
    // that does not name one would read as holding the whole profile (see profileDeletion's unnamed).
    // So do those that do not exist: named as left out, the backup does not read as the whole profile.
    // (One with no database at all says so as "files only, no database".)
    const missing = Object.keys(plan.present).length > 0 ? plan.missing : {};
    const made = await backUpProfile(context, config, { ...profile, databases: { ...plan.present, ...plan.damagedLeft, ...missing } }, kind, 'before-restore', { profileFileContent, leaveOutDamaged: true, leaveOutMissing: true });
    // Said once: a second safety backup (full, in place of an incremental that failed) leaves out the same.
    // Those the plan found damaged or missing already have their note.
    const noted = (logical: string): boolean => Object.hasOwn(plan.damagedLeft, logical) || Object.hasOwn(plan.missing, logical);
    if (kind === 'auto') for (const damaged of made.leftOut ?? []) if (!noted(damaged.logicalName)) plan.notes.push(keepDamagedAside(context, damaged, plan));
    const unlistedNote = made.unlisted ? `the safety backup ${made.entry.id} is not listed in the catalog of ${profile.id}, which cannot be read; ${made.listedBy}` : undefined;
    return { id: made.entry.id, archive: made.archive, kind: made.entry.kind, ...(unlistedNote ? { unlistedNote } : {}) };
  } catch (error) {
    // Whatever stopped it (a full disk, a locked database, a folder in files:) is said as it is, after what it means for the restore.
    if (!isEnvProfilesError(error) || error.code === 'CANCELLED') throw error;
    throw reworded(error, `Nothing was restored: the safety backup of the current state comes first, and it could not be made. ${error.message}`);
  }
}

/** What the safety backup holds (`present`: logical name to path), and what is kept aside instead of backed up (`keptAs`). */
interface SafetyBackupPlan {
  present: Record<string, string>;
  /** The damaged databases (logical name to path) the restore does not replace: left as they are, and named in the safety backup as left out. */
  damagedLeft: Record<string, string>;
  /** The databases (logical name to path) whose files do not exist: named in the safety backup as left out. */
  missing: Record<string, string>;
  keptAs: Map<string, string>;
  notes: string[];
  /** The database files the restore replaces (real paths). */
  replacedFiles: Set<string>;
  /** Whether there is anything to back up: a database in `present`, or a file of the profile's files: that the restore replaces. */
  takesBackup: boolean;
}

/** Where a database file the restore replaces but cannot back up first is kept: beside it, with room for its companions' suffixes. */
function keptAsideName(context: WorkspaceContext, file: string): string {
  return siblingPath(file, `.before-restore-${context.now().toISOString().replace(/[:.]/g, '-')}`, LONGEST_COMPANION_BYTES);
}

/**
 * A database the safety backup found damaged (SQLite: malformed): one the restore replaces is kept
 * beside its target, byte for byte, instead; one it does not replace is left as it is. Says which.
 */
function keepDamagedAside(context: WorkspaceContext, damaged: LeftOutDatabase, plan: SafetyBackupPlan): string {
  const file = realLocation(context.layout.resolve(damaged.originalPath));
  if (!plan.replacedFiles.has(file)) return `${damaged.reason} with the rest first; this restore does not replace it, and left it as it is`;
  const keepAs = keptAsideName(context, file);
  plan.keptAs.set(file, keepAs);
  return `${damaged.reason} first; it was kept as ${context.layout.relative(keepAs)}`;
}

/** The safety backup a restore over `profile` takes, from the files there now (`outcome` words the notes). */
export function safetyBackupPlan(context: WorkspaceContext, config: WorkspaceConfig, profile: Profile, replaced: { logicalName: string; file: string; written: string }[], replacedFilesNow: string[], outcome: Outcome): SafetyBackupPlan {
  const { layout } = context;
  const notes: string[] = [];
  const keptAs = new Map<string, string>();
  const present: Record<string, string> = {};
  const damagedLeft: Record<string, string> = {};
  const missing: Record<string, string> = {};
  const replacedFiles = new Set(replaced.map((r) => r.file));
  const others = Object.entries(profile.databases)
    .map(([logicalName, written]) => ({ logicalName, written, file: realLocation(layout.resolve(written)) }))
    .filter((d) => !replacedFiles.has(d.file) && !replaced.some((r) => r.logicalName === d.logicalName));
  for (const { logicalName: logical, file, written } of [...replaced, ...others]) {
    // (A database this restore replaces is never there: restoring it is refused.)
    const link = outputLinkAtDatabasePath(layout, config, written);
    if (link) {
      notes.push(`${written} (${logical}) is where a switch writes ${link.output}, and that link is there: it leads to ${link.leadsTo}, not a database of ${profile.id}'s own, so the safety backup ${told(outcome, 'left', 'would leave')} it out, and this restore ${told(outcome, 'left', 'would leave')} it as it is ("envprofiles validate ${profile.id}" says what to change)`);
      continue;
    }
    if (!fs.existsSync(file)) {
      if (!Object.hasOwn(missing, logical)) missing[logical] = written;
      continue;
    }
    const problem = databaseFileProblem(file);
    // Under the path the profile gives it when that leads to this very file (a link stays a link in the
    // manifest), else where it is: the safety backup holds the file that is replaced, whatever the profile says.
    const given = profile.databases[logical];
    if (!problem) present[logical] = given !== undefined && realLocation(layout.resolve(given)) === file ? given : written;
    else if (fs.statSync(file).isFile() && replacedFiles.has(file)) {
      const keepAs = keptAsideName(context, file);
      keptAs.set(file, keepAs);
      notes.push(`${written} ${problem}, so it ${told(outcome, 'could not be backed up first; it was kept', 'cannot be backed up first; it would be kept')} as ${layout.relative(keepAs)}`);
    } else if (fs.statSync(file).isFile()) {
      damagedLeft[logical] = written;
      notes.push(`${written} ${problem}, so it cannot be backed up with the rest first; this restore does not replace it, and ${told(outcome, 'left it', 'would leave it')} as it is`);
    }
  }
  // Without a database to back up, the files of its files: that the restore replaces still are (before, they were replaced without one).
  const takesBackup = Object.keys(present).length > 0 || replacedFilesNow.length > 0;
  const noDatabase = Object.values(profile.databases).some((written) => fs.existsSync(layout.resolve(written))) ? 'none of the profile\'s databases can be backed up (see above)' : 'none of the profile\'s databases exist now';
  const missingNames = Object.entries(missing).map(([logical, written]) => `${written} (${logical})`);
  // With no database to back up, the notes below say so for all of them.
  if (Object.keys(present).length > 0 && missingNames.length > 0) {
    const one = missingNames.length === 1;
    notes.push(`${namedFew(missingNames, 5)} ${told(outcome, 'did not exist before this restore', one ? 'does not exist now' : 'do not exist now')}, so the safety backup ${told(outcome, 'holds', 'would hold')} nothing of ${one ? 'it' : 'them'} (it names ${one ? 'it' : 'them'} as left out)`);
  }
  if (Object.keys(present).length === 0 && takesBackup) notes.push(`the safety backup ${told(outcome, 'holds', 'would hold')} the profile's files (${replacedFilesNow.map((file) => layout.relative(file)).join(', ')} among them) and none of its databases: ${noDatabase}`);
  else if (!takesBackup && keptAs.size === 0) notes.push(`no safety backup${told(outcome, '', ' would be taken')}: ${noDatabase}`);
  return { present, damagedLeft, missing, keptAs, notes, replacedFiles, takesBackup };
}
