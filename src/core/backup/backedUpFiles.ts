import * as path from 'node:path';
import { EnvProfilesError } from '../errors';
import type { Profile } from '../profileModel';
import { parseProfileText } from '../profileStore';
import type { WorkspaceConfig } from '../workspaceConfig';
import type { WorkspaceContext } from '../workspaceContext';
import type { ArchiveReader } from './archiveReader';
import { databaseRecordsOf, type BackupManifest, type FileRecord } from './backupManifest';

/** The profile file's record in the last backup of `chain`, if the backup holds one. */
export function profileRecord(chain: ArchiveReader[]): FileRecord | undefined {
  return chain[chain.length - 1].manifest.files.find((f): f is FileRecord => f.role === 'profile');
}

/** The content of a file record, following `sameAs` back through the chain. */
export async function fileContent(chain: ArchiveReader[], record: FileRecord | undefined): Promise<Buffer> {
  const { holder, entry, sha256 } = fileEntryOf(chain, record);
  return holder.readVerified(entry, sha256);
}

/**
 * fileContent as a stream, for a file that may be large (a `files:` entry): its SHA-256 is checked at
 * the end, so what it yields may be used only once the iteration ended without an error.
 */
export async function* fileChunks(chain: ArchiveReader[], record: FileRecord | undefined): AsyncGenerator<Buffer> {
  const { holder, entry, sha256 } = fileEntryOf(chain, record);
  yield* holder.verifiedChunks(entry, sha256);
}

/** The archive of the chain that holds a file record's content, and its entry there (`sameAs` followed back). */
function fileEntryOf(chain: ArchiveReader[], record: FileRecord | undefined): { holder: ArchiveReader; entry: string; sha256: string } {
  if (!record) {
    const archive = chain[chain.length - 1].file;
    throw new EnvProfilesError('ARCHIVE_INVALID', `${archive} holds no profile file, so no profile can be made from it.`, { file: archive, hint: 'Restore it over its profile (without --as-new), or restore another backup of it as a new profile.' });
  }
  const last = chain[chain.length - 1];
  if (record.entry) return { holder: last, entry: record.entry, sha256: record.sha256 };
  const { holder, entry } = earlierCopyOf(chain, record);
  return { holder, entry, sha256: record.sha256 };
}

/**
 * Where the content of a file unchanged since an earlier backup is: the backup its record names
 * (`sameAs`), which must be of the chain and hold that file with the same SHA-256 and size. Anything
 * else is a manifest that does not describe the backup: verify reports it, and a restore refuses it
 * before a file is replaced (it found it only when reading the file, after the databases).
 */
function earlierCopyOf(chain: ArchiveReader[], record: FileRecord): { holder: ArchiveReader; entry: string } {
  const last = chain[chain.length - 1];
  const owner = chain.find((a) => a.manifest.backupId === record.sameAs);
  const held = owner?.manifest.files.find((f): f is FileRecord => f.role !== 'database' && f.originalPath === record.originalPath);
  const disagrees = (why: string): EnvProfilesError =>
    new EnvProfilesError('VERIFY_FAILED', `${last.file}: manifest.json says ${record.originalPath} is unchanged since backup ${String(record.sameAs)}, ${why}.`, { file: last.file, hint: 'This backup cannot be restored; use another one.' });
  if (!owner || !held?.entry) throw disagrees('which does not hold it');
  if (held.sha256 !== record.sha256) throw disagrees('which holds other content for it (another SHA-256)');
  if (held.size !== record.size) throw disagrees(`which holds it with ${held.size} bytes, not ${record.size}`);
  return { holder: owner, entry: held.entry };
}

/** Checks every record of the last backup of `chain` that names an earlier backup for its content (see earlierCopyOf). */
export function checkUnchangedFiles(chain: ArchiveReader[]): void {
  for (const record of chain[chain.length - 1].manifest.files) {
    if (record.role !== 'database' && record.entry === null) earlierCopyOf(chain, record);
  }
}

/** The profile as the last backup of `chain` holds it (undefined when it holds none, or one that does not parse). */
export async function profileFromBackup(context: WorkspaceContext, config: WorkspaceConfig, chain: ArchiveReader[], profileId: string): Promise<Profile | undefined> {
  const record = profileRecord(chain);
  if (!record) return undefined;
  const text = (await fileContent(chain, record)).toString('utf8');
  return parseProfileText(text, `${path.basename(chain[chain.length - 1].file)}:${record.entry ?? record.originalPath}`, context.layout, config, profileId).profile;
}

/**
 * Where the backup's copy of the profile file and its manifest disagree on a database the backup holds
 * (the copy names another path for it, or none), in words; undefined when they agree. A backup reads the
 * profile file again when it archives it, so an edit made meanwhile gives such a copy, and so can a
 * hand-made archive. Put back as it is, it would send the profile to files the restore did not write.
 * (A file of files: the copy does not list is no such disagreement: the copy sends the profile nowhere
 * wrong, and without it the profile would have no file at all.)
 */
export function profileCopyDisagreement(manifest: BackupManifest, copy: Profile): string | undefined {
  const differences = databaseRecordsOf(manifest)
    .filter((record) => copy.databases[record.logicalName] !== record.originalPath)
    .map((record) => {
      const inCopy = copy.databases[record.logicalName];
      return inCopy === undefined
        ? `it has no ${record.logicalName}, which the backup found at ${record.originalPath}`
        : `it puts ${record.logicalName} at ${inCopy}, where the backup found it at ${record.originalPath}`;
    });
  return differences.length > 0 ? differences.join('; ') : undefined;
}
