import * as fs from 'node:fs';
import * as path from 'node:path';
import { rollBackNewProfile } from './journalRecovery';
import { removeJournal, writeJournal, type NewProfileJournal } from './operationJournal';
import type { WorkspaceContext } from './workspaceContext';

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
 * Runs the making of a new profile (its database files, then its profile file, which is the commit
 * point) under a journal: a failure or a kill leaves either the complete profile or nothing of it.
 */
export async function withNewProfileJournal<T>(
  context: WorkspaceContext,
  details: { operation: 'clone' | 'create'; source: string; target: string; newFiles: string[] },
  make: () => Promise<T>,
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
  };
  const name = `${details.operation}-${details.target}`;
  writeJournal(layout, name, journal);
  let result: T;
  try {
    context.onStep?.('journal-written');
    result = await make();
    writeJournal(layout, name, { ...journal, phase: 'committed' });
  } catch (error) {
    rollBackNewProfile(journal);
    removeJournal(layout, name);
    throw error;
  }
  // Past the commit point: an interruption from here on is finished, not rolled back, by the next command.
  context.onStep?.('committed');
  removeJournal(layout, name);
  return result;
}
