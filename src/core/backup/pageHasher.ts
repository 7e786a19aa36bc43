import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import { hashPages, PAGE_HASH_BYTES } from './pageIndex';

/**
 * Computes, from a database image fed in order, its SHA-256 and its per-page hash index, which goes to
 * `indexFile` as it is made (memory stays flat however large the database). It runs on the main thread
 * while the archive writer deflates in the thread pool, which keeps both cores busy.
 */
export class PageHasher {
  private readonly fileHash: Hash = createHash('sha256');
  private readonly indexHash: Hash = createHash('sha256');
  private fd: number | undefined;
  private remainder: Buffer = Buffer.alloc(0);
  private digests = Buffer.alloc(0);
  private page = 0;

  constructor(private readonly pageSize: number, private readonly pageCount: number, readonly indexFile: string) {
    this.fd = fs.openSync(indexFile, 'wx');
  }

  update(chunk: Buffer): void {
    this.fileHash.update(chunk);
    const data = this.remainder.length > 0 ? Buffer.concat([this.remainder, chunk]) : chunk;
    const pages = Math.min(Math.floor(data.length / this.pageSize), this.pageCount - this.page);
    if (pages > 0) {
      if (this.digests.length < pages * PAGE_HASH_BYTES) this.digests = Buffer.allocUnsafe(pages * PAGE_HASH_BYTES);
      const digests = this.digests.subarray(0, pages * PAGE_HASH_BYTES);
      hashPages(data.subarray(0, pages * this.pageSize), this.pageSize, digests, 0);
      fs.writeSync(this.fd as number, digests, 0, digests.length, this.page * PAGE_HASH_BYTES);
      this.indexHash.update(digests);
      this.page += pages;
    }
    this.remainder = Buffer.from(data.subarray(Math.floor(data.length / this.pageSize) * this.pageSize));
  }

  /** The SHA-256 of everything fed and of the index; call once, at the end. */
  finish(): { sha256: string; indexSha256: string } {
    this.close();
    return { sha256: this.fileHash.digest('hex'), indexSha256: this.indexHash.digest('hex') };
  }

  /** Closes the index file (also after a failure; the caller removes it). */
  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
