import { createHash, type Hash } from 'node:crypto';
import { hashPages, PAGE_HASH_BYTES } from './pageIndex';

/**
 * Computes, from a database image fed in order, its SHA-256 and its per-page hash index. It runs on the
 * main thread while the archive writer deflates in the thread pool, which keeps both cores busy.
 */
export class PageHasher {
  private readonly fileHash: Hash = createHash('sha256');
  private remainder: Buffer = Buffer.alloc(0);
  private page = 0;
  readonly index: Buffer;

  constructor(private readonly pageSize: number, pageCount: number) {
    this.index = Buffer.alloc(pageCount * PAGE_HASH_BYTES);
  }

  update(chunk: Buffer): void {
    this.fileHash.update(chunk);
    const data = this.remainder.length > 0 ? Buffer.concat([this.remainder, chunk]) : chunk;
    const whole = Math.floor(data.length / this.pageSize) * this.pageSize;
    if (whole > 0 && (this.page + whole / this.pageSize) * PAGE_HASH_BYTES <= this.index.length) {
      hashPages(data.subarray(0, whole), this.pageSize, this.index, this.page);
      this.page += whole / this.pageSize;
    }
    this.remainder = Buffer.from(data.subarray(whole));
  }

  /** The SHA-256 of everything fed; call once, at the end. */
  sha256(): string {
    return this.fileHash.digest('hex');
  }
}
