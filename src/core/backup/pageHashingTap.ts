import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { hashPages, PAGE_HASH_BYTES } from './pageIndex';

/**
 * Passes a database image through unchanged while computing, in the same pass, its SHA-256 and the
 * per-page hash index. Hashing runs on the main thread while zlib compresses in the thread pool,
 * which keeps both cores busy.
 */
export class PageHashingTap extends Transform {
  private readonly fileHash: Hash = createHash('sha256');
  private remainder: Buffer = Buffer.alloc(0);
  private page = 0;
  readonly index: Buffer;

  constructor(private readonly pageSize: number, pageCount: number) {
    super();
    this.index = Buffer.alloc(pageCount * PAGE_HASH_BYTES);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.fileHash.update(chunk);
    const data = this.remainder.length > 0 ? Buffer.concat([this.remainder, chunk]) : chunk;
    const whole = Math.floor(data.length / this.pageSize) * this.pageSize;
    if (whole > 0 && (this.page + whole / this.pageSize) * PAGE_HASH_BYTES <= this.index.length) {
      hashPages(data.subarray(0, whole), this.pageSize, this.index, this.page);
      this.page += whole / this.pageSize;
    }
    this.remainder = Buffer.from(data.subarray(whole));
    callback(null, chunk);
  }

  /** The SHA-256 of everything that passed; call after the stream ended. */
  sha256(): string {
    return this.fileHash.digest('hex');
  }
}
