import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

type OneShotHash = (algorithm: string, data: Uint8Array, encoding: 'latin1') => string;
/**
 * `crypto.hash` (Node >= 21.7) skips the per-call object of createHash: a third faster on 4 KiB pages.
 * Its digest comes as a latin1 string (one char per byte): faster still than a Buffer, and it leaves
 * no small native buffer per page behind for the collector (which raised peak memory).
 */
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;
/** A page's SHA-256, as a latin1 string (the index keeps its first PAGE_HASH_BYTES bytes). */
export const pageDigest = oneShot ? (page: Uint8Array): string => oneShot('sha256', page, 'latin1') : (page: Uint8Array): string => crypto.createHash('sha256').update(page).digest('binary');

/**
 * Bytes of SHA-256 kept per page: 128 bits tell pages apart (an accidental collision is out of reach) and
 * keep the index small; the index also checks the files that incremental backups rebuild to.
 */
export const PAGE_HASH_BYTES = 16;

/** Pages are read and hashed in blocks of this many bytes: large enough to read well, small enough to balance. */
const BLOCK_BYTES = 1 << 20;

/**
 * Pages per block for `pageSize`: 1 MiB whatever the page size (256 pages of 4 KiB). A block of 256 pages
 * was 16 MiB per thread for 64 KiB pages, and an incremental of such a database peaked at 160 MB.
 */
export function blockPagesFor(pageSize: number): number {
  return Math.max(1, Math.floor(BLOCK_BYTES / pageSize));
}

/** Hashes each page of `data` (whose length is a whole number of pages) into `into` at page offset `firstPage`. */
export function hashPages(data: Uint8Array, pageSize: number, into: Buffer, firstPage: number): void {
  const pages = data.length / pageSize;
  for (let i = 0; i < pages; i++) {
    into.write(pageDigest(data.subarray(i * pageSize, (i + 1) * pageSize)), (firstPage + i) * PAGE_HASH_BYTES, PAGE_HASH_BYTES, 'latin1');
  }
}

/** Entries compared at a time: the comparison holds this much of each index, not the whole of either. */
const WINDOW_ENTRIES = 4096;
const WORDS_PER_ENTRY = PAGE_HASH_BYTES / 4;

/** A buffer of `entries` page index entries over an Int32Array, for `forEachDifferingEntry`. */
export function indexWindow(entries: number): { words: Int32Array; bytes: Buffer } {
  const words = new Int32Array(entries * WORDS_PER_ENTRY);
  return { words, bytes: Buffer.from(words.buffer) };
}

/**
 * Calls `onDiffer` with each of the first `entries` entries where two page index windows differ. Equal
 * windows cost one memcmp; the others are compared as 32-bit words without a call per entry, which
 * matters because this runs once per command, before the JIT has warmed up (a call per entry,
 * Buffer.readUInt32LE, cost 10 to 28 ms at 100 MB instead of ~1).
 */
export function forEachDifferingEntry(mine: Int32Array, theirs: Int32Array, entries: number, onDiffer: (entry: number) => void): void {
  const bytes = entries * PAGE_HASH_BYTES;
  if (Buffer.from(mine.buffer, mine.byteOffset, bytes).equals(Buffer.from(theirs.buffer, theirs.byteOffset, bytes))) return;
  // Four words per entry (PAGE_HASH_BYTES is 16), unrolled.
  for (let entry = 0, w = 0; entry < entries; entry++, w += WORDS_PER_ENTRY) {
    if (mine[w] !== theirs[w] || mine[w + 1] !== theirs[w + 1] || mine[w + 2] !== theirs[w + 2] || mine[w + 3] !== theirs[w + 3]) onDiffer(entry);
  }
}

/**
 * Page numbers (0-based) whose entry in `indexFile` (a page index of `pageCount` pages) differs from
 * `other`, another page index read as a stream (the parent's, or the one a rebuilt file must match), or
 * that `other` does not have. Neither index is ever whole in memory: memory stays flat however large
 * the database (16 bytes per page would be 4 MB per GiB).
 */
export async function changedPagesAgainst(indexFile: string, pageCount: number, other: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<number[]> {
  const changed: number[] = [];
  const fd = fs.openSync(indexFile, 'r');
  try {
    // Both indexes go into aligned windows of the same pages (see forEachDifferingEntry).
    const { words: mine, bytes: mineBytes } = indexWindow(WINDOW_ENTRIES);
    const { words: theirs, bytes: theirsBytes } = indexWindow(WINDOW_ENTRIES);
    let filled = 0;
    let page = 0;
    const compareWindow = (entries: number): void => {
      const bytes = entries * PAGE_HASH_BYTES;
      const read = fs.readSync(fd, mineBytes, 0, bytes, page * PAGE_HASH_BYTES);
      if (read < bytes) throw new Error(`${indexFile} ends before page ${page + Math.floor(read / PAGE_HASH_BYTES) + 1}`);
      const first = page;
      forEachDifferingEntry(mine, theirs, entries, (entry) => changed.push(first + entry));
      page += entries;
    };
    for await (const chunk of other) {
      for (let at = 0; at < chunk.length && page < pageCount; ) {
        const take = Math.min(chunk.length - at, theirsBytes.length - filled);
        chunk.copy(theirsBytes, filled, at, at + take);
        filled += take;
        at += take;
        if (filled === theirsBytes.length) {
          compareWindow(Math.min(WINDOW_ENTRIES, pageCount - page));
          filled = 0;
        }
      }
    }
    const rest = Math.min(Math.floor(filled / PAGE_HASH_BYTES), pageCount - page);
    if (rest > 0) compareWindow(rest);
    for (; page < pageCount; page++) changed.push(page);
  } finally {
    fs.closeSync(fd);
  }
  return changed;
}
