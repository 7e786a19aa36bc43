import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import { commitTemporaryFile, temporaryPathFor } from '../atomicFile';
import type { CompressionSetting } from '../workspaceConfig';

const LEVELS: Record<CompressionSetting, number> = { store: 0, fast: 1, best: 9 };

/**
 * Writes one ZIP archive (yazl: streaming, ZIP64 when needed) under a temporary name in the target
 * folder, hashing the archive as it is written; `finish` fsyncs and renames it into place.
 */
export class ArchiveWriter {
  private readonly zip = new ZipFile();
  private readonly archiveHash = createHash('sha256');
  private readonly written: Promise<void>;
  private bytes = 0;
  readonly tempPath: string;

  constructor(readonly finalPath: string, private readonly compression: CompressionSetting, private readonly mtime: Date) {
    this.tempPath = temporaryPathFor(finalPath);
    const out = fs.createWriteStream(this.tempPath, { flags: 'wx' });
    this.zip.outputStream.on('data', (chunk: Buffer) => {
      this.archiveHash.update(chunk);
      this.bytes += chunk.length;
    });
    this.written = new Promise((resolve, reject) => {
      out.on('close', resolve);
      out.on('error', reject);
      this.zip.on('error', reject);
      this.zip.outputStream.on('error', reject);
    });
    this.zip.outputStream.pipe(out);
  }

  /** Adds an entry from a stream of `size` bytes; resolves when the stream has been fully consumed. */
  addStream(name: string, stream: Readable, size: number): Promise<void> {
    const consumed = new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    this.zip.addReadStreamLazy(name, { size, mtime: this.mtime, mode: 0o100644, compressionLevel: LEVELS[this.compression] }, (callback) => callback(null, stream));
    return consumed;
  }

  addBuffer(name: string, data: Buffer): void {
    this.zip.addBuffer(data, name, { mtime: this.mtime, mode: 0o100644, compressionLevel: LEVELS[this.compression] });
  }

  /** Ends the archive, waits for it to be on disk, fsyncs and renames it; returns its size and SHA-256. */
  async finish(): Promise<{ sizeBytes: number; sha256: string }> {
    this.zip.end();
    await this.written;
    commitTemporaryFile(this.tempPath, this.finalPath);
    return { sizeBytes: this.bytes, sha256: this.archiveHash.digest('hex') };
  }

  /** Abandons the archive: stops writing and removes the temporary file. */
  async abort(): Promise<void> {
    this.zip.outputStream.unpipe();
    await new Promise((r) => setTimeout(r, 0));
    fs.rmSync(this.tempPath, { force: true });
  }
}
