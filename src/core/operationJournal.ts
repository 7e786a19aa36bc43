import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonSteadily } from './steadyRead';
import { writeFileAtomic } from './atomicFile';
import type { OutputSnapshot, PlannedOutput } from './switchOutputs';
import type { WorkspaceLayout } from './workspaceLayout';
import { journalShapeProblem } from './journalShape';
import { pathKind } from './pathKind';

/** A switch in progress: everything needed to undo it byte for byte, or to finish it. */
export interface SwitchJournal {
  operation: 'switch';
  phase: 'prepared' | 'committed';
  startedAt: string;
  from: string | null;
  to: string;
  outputs: (PlannedOutput & { before: OutputSnapshot })[];
}

/**
 * A clone or create in progress, or the making of an existing profile's missing databases (`initialise`,
 * which never writes or removes its profile file): the files it may have created, removed if it did
 * not finish.
 */
export interface NewProfileJournal {
  operation: 'clone' | 'create' | 'initialise';
  phase: 'prepared' | 'committed';
  startedAt: string;
  /** The profile cloned from, or how the profile was created. */
  source: string;
  target: string;
  profileFile: string;
  createdFiles: string[];
  createdDirectories: string[];
  /** Folders where the clone's temporary files may be. */
  workDirectories: string[];
  /**
   * The files of createdFiles this operation put in place, each with the identity (inode) it had under
   * its temporary name, recorded before the rename; and the SHA-256 of the profile file it writes. A
   * rollback removes only those: a file someone else made at one of the paths after an interruption
   * (before the next command rolled it back) is theirs. Absent in journals of versions before
   * 2026-12-05, which removed every created path.
   */
  madeFiles?: { path: string; ino: string }[];
  profileSha256?: string;
}

/**
 * A backup being written: its temporary archive and staging folder, removed if it did not finish.
 * It has no phase: the catalog is the commit point (an archive the catalog lists is kept).
 */
export interface BackupJournal {
  operation: 'backup';
  startedAt: string;
  profileId: string;
  backupId: string;
  archiveTemp: string;
  archiveFinal: string;
  stagingDir: string;
}

/**
 * A file a restore set aside (`from`, moved to the temporary `path`), so that it can be put back. After
 * the commit it is deleted, or with `keepAs` kept under that name: a file that could not be backed up
 * first (not a SQLite database) is never deleted.
 */
export interface KeptFile {
  path: string;
  from: string;
  keepAs?: string;
}

/** A restore swapping files: for each target, where the old file was kept, so it can be put back. */
export interface RestoreJournal {
  operation: 'restore';
  phase: 'prepared' | 'committed';
  startedAt: string;
  profileId: string;
  backupId: string;
  stagingDir: string;
  swaps: { target: string; incoming: string; keptOld: KeptFile[] }[];
}

/**
 * A prune deleting archives. The catalog is the commit point: once it no longer lists a backup, its
 * archive is deleted; an interrupted prune's next command deletes those the catalog does not list
 * (before, they stayed, and every prune after refused: "the catalog disagrees with the folder").
 */
export interface PruneJournal {
  operation: 'prune';
  startedAt: string;
  profileId: string;
  catalogFile: string;
  archives: { id: string; file: string }[];
}

/**
 * A delete with its data (see deleteProfileFiles): the profile file and the database files, each renamed
 * aside (`from` to the temporary `path`). Before the commit they are put back; after it, removed.
 */
export interface DeleteJournal {
  operation: 'delete';
  phase: 'prepared' | 'committed';
  startedAt: string;
  profileId: string;
  profileFile: string;
  aside: { from: string; path: string }[];
}

export type OperationJournal = SwitchJournal | NewProfileJournal | BackupJournal | RestoreJournal | PruneJournal | DeleteJournal;

export function journalPath(layout: WorkspaceLayout, name: string): string {
  return path.join(layout.journalDir, `${name}.json`);
}

export function writeJournal(layout: WorkspaceLayout, name: string, journal: OperationJournal): void {
  writeFileAtomic(journalPath(layout, name), JSON.stringify(journal));
}

export function removeJournal(layout: WorkspaceLayout, name: string): void {
  fs.rmSync(journalPath(layout, name), { force: true });
}

/** Every journal left in the workspace; a torn one (never completely written) is reported as undefined. */
export function listJournals(layout: WorkspaceLayout): { name: string; journal?: OperationJournal }[] {
  let names: string[];
  try {
    names = fs.readdirSync(layout.journalDir);
  } catch {
    return [];
  }
  return names
    // A folder or a named pipe under a journal's name was never written by this tool: not ours, left
    // alone (a folder made every command fail, removing it as a torn journal).
    .filter((n) => JOURNAL_FILE_NAME.test(n) && pathKind(path.join(layout.journalDir, n)) === 'file')
    .map((n) => {
      const name = n.slice(0, -'.json'.length);
      let journal: unknown;
      try {
        // Read again if it does not parse: a disk that reads it wrong for a moment (see readSteadily) made it
        // one to keep aside, its operation neither finished nor rolled back.
        journal = readJsonSteadily(path.join(layout.journalDir, n))?.value;
      } catch {
        return { name };
      }
      if (journal === undefined) return { name };
      // Whole (journals are written atomically) but of no operation we know: not ours, so never acted on
      // or removed (recovery keeps a damaged journal of ours aside, and would have moved it).
      if (!KNOWN_OPERATIONS.has((journal as { operation?: unknown } | null)?.operation)) return undefined;
      // Ours, but with fields recovery cannot act on: as one that cannot be read (kept aside, said).
      return journalShapeProblem(journal) ? { name } : { name, journal: journal as OperationJournal };
    })
    .filter((entry): entry is { name: string; journal?: OperationJournal } => entry !== undefined);
}

/** The operations that keep a journal, and the names they give it (see writeJournal's callers): `switch`, or `<operation>-<id>`. Any other file there is not one. */
const OPERATIONS_NAMED_BY_ID = ['backup', 'restore', 'clone', 'create', 'initialise', 'prune', 'delete'];
const KNOWN_OPERATIONS = new Set<unknown>(['switch', ...OPERATIONS_NAMED_BY_ID]);
const JOURNAL_FILE_NAME = new RegExp(`^(switch|(${OPERATIONS_NAMED_BY_ID.join('|')})-[^/\\\\]+)\\.json$`);
