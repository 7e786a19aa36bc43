import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { renameDurablyWithoutReplacing, temporaryPathFor } from '../atomicFile';
import { EnvProfilesError } from '../errors';
import { permissionsOf, setPermissions } from '../filePermissions';
import type { CompressionSetting } from '../workspaceConfig';
import { ZipWriter, type DeflateSegment } from './zipWriter';

const LEVELS: Record<CompressionSetting, number> = { store: 0, fast: 1, best: 9 };

/**
 * Writes one backup archive under a temporary name in the target folder, hashing the archive as it is
 * written; `seal` ends and fsyncs it, `publish` renames it into place.
 */
export class ArchiveWriter {
  private readonly zip: ZipWriter;
  private readonly archiveHash = createHash('sha256');
  private bytes = 0;
  private readonly names = new Set<string>();
  readonly tempPath: string;

  constructor(readonly finalPath: string, compression: CompressionSetting, mtime: Date, forceZip64 = process.env.ENVPROFILES_FORCE_ZIP64 === '1') {
    this.tempPath = temporaryPathFor(finalPath);
    this.zip = new ZipWriter(this.tempPath, { level: LEVELS[compression], mtime, forceZip64 }, (chunk) => {
      this.archiveHash.update(chunk);
      this.bytes += chunk.length;
    });
  }

  /**
   * Adds an entry from `source` (`size` bytes in all, or `atMost` when known only at the end); `onChunk` sees the uncompressed bytes in order.
   * Returns its deflate pieces, which the manifest keeps so that restores can inflate in parallel.
   * `store` keeps it uncompressed (for digests, which do not compress).
   */
  addStream(name: string, source: AsyncIterable<Buffer> | Iterable<Buffer>, size: number | { atMost: number }, onChunk?: (chunk: Buffer) => void, store = false): Promise<DeflateSegment[]> {
    this.claim(name);
    return this.zip.addEntry(name, source, size, onChunk, store);
  }

  /** Adds an entry held in memory. */
  addBuffer(name: string, data: Buffer): Promise<DeflateSegment[]> {
    this.claim(name);
    return this.zip.addBuffer(name, data);
  }

  /**
   * `name`, or when an entry has it already, `name~2`, `name~3`, …: two files whose paths make one
   * entry name (`../x` is `files/__/x`, like a folder named `__`) each get their own; the manifest
   * records which is which.
   */
  freeName(name: string): string {
    let candidate = name;
    for (let n = 2; this.names.has(candidate); n++) candidate = `${name}~${n}`;
    return candidate;
  }

  /** An archive with one name twice is refused by every reader of ours (a hostile archive): never written. */
  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`archive entry ${name} written twice`);
    this.names.add(name);
  }

  /**
   * Ends the archive under its temporary name, gives it `permissions` (it is written readable by its
   * owner only) and fsyncs it; returns its size and SHA-256, and whether its file system kept those
   * permissions. `publish` then puts it under its final name.
   */
  async seal(permissions: number): Promise<{ sizeBytes: number; sha256: string; permissionsKept: boolean }> {
    await this.zip.finish();
    // Some file systems refuse chmod, others (exFAT through FUSE) take it and keep nothing.
    const permissionsKept = setPermissions(this.tempPath, permissions) && permissionsOf(this.tempPath) === permissions;
    return { sizeBytes: this.bytes, sha256: this.archiveHash.digest('hex'), permissionsKept };
  }

  /**
   * Renames the sealed archive into place (durably). Done under the catalog's lock together with its
   * listing, so that nobody who reads the folder under that lock sees an archive that is not listed.
   */
  publish(): void {
    // Never over an archive of the same name: it is another backup (see reserveBackupId), not ours to replace.
    if (!renameDurablyWithoutReplacing(this.tempPath, this.finalPath)) {
      throw new EnvProfilesError('TARGET_EXISTS', `The archive ${this.finalPath} appeared while this backup was being written: another backup took the same id (a workspace sharing this backups folder, with an older version of this tool?). It was left as it is, and this backup was not kept.`, {
        kind: 'refused',
        file: this.finalPath,
        hint: 'Run the backup again: it takes a new id.',
      });
    }
  }

  /** Abandons the archive and removes the temporary file. */
  abort(): void {
    this.zip.abort();
    fs.rmSync(this.tempPath, { force: true });
  }
}
