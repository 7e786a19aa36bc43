import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EnvProfilesError } from '../errors';
import { fileSha256 } from '../fileDigest';
import { permissionsOf } from '../filePermissions';
import { pathKind } from '../pathKind';
import { missingFileReason, notAFileProblem } from '../profileFiles';
import { realLocation } from '../pathSafety';
import { readGeneratedEnvFile } from '../envFileFormat';
import type { Profile } from '../profileModel';
import type { WorkspaceConfig } from '../workspaceConfig';
import type { WorkspaceContext } from '../workspaceContext';
import { ArchiveReader } from './archiveReader';
import { ArchiveWriter } from './archiveWriter';
import { RAW_COPY_FOLDER, type FileRecord, type RawCopy } from './backupManifest';
import type { BackupOptions } from './backupRequest';
import { pooledChunks } from './pooledChunks';
import { quietReadDeadline, readWhenQuiet, sightingOf, type FileSighting } from './quietFileRead';

// The profile's other files into the archive (its YAML, its files:, the generated env file, raw copies of
// damaged databases), each stored again only when it changed since the parent.

/** A file of the environment: the profile YAML, one of its `files:`, or the env file when it was generated for this profile. */
export interface EnvironmentFile {
  role: FileRecord['role'];
  written: string;
  /** How it was as the backup started: a read that agrees with it later needs no wait (see readWhenQuiet). */
  sighted: FileSighting;
}

/** The files of the environment, each with a sighting of it taken now (as the backup starts). */
export function sightEnvironmentFiles(context: WorkspaceContext, config: WorkspaceConfig, profile: Profile): EnvironmentFile[] {
  const { layout } = context;
  const written: Omit<EnvironmentFile, 'sighted'>[] = [{ role: 'profile', written: layout.relative(layout.profileFile(profile.id)) }];
  for (const file of profile.files) written.push({ role: 'file', written: file });
  const envText = config.envFile ? readGeneratedEnvFile(layout.resolve(config.envFile)) : undefined;
  if (config.envFile && envText?.includes(`ENVPROFILE_ID='${profile.id}'`)) written.push({ role: 'env-file', written: config.envFile });
  return written.map((file) => ({ ...file, sighted: sightingOf(layout.resolve(file.written)) }));
}

/** The files of the environment (see sightEnvironmentFiles) into the archive. Unchanged files are referenced, not stored. */
export async function archiveFiles(context: WorkspaceContext, profile: Profile, writer: ArchiveWriter, parent: ArchiveReader | undefined, options: BackupOptions, candidates: EnvironmentFile[]): Promise<{ records: FileRecord[]; notes: string[] }> {
  const { layout } = context;
  const deadline = quietReadDeadline();
  const records: FileRecord[] = [];
  const notes: string[] = [];
  // Validation refuses a file listed twice, but a profile that does not validate is still backed up
  // (backup --all): each file goes in once, so the archive never holds an entry name twice.
  const seen = new Set<string>();
  for (const { role, written, sighted } of candidates) {
    const absolute = layout.resolve(written);
    const real = realLocation(absolute);
    if (seen.has(real)) continue;
    seen.add(real);
    const state = pathKind(absolute);
    if (state === 'missing' && role === 'profile' && options.profileFileContent) {
      records.push(await archiveFileContent(writer, parent, role, written, options.profileFileContent, 0o644));
      continue;
    }
    if (state === 'missing') {
      notes.push(`${written}${role === 'file' ? ' (in files:)' : ''} ${missingFileReason(written)}, so it is not in this backup`);
      continue;
    }
    if (state !== 'file') {
      const { message, hint } = notAFileProblem(written, state);
      // In an emergency the rest is saved; otherwise the profile is fixed first.
      if (options.saveWhatCan) {
        notes.push(`${message}, so it was left out of this backup`);
        continue;
      }
      throw new EnvProfilesError('PROFILE_INVALID', `${message}, so ${profile.id} cannot be backed up; nothing was written.`, { file: layout.relative(layout.profileFile(profile.id)), hint: `${hint} Then back up again.` });
    }
    const { record, note } = await archiveFileFromDisk(writer, parent, role, written, absolute, sighted, deadline, () => context.progress?.(`Waiting for ${written} to be saved: it is being written`));
    if (record) records.push(record);
    if (note) notes.push(note);
  }
  return { records, notes };
}

/** One file of the environment into the archive, or (unchanged since the parent) a reference to where it is. */
async function archiveFileContent(writer: ArchiveWriter, parent: ArchiveReader | undefined, role: FileRecord['role'], written: string, content: Buffer, mode: number): Promise<FileRecord> {
  const sha256 = createHash('sha256').update(content).digest('hex');
  const previous = parentRecordOf(parent, written);
  if (previous && previous.sha256 === sha256) return referenceTo(parent, previous, { role, originalPath: written, size: content.length, sha256, mode });
  const entry = writer.freeName(fileEntryName(role, written));
  await writer.addBuffer(entry, content);
  return { role, originalPath: written, size: content.length, sha256, mode, entry };
}

/** A file up to this size is read whole (see readWhenQuiet); a larger one (a data file, a log) is streamed. */
const READ_WHOLE_BYTES = 4 * 1024 * 1024;

/**
 * archiveFileContent for a file on disk. One of up to READ_WHOLE_BYTES is read whole once nothing is
 * writing it (before, a config file saved in place as it was read was archived empty or cut short, and
 * a restore put that back). A larger one is streamed, so that memory stays flat however large (read
 * whole, a 300 MB file took 437 MB): read once to compare with the parent's when their sizes agree,
 * then once into the archive, hashing what is archived. It is archived up to the size it had when this
 * began, which is a whole version of a file that is only appended to (a log); one rewritten meanwhile
 * is said in the note.
 */
async function archiveFileFromDisk(writer: ArchiveWriter, parent: ArchiveReader | undefined, role: FileRecord['role'], written: string, absolute: string, sighted: FileSighting | undefined, deadline: number, onWait: () => void): Promise<{ record?: FileRecord; note?: string }> {
  const mode = permissionsOf(absolute);
  const before = fs.statSync(absolute, { bigint: true });
  const named = `${written}${role === 'file' ? ' (in files:)' : ''}`;
  const rewrittenNote = `${named} was being written while it was read, so its copy in this backup may mix two versions of it; back up again once nothing writes it`;
  if (before.size <= READ_WHOLE_BYTES) {
    const read = await readWhenQuiet(absolute, sighted, deadline, onWait);
    if (!read) return { note: `${named} was removed (or replaced by something that is not a file) while it was being backed up, so it is not in this backup` };
    return { record: await archiveFileContent(writer, parent, role, written, read.content, mode), note: read.quiet ? undefined : rewrittenNote };
  }
  const size = Number(before.size);
  const previous = parentRecordOf(parent, written);
  if (previous && previous.size === size) {
    const sha256 = await fileSha256(absolute);
    if (previous.sha256 === sha256) return { record: referenceTo(parent, previous, { role, originalPath: written, size, sha256, mode }) };
  }
  const entry = writer.freeName(fileEntryName(role, written));
  const record: FileRecord = { role, originalPath: written, ...(await streamIntoArchive(writer, entry, absolute, size)), mode, entry };
  const after = fs.statSync(absolute, { bigint: true, throwIfNoEntry: false });
  // Replaced whole (another inode) or only appended to: what was read is one version of it.
  const rewritten = after !== undefined && after.ino === before.ino && after.mtimeNs !== before.mtimeNs && after.size <= before.size;
  return { record, note: rewritten ? rewrittenNote : undefined };
}

/** `file`'s first `size` bytes into the entry `entry`, streamed and hashed: what was archived (fewer bytes if it shrank meanwhile). */
async function streamIntoArchive(writer: ArchiveWriter, entry: string, file: string, size: number): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let archived = 0;
  await writer.addStream(entry, pooledChunks(file, size), { atMost: size }, (chunk) => {
    hash.update(chunk);
    archived += chunk.length;
  });
  return { size: archived, sha256: hash.digest('hex') };
}

/**
 * A damaged database cannot be backed up as a database, but a backup that saves what it can (the
 * emergency one) keeps its files as they are: the file, and its -wal or -journal, which hold part of its
 * data. It may be all that is left of them, and a tool that mends databases can start from it.
 */
export async function archiveRawCopies(context: WorkspaceContext, writer: ArchiveWriter, logical: string, source: string): Promise<RawCopy[]> {
  const copies: RawCopy[] = [];
  for (const suffix of ['', '-wal', '-journal'] as const) {
    const file = `${source}${suffix}`;
    if (pathKind(file) !== 'file') continue;
    const size = fs.statSync(file).size;
    if (suffix !== '' && size === 0) continue;
    context.progress?.(`Keeping ${path.basename(file)} as it is (damaged)`);
    const entry = writer.freeName(`${RAW_COPY_FOLDER}/${logical}/${path.basename(source)}${suffix}`);
    copies.push({ suffix, entry, ...(await streamIntoArchive(writer, entry, file, size)) });
  }
  return copies;
}

function parentRecordOf(parent: ArchiveReader | undefined, written: string): FileRecord | undefined {
  return parent?.manifest.files.find((f): f is FileRecord => f.role !== 'database' && f.originalPath === written);
}

/** A record that holds no copy: the file is the one the parent holds (or refers to in turn). */
function referenceTo(parent: ArchiveReader | undefined, previous: FileRecord, record: Omit<FileRecord, 'entry' | 'sameAs'>): FileRecord {
  return { ...record, entry: null, sameAs: previous.entry ? parent?.manifest.backupId : previous.sameAs };
}

/**
 * The archive entry of a file: its path as written, made a plain relative name (the manifest keeps the
 * path itself). A path outside the workspace (`/srv/app/app.ini`, `C:\\app.ini`, in an allowed
 * directory) goes under `_root_/`; `..` becomes `__`. Before, an absolute path gave "files//srv/…",
 * which the reader refuses, so every such backup failed its verify and restore, and so did the
 * incrementals after it.
 */
export function fileEntryName(role: FileRecord['role'], written: string): string {
  const slashed = written.replace(/\\/g, '/');
  const absolute = slashed.startsWith('/') || /^[A-Za-z]:\//.test(slashed);
  const parts = slashed.replace(/^([A-Za-z]):\//, '$1_/').split('/').filter((part) => part !== '' && part !== '.').map((part) => (part === '..' ? '__' : part));
  return [role === 'profile' ? 'profile' : 'files', ...(absolute ? ['_root_'] : []), ...parts].join('/');
}
