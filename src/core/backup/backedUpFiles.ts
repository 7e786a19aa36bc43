import * as path from 'node:path';
import { EnvProfilesError } from '../errors';
import type { Profile } from '../profileModel';
import { parseProfileText } from '../profileStore';
import type { WorkspaceConfig } from '../workspaceConfig';
import type { WorkspaceContext } from '../workspaceContext';
import type { ArchiveReader } from './archiveReader';
import type { FileRecord } from './backupManifest';

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
  const owner = chain.find((a) => a.manifest.backupId === record.sameAs);
  const inOwner = owner?.manifest.files.find((f): f is FileRecord => f.role !== 'database' && f.originalPath === record.originalPath);
  if (!owner || !inOwner?.entry) throw new EnvProfilesError('VERIFY_FAILED', `${last.file}: ${record.originalPath} refers to backup ${String(record.sameAs)}, which does not hold it.`, { file: last.file });
  return { holder: owner, entry: inOwner.entry, sha256: record.sha256 };
}

/** The profile as the last backup of `chain` holds it (undefined when it holds none, or one that does not parse). */
export async function profileFromBackup(context: WorkspaceContext, config: WorkspaceConfig, chain: ArchiveReader[], profileId: string): Promise<Profile | undefined> {
  const record = profileRecord(chain);
  if (!record) return undefined;
  const text = (await fileContent(chain, record)).toString('utf8');
  return parseProfileText(text, `${path.basename(chain[chain.length - 1].file)}:${record.entry ?? record.originalPath}`, context.layout, config, profileId).profile;
}
