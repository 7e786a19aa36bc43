import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { rollBackNewProfile } from './journalRecovery';
import { inodeOf } from './sqlite/fileStamp';
import { removeJournal, writeJournal, type NewProfileJournal } from './operationJournal';
import { writeNewProfileFile } from './profileStore';
import { throwIfCancelled, type WorkspaceContext } from './workspaceContext';

/** The folders from `dir` up to (not including) `root` that do not exist yet, outermost first. */
function missingAncestors(dir: string, root: string): string[] {
  const missing: string[] = [];
  let current = dir;
  while (current !== root && current !== path.dirname(current) && !fs.existsSync(current)) {
    missing.unshift(current);
    current = path.dirname(current);
  }
  return missing;
}

/**
 * Records in the journal a database the operation is about to rename from `temp` into place at
 * `target` (one of its newFiles), by the identity it keeps through the rename, so that a rollback
 * removes it and nothing else someone may make at that path.
 */
export type ClaimNewFile = (temp: string, target: string) => void;

/**
 * Runs the making of a new profile under a journal: `make` makes its database files (calling `claim`
 * before each one's rename), then this writes `profileText` as its profile file, which is the commit
 * point. A failure or a kill leaves either the complete profile or nothing of it.
 */
export async function withNewProfileJournal<T>(
  context: WorkspaceContext,
  details: { operation: 'clone' | 'create'; source: string; target: string; newFiles: string[]; profileText: string },
  make: (claim: ClaimNewFile) => Promise<T>,
): Promise<{ made: T; profileFile: string }> {
  const { layout } = context;
  const profileSha256 = createHash('sha256').update(details.profileText).digest('hex');
  const made = await withNewFilesJournal(context, { ...details, profileSha256 }, make, () => {
    writeNewProfileFile(layout, details.target, details.profileText, () => context.onStep?.('profile-ready'));
    context.onStep?.('profile-written');
  });
  return { made, profileFile: layout.profileFile(details.target) };
}

/**
 * Runs the making of an existing profile's missing databases under a journal: all of them, or (after a
 * failure or a kill) none, as a new profile's. The profile file is neither written nor removed.
 */
export async function withNewDatabasesJournal<T>(context: WorkspaceContext, profileId: string, newFiles: string[], make: (claim: ClaimNewFile) => Promise<T>): Promise<T> {
  return withNewFilesJournal(context, { operation: 'initialise', source: 'missing databases', target: profileId, newFiles }, make, () => undefined);
}

async function withNewFilesJournal<T>(
  context: WorkspaceContext,
  details: { operation: NewProfileJournal['operation']; source: string; target: string; newFiles: string[]; profileSha256?: string },
  make: (claim: ClaimNewFile) => Promise<T>,
  commit: () => void,
): Promise<T> {
  const { layout } = context;
  const workDirectories = [...new Set(details.newFiles.map((file) => path.dirname(file)))];
  const journal: NewProfileJournal = {
    operation: details.operation,
    phase: 'prepared',
    startedAt: context.now().toISOString(),
    source: details.source,
    target: details.target,
    profileFile: layout.profileFile(details.target),
    createdFiles: details.newFiles,
    createdDirectories: [...new Set(workDirectories.flatMap((dir) => missingAncestors(dir, layout.root)))].sort(),
    workDirectories,
    madeFiles: [],
    ...(details.profileSha256 === undefined ? {} : { profileSha256: details.profileSha256 }),
  };
  const name = `${details.operation}-${details.target}`;
  writeJournal(layout, name, journal);
  let made: T;
  try {
    context.onStep?.('journal-written');
    made = await make((temp, target) => {
      journal.madeFiles?.push({ path: target, ino: inodeOf(temp) ?? '' });
      writeJournal(layout, name, journal);
      context.onStep?.(`claimed:${layout.relative(target)}`);
    });
    throwIfCancelled(context);
    commit();
    writeJournal(layout, name, { ...journal, phase: 'committed' });
  } catch (error) {
    rollBackNewProfile(journal);
    removeJournal(layout, name);
    throw error;
  }
  // Past the commit point: an interruption from here on is finished, not rolled back, by the next command.
  context.onStep?.('committed');
  removeJournal(layout, name);
  return made;
}
