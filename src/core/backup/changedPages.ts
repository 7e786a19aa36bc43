import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { blockPagesFor, forEachDifferingEntry, hashPages, indexWindow, PAGE_HASH_BYTES } from './pageIndex';
import { CHUNK_SIZE, RETAINED_CHUNKS } from './zipWriter';


/**
 * The changed pages of an incremental backup, as the content of its `.pages` entry: [u32 page number]
 * [page] records, about a ZIP chunk per piece, in a small ring of reused buffers (the writer holds at
 * most RETAINED_CHUNKS pieces at once). `result` is valid once `pieces` is used up.
 */
export interface ChangedPages {
  pieces: AsyncGenerator<Buffer> | Generator<Buffer>;
  result(): { pages: number; sha256: string };
}

/** Collects records into pieces; `add` returns a full piece to yield, `flush` the last one. */
class RecordPacker {
  private readonly recordSize: number;
  private readonly perPiece: number;
  private readonly ring: Buffer[];
  private piece = 0;
  private filled = 0;
  readonly hash = createHash('sha256');
  pages = 0;

  constructor(pageSize: number) {
    this.recordSize = 4 + pageSize;
    this.perPiece = Math.max(1, Math.floor(CHUNK_SIZE / this.recordSize));
    this.ring = Array.from({ length: RETAINED_CHUNKS + 1 }, () => Buffer.allocUnsafe(this.perPiece * this.recordSize));
  }

  /** Adds page `page` to the current piece; `fill` puts its bytes at `at` in `out`. */
  add(page: number, fill: (out: Buffer, at: number) => void): Buffer | undefined {
    const out = this.ring[this.piece % this.ring.length];
    const at = this.filled * this.recordSize;
    out.writeUInt32BE(page, at);
    fill(out, at + 4);
    this.pages++;
    return ++this.filled === this.perPiece ? this.flush() : undefined;
  }

  flush(): Buffer | undefined {
    if (this.filled === 0) return undefined;
    const out = this.ring[this.piece++ % this.ring.length].subarray(0, this.filled * this.recordSize);
    this.filled = 0;
    this.hash.update(out);
    return out;
  }

  result(): { pages: number; sha256: string } {
    return { pages: this.pages, sha256: this.hash.digest('hex') };
  }
}

export interface SnapshotPages {
  /** The snapshot, open for reading. */
  fd: number;
  pageSize: number;
  pageCount: number;
}

/**
 * Hashes every page of the snapshot on this thread into its page index (`indexFd`, written in place),
 * compares each block with the parent's index (`parentIndexFd`, `parentPageCount` entries) and yields
 * the block's changed pages at once. The archive writer deflates a piece on the thread pool as soon as
 * it is yielded, so the changed pages are compressed on the other core while the next blocks are
 * hashed, and no second hashing thread has to boot. `between` runs before each block (cancel checks,
 * progress: it hears the pages done so far).
 */
export function hashAndCollectChangedPages(snapshot: SnapshotPages, indexFd: number, parentIndexFd: number, parentPageCount: number, between: (pagesDone: number) => void): ChangedPages {
  const { fd, pageSize, pageCount } = snapshot;
  const packer = new RecordPacker(pageSize);
  const pieces = (async function* (): AsyncGenerator<Buffer> {
    const blockPages = blockPagesFor(pageSize);
    const block = Buffer.allocUnsafe(blockPages * pageSize);
    const mine = indexWindow(blockPages);
    const theirs = indexWindow(blockPages);
    for (let first = 0; first < pageCount; first += blockPages) {
      // Let the deflate lanes' callbacks run: each lane needs this thread between pieces of its output.
      await new Promise((resolve) => setImmediate(resolve));
      between(first);
      const pages = Math.min(blockPages, pageCount - first);
      const read = fs.readSync(fd, block, 0, pages * pageSize, first * pageSize);
      if (read < pages * pageSize) throw new Error(`the snapshot ends before page ${first + Math.floor(read / pageSize) + 1}`);
      hashPages(block.subarray(0, pages * pageSize), pageSize, mine.bytes, 0);
      fs.writeSync(indexFd, mine.bytes, 0, pages * PAGE_HASH_BYTES, first * PAGE_HASH_BYTES);
      // Pages the parent did not have are changed; so is any page whose parent entry is missing.
      const known = Math.max(0, Math.min(pages, parentPageCount - first));
      const parentRead = known > 0 ? fs.readSync(parentIndexFd, theirs.bytes, 0, known * PAGE_HASH_BYTES, first * PAGE_HASH_BYTES) : 0;
      const compared = Math.floor(parentRead / PAGE_HASH_BYTES);
      const changed: number[] = [];
      forEachDifferingEntry(mine.words, theirs.words, compared, (entry) => changed.push(entry));
      for (let entry = compared; entry < pages; entry++) changed.push(entry);
      for (const entry of changed) {
        const full = packer.add(first + entry, (out, at) => block.copy(out, at, entry * pageSize, (entry + 1) * pageSize));
        if (full) yield full;
      }
    }
    between(pageCount);
    const last = packer.flush();
    if (last) yield last;
  })();
  return { pieces, result: () => packer.result() };
}

/** The pages listed in `changed` (found by hashing on two threads first), read back from the snapshot. */
export function collectListedPages(snapshot: SnapshotPages, changed: number[]): ChangedPages {
  const { fd, pageSize } = snapshot;
  const packer = new RecordPacker(pageSize);
  const pieces = (function* (): Generator<Buffer> {
    for (const number of changed) {
      const full = packer.add(number, (out, at) => fs.readSync(fd, out, at, pageSize, number * pageSize));
      if (full) yield full;
    }
    const last = packer.flush();
    if (last) yield last;
  })();
  return { pieces, result: () => packer.result() };
}
