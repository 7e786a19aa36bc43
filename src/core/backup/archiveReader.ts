import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import * as yauzl from 'yauzl';
import { EnvProfilesError, isEnvProfilesError } from '../errors';
import { pathKind } from '../pathKind';
import { MAX_ARCHIVE_ENTRIES } from './archiveLimits';
import { listedEntries, MANIFEST_ENTRY, parseManifest, rawCopiesOf, type BackupManifest } from './backupManifest';
import { inflateSegments, type SegmentInflater } from './segmentedInflate';
import { crc32, FINAL_EMPTY_BLOCK, type DeflateSegment } from './zipWriter';

/** Deflate cannot compress better than about 1032:1; a declared ratio beyond this is a lie (a zip bomb). */
const MAX_RATIO = 1100;
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

function hostile(archive: string, entry: string, why: string): EnvProfilesError {
  return new EnvProfilesError('ARCHIVE_HOSTILE', `${archive}: entry "${entry}" ${why}; the archive was refused and nothing was written.`, {
    kind: 'refused',
    file: archive,
    field: entry,
    hint: 'Do not use this archive. Backups written by Environment Profiles never contain such entries.',
  });
}

function invalid(archive: string, why: string, entry?: string, hint = 'The archive is damaged; verify it or use another backup.'): EnvProfilesError {
  return new EnvProfilesError('ARCHIVE_INVALID', `${archive}${entry ? `: entry "${entry}"` : ''}: ${why}.`, { file: archive, field: entry, hint });
}

const NOT_A_BACKUP_HINT = 'Give the id of a backup or the path of its .zip file ("envprofiles backups" lists them).';

/** A file given as a backup that is no archive at all: a folder, an empty file, a file that is not a ZIP. */
export class NotAnArchiveError extends EnvProfilesError {
  constructor(file: string, what: string, hint = NOT_A_BACKUP_HINT) {
    super('ARCHIVE_INVALID', `${file}: ${what}.`, { file, hint });
  }
}

/**
 * Why yauzl could not open `file`: a file that does not begin as a ZIP archive does (an empty one, a
 * text file given by mistake) is no backup at all; one that does but has no end (a copy cut short)
 * is a damaged archive.
 */
function unreadableZip(file: string, error: Error): EnvProfilesError {
  const start = Buffer.alloc(4);
  let read = 0;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      read = fs.readSync(fd, start, 0, 4, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return invalid(file, `is not a readable ZIP archive (${error.message})`);
  }
  if (read === 0) return new NotAnArchiveError(file, 'is empty, not a backup archive', `${NOT_A_BACKUP_HINT} An archive left empty by an interrupted copy cannot be read: use another one.`);
  const zipStart = read === 4 && start[0] === 0x50 && start[1] === 0x4b && [0x0304, 0x0506, 0x0708].includes(start.readUInt16BE(2));
  if (!zipStart) return new NotAnArchiveError(file, 'is not a ZIP archive, so not a backup');
  return invalid(file, `is not a readable ZIP archive: it begins like one, but its end is missing or damaged (cut short, as by an interrupted copy?) (${error.message})`);
}

/** The hint of an error that says a file is not a backup at all (no archive, or a ZIP without a manifest), or undefined. */
export function notABackupHint(error: EnvProfilesError): string | undefined {
  return error.code === 'ARCHIVE_INVALID' && error.hint?.startsWith(NOT_A_BACKUP_HINT) ? error.hint : undefined;
}

const hex8 = (value: number): string => value.toString(16).padStart(8, '0');

function corruptEntry(archive: string, entry: string, actual: string, expected: string): EnvProfilesError {
  return new EnvProfilesError('VERIFY_FAILED', `${archive}: entry "${entry}" is corrupt (its SHA-256 is ${actual.slice(0, 12)}…, the manifest says ${expected.slice(0, 12)}…).`, { file: archive, field: entry, hint: 'Use another backup.' });
}

/** Why an entry name could escape the restore target, or undefined when it is safe. */
export function unsafeEntryName(name: string): string | undefined {
  if (name.length === 0) return 'has an empty name';
  if (name.includes('\0')) return 'has a NUL character in its name';
  if (name.includes('\\')) return 'has a backslash in its name';
  if (name.startsWith('/')) return 'has an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'has a drive letter';
  if (name.split('/').some((part) => part === '..')) return 'climbs out with ".."';
  // Doubled slashes are let through: earlier versions named a file of files: with an absolute path
  // "files//srv/app.ini", and those backups must still restore. The name stays inside: no root, no "..".
  if (path.posix.normalize(name) !== name.replace(/\/{2,}/g, '/') || name.endsWith('/')) return 'has a name that is not a plain relative file path';
  return undefined;
}

/**
 * A backup archive opened for reading. Opening checks everything before anything is extracted:
 * entry names, symlinks, duplicates, encryption, overlapping entries, sizes against the manifest,
 * compression ratios, and that the manifest lists exactly the entries there are.
 */
export class ArchiveReader {
  private constructor(
    readonly file: string,
    private readonly zip: yauzl.ZipFile,
    private readonly entries: Map<string, yauzl.Entry>,
    readonly manifest: BackupManifest,
  ) {}

  static async open(file: string): Promise<ArchiveReader> {
    let zip: yauzl.ZipFile;
    const kind = pathKind(file);
    if (kind === 'folder') throw new NotAnArchiveError(file, 'is a folder, not a backup archive');
    // Opening a named pipe waits for a writer, for ever; a device is no archive either.
    if (kind === 'not-a-file') throw new NotAnArchiveError(file, 'is not a regular file (a pipe, a socket or a device), so not a backup archive');
    try {
      zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: true, decodeStrings: true });
    } catch (error) {
      throw unreadableZip(file, error as Error);
    }
    try {
      if (zip.entryCount > MAX_ARCHIVE_ENTRIES) {
        throw new EnvProfilesError('ARCHIVE_HOSTILE', `${file} has ${zip.entryCount.toLocaleString('en-US')} entries, more than any backup holds (at most ${MAX_ARCHIVE_ENTRIES.toLocaleString('en-US')}); the archive was refused and nothing was written.`, {
          kind: 'refused',
          file,
          hint: 'Do not use this archive. Backups written by Environment Profiles never hold that many entries.',
        });
      }
      const entries = await readEntries(file, zip);
      const manifestEntry = entries.get(MANIFEST_ENTRY);
      if (!manifestEntry) throw invalid(file, 'is a ZIP archive without a manifest.json: not an Environment Profiles backup, or one that lost its manifest', undefined, `${NOT_A_BACKUP_HINT} A backup whose manifest is gone cannot be read: use another one.`);
      if (manifestEntry.uncompressedSize > MAX_MANIFEST_BYTES) throw hostile(file, MANIFEST_ENTRY, 'is implausibly large');
      const manifestBytes = await readAll(zip, manifestEntry, file);
      // Every other entry is checked against a SHA-256 the manifest holds; the manifest only by ZIP's own
      // CRC-32. Without it, a third of the single bit flips in its deflate stream still inflated to JSON
      // that verify took as sound (another origin, a file's mode gone, a note rewritten).
      const crc = crc32(manifestBytes);
      if (crc !== manifestEntry.crc32) throw invalid(file, `is corrupt: its CRC-32 is ${hex8(crc)}, the archive's directory says ${hex8(manifestEntry.crc32)} (the archive changed after it was written)`, MANIFEST_ENTRY);
      const manifestText = manifestBytes.toString('utf8');
      const manifest = parseManifest(manifestText, file);
      checkAgainstManifest(file, entries, manifest);
      return new ArchiveReader(file, zip, entries, manifest);
    } catch (error) {
      zip.close();
      throw error;
    }
  }

  /** Streams an entry's content, decompressed. */
  async stream(name: string): Promise<AsyncIterable<Buffer>> {
    return this.damageNamed(await this.open(name, true), name);
  }

  /**
   * An entry's content, decompressed. With the entry's deflate pieces (from the manifest) the pieces
   * are inflated on several threads at once (by `inflater` when given: reading several entries one
   * after another, pass the same one); without them, in one stream. A chunk is the reader's until it
   * asks for the next one (see inflateSegments).
   */
  async content(name: string, segments: DeflateSegment[] | undefined, inflater?: SegmentInflater): Promise<AsyncIterable<Buffer>> {
    // Opening checked that the pieces add up to the entry's compressed size.
    if (!segments || this.entries.get(name)?.compressionMethod !== 8) return this.stream(name);
    const fail = (why: string): EnvProfilesError => invalid(this.file, `is damaged: its deflate stream ${why}`, name);
    const raw = await this.open(name, false);
    return this.damageNamed(inflater ? inflater.inflate(raw, segments, fail) : inflateSegments(raw, segments, fail), name);
  }

  /**
   * `chunks`, with a failure while reading them (a deflate stream that ends early or is garbled, yauzl
   * finding more or fewer bytes than the entry declares, a read error) turned into ARCHIVE_INVALID
   * naming the archive and the entry: before, zlib's own "unexpected end of file" reached restore's
   * caller as an error of ours ("This is a bug").
   */
  private async *damageNamed(chunks: AsyncIterable<Buffer>, name: string): AsyncGenerator<Buffer> {
    try {
      yield* chunks;
    } catch (error) {
      throw isEnvProfilesError(error) ? error : invalid(this.file, `is damaged: its data cannot be read back (${(error as Error).message})`, name);
    }
  }

  private async open(name: string, decompress: boolean): Promise<Readable> {
    const entry = this.entries.get(name);
    if (!entry) throw invalid(this.file, 'is listed in the manifest but missing', name);
    try {
      // yauzl takes `decompress` only for compressed entries (the raw bytes of one are wanted here).
      return await (decompress ? this.zip.openReadStreamPromise(entry) : this.zip.openReadStreamPromise(entry, { decompress: false }));
    } catch (error) {
      throw invalid(this.file, `cannot be read (${(error as Error).message})`, name);
    }
  }

  /** Reads a (small) entry whole and checks it against the expected SHA-256. */
  async readVerified(name: string, sha256: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.verifiedChunks(name, sha256)) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  /**
   * Streams an entry and checks it against the expected SHA-256 at its end (an error then), for entries
   * too large to hold whole, like the page index of a big database (`readVerified` gathers it). Use what it yields only once the
   * iteration ended without an error.
   */
  async *verifiedChunks(name: string, sha256: string): AsyncGenerator<Buffer> {
    const hash = createHash('sha256');
    for await (const chunk of await this.stream(name)) {
      hash.update(chunk);
      yield chunk;
    }
    const actual = hash.digest('hex');
    if (actual !== sha256) throw corruptEntry(this.file, name, actual, sha256);
  }

  close(): void {
    this.zip.close();
  }
}

async function readEntries(file: string, zip: yauzl.ZipFile): Promise<Map<string, yauzl.Entry>> {
  const entries = new Map<string, yauzl.Entry>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      try {
        const name = entry.fileName;
        const unsafe = unsafeEntryName(name);
        if (unsafe) throw hostile(file, name, unsafe);
        const unixType = (entry.externalFileAttributes >>> 16) & 0o170000;
        if (unixType === 0o120000) throw hostile(file, name, 'is a symbolic link');
        if (unixType !== 0 && unixType !== 0o100000) throw hostile(file, name, 'is not a regular file');
        if (entry.isEncrypted()) throw hostile(file, name, 'is encrypted');
        if (entries.has(name)) throw hostile(file, name, 'appears twice');
        if (entry.compressedSize > 0 && entry.uncompressedSize / entry.compressedSize > MAX_RATIO) throw hostile(file, name, `claims a compression ratio of ${Math.round(entry.uncompressedSize / entry.compressedSize)}:1 (a zip bomb)`);
        entries.set(name, entry);
        zip.readEntry();
      } catch (error) {
        reject(error);
      }
    });
    zip.on('end', resolve);
    zip.on('error', (error: Error) => {
      // yauzl refuses some hostile names itself ("invalid relative path: ../x", "absolute path: /x").
      const refusedName = /^(?:invalid relative path|absolute path|invalid characters in fileName): (.*)$/.exec(error.message);
      if (refusedName) reject(hostile(file, refusedName[1], unsafeEntryName(refusedName[1]) ?? 'has an unsafe name'));
      else reject(error instanceof EnvProfilesError ? error : invalid(file, error.message));
    });
    zip.readEntry();
  });
  checkOverlaps(file, [...entries.values()]);
  return entries;
}

/** Entries whose data overlap are the trick of non-recursive zip bombs. */
function checkOverlaps(file: string, entries: yauzl.Entry[]): void {
  const sorted = [...entries].sort((a, b) => a.relativeOffsetOfLocalHeader - b.relativeOffsetOfLocalHeader);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1];
    // 30 bytes of local header at least, plus the name and the compressed data.
    const end = previous.relativeOffsetOfLocalHeader + 30 + previous.fileNameLength + previous.compressedSize;
    if (sorted[i].relativeOffsetOfLocalHeader < end) throw hostile(file, sorted[i].fileName, `overlaps entry "${previous.fileName}"`);
  }
}

function checkAgainstManifest(file: string, entries: Map<string, yauzl.Entry>, manifest: BackupManifest): void {
  const listed = listedEntries(manifest);
  for (const name of entries.keys()) {
    if (!listed.has(name)) throw hostile(file, name, 'is not listed in the manifest');
  }
  for (const record of manifest.files) {
    if (record.role === 'database') {
      const entry = entries.get(record.entry);
      if (!entry) throw invalid(file, 'is listed in the manifest but missing', record.entry);
      if (entry.uncompressedSize !== record.entrySize) throw hostile(file, record.entry, `is ${entry.uncompressedSize} bytes but the manifest says ${record.entrySize}`);
      if (record.storage === 'image' && record.entrySize !== record.size) throw hostile(file, record.entry, `is a whole image of ${record.entrySize} bytes, but the manifest says the database is ${record.size}`);
      if (record.segments) {
        const compressed = record.segments.reduce((sum, [bytes]) => sum + bytes, 0) + FINAL_EMPTY_BLOCK.length;
        if (entry.compressionMethod !== 8 || compressed !== entry.compressedSize) throw hostile(file, record.entry, `is ${entry.compressedSize} compressed bytes but its pieces in the manifest add up to ${compressed}`);
      }
      const index = entries.get(record.pageIndexEntry);
      if (!index) throw invalid(file, 'is listed in the manifest but missing', record.pageIndexEntry);
      if (index.uncompressedSize !== record.sqlite.pageCount * 16) throw hostile(file, record.pageIndexEntry, 'does not have one hash per page');
    } else if (record.entry) {
      checkSizeOf(file, entries, record.entry, record.size);
    }
  }
  for (const copy of rawCopiesOf(manifest)) checkSizeOf(file, entries, copy.entry, copy.size);
}

/** The entry `name` the manifest lists is there, and has the size it says. */
function checkSizeOf(file: string, entries: Map<string, yauzl.Entry>, name: string, size: number): void {
  const entry = entries.get(name);
  if (!entry) throw invalid(file, 'is listed in the manifest but missing', name);
  if (entry.uncompressedSize !== size) throw hostile(file, name, `is ${entry.uncompressedSize} bytes but the manifest says ${size}`);
}

async function readAll(zip: yauzl.ZipFile, entry: yauzl.Entry, file: string): Promise<Buffer> {
  let stream: Readable;
  try {
    stream = await zip.openReadStreamPromise(entry);
  } catch (error) {
    throw invalid(file, `cannot be read (${(error as Error).message})`, entry.fileName);
  }
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk as Buffer);
  } catch (error) {
    throw invalid(file, `is damaged (${(error as Error).message})`, entry.fileName);
  }
  return Buffer.concat(chunks);
}
