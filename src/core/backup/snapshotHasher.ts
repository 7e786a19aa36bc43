import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { blockPagesFor, PAGE_HASH_BYTES, pageDigest } from './pageIndex';

type FileSystem = typeof fs;

/** One run of the block loop. It also runs as source text in the worker, so it takes its tools as arguments. */
interface BlockLoop {
  fs: FileSystem;
  /** A page's SHA-256 as a latin1 string (see pageIndex). */
  pageDigest: (page: Uint8Array) => string;
  fd: number;
  indexFd: number;
  pageSize: number;
  pageCount: number;
  blockPages: number;
  hashBytes: number;
  /** The next block to do; a block past the end stops the loop. */
  claim: () => number;
  /** Runs before each block (cancel checks, progress); may throw. */
  between: () => void;
  /** With it, every block read is also passed on (in claim order). */
  onBlock?: (block: Buffer) => void;
  /** The read buffer (`blockPages` pages) and the digests' (`blockPages` digests), reused across calls. */
  block: Buffer;
  digests: Buffer;
  /** At most this many blocks in this call (the main thread returns to its event loop in between). */
  maxBlocks: number;
}

/**
 * Hashes blocks of `fd` into the index file (each block's digests written in place) until `claim` hands
 * out a block past the end (then it returns true), or `maxBlocks` are done (false: call it again).
 * Self-contained, with no names from outside it: the worker runs its source text, so both threads run
 * the same loop. (A build step that rewrites function bodies, such as coverage instrumentation, would
 * break the worker; the tests that force the hashing thread would then fail.)
 */
export function hashClaimedBlocks(loop: BlockLoop): boolean {
  const { fs, pageDigest, fd, indexFd, pageSize, pageCount, blockPages, hashBytes, claim, between, onBlock, block, digests, maxBlocks } = loop;
  for (let done = 0; done < maxBlocks; done++) {
    between();
    const first = claim() * blockPages;
    if (first >= pageCount) return true;
    const read = fs.readSync(fd, block, 0, block.length, first * pageSize);
    const pages = Math.floor(read / pageSize);
    onBlock?.(block.subarray(0, read));
    for (let i = 0; i < pages; i++) digests.write(pageDigest(block.subarray(i * pageSize, (i + 1) * pageSize)), i * hashBytes, hashBytes, 'latin1');
    fs.writeSync(indexFd, digests, 0, pages * hashBytes, first * hashBytes);
  }
  return false;
}

/**
 * Blocks the main thread hashes before it lets its event loop run (8 MiB, about 10 ms): in the extension
 * host, other extensions, progress and a click on Cancel are then never kept waiting longer than that.
 */
const BLOCKS_BETWEEN_TURNS = 8;

/** Runs `hashClaimedBlocks` on this thread in turns of BLOCKS_BETWEEN_TURNS blocks, giving the event loop a turn in between. */
async function hashInTurns(loop: Omit<BlockLoop, 'block' | 'digests' | 'maxBlocks'>): Promise<void> {
  const block = Buffer.allocUnsafe(loop.blockPages * loop.pageSize);
  const digests = Buffer.allocUnsafe(loop.blockPages * loop.hashBytes);
  while (!hashClaimedBlocks({ ...loop, block, digests, maxBlocks: BLOCKS_BETWEEN_TURNS })) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * The worker: it claims page blocks from the shared counter like the main thread does. Its page digest
 * must be the one of `pageDigest` (a test compares the indexes).
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const pageDigest = crypto.hash ? (page) => crypto.hash('sha256', page, 'latin1') : (page) => crypto.createHash('sha256').update(page).digest('latin1');
const hashClaimedBlocks = ${hashClaimedBlocks.toString()};
parentPort.on('message', ({ job, file, indexFile, pageSize, pageCount, blockPages, hashBytes, counter }) => {
  let fd;
  let indexFd;
  try {
    fd = fs.openSync(file, 'r');
    indexFd = fs.openSync(indexFile, 'r+');
    const claims = new Int32Array(counter);
    const block = Buffer.allocUnsafe(blockPages * pageSize);
    const digests = Buffer.allocUnsafe(blockPages * hashBytes);
    hashClaimedBlocks({ fs, pageDigest, fd, indexFd, pageSize, pageCount, blockPages, hashBytes, claim: () => Atomics.add(claims, 0, 1), between: () => {}, block, digests, maxBlocks: Infinity });
    parentPort.postMessage({ job });
  } catch (error) {
    parentPort.postMessage({ job, error: String(error && error.message || error) });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
    if (indexFd !== undefined) fs.closeSync(indexFd);
  }
});
`;

/**
 * Makes the page index of a database snapshot on both cores, for incremental backups: a worker thread
 * and this one take blocks of pages from a shared counter, so the split balances itself on any machine.
 * Start it early (the worker takes ~25 ms to boot, which the snapshot hides) and close it after.
 */
export class SnapshotHasher {
  private readonly worker = new Worker(WORKER_SOURCE, { eval: true });
  private failure: Error | undefined;
  private waiting: ((reply: { error?: string }) => void) | undefined;
  /** Numbers each request, so that a late answer to an abandoned one is never taken for the current one. */
  private job = 0;

  constructor() {
    this.worker.on('message', (reply: { job: number; error?: string }) => {
      if (reply.job === this.job) this.waiting?.(reply);
    });
    const fail = (error: Error): void => {
      this.failure = error;
      this.waiting?.({ error: error.message });
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the hashing thread stopped (code ${code})`)));
  }

  /**
   * Hashes `file` (`pageCount` pages) and writes its page index to `indexFile` (created here; each
   * thread writes the digests of its blocks in place, so the index is never whole in memory).
   * `checkCancelled` runs between blocks and may throw; `onProgress` then hears how many pages the two
   * threads have taken so far.
   */
  async hash(file: string, indexFile: string, pageSize: number, pageCount: number, checkCancelled: () => void, onProgress?: (pages: number) => void): Promise<void> {
    if (this.failure) throw this.failure;
    const indexFd = fs.openSync(indexFile, 'wx');
    const fd = fs.openSync(file, 'r');
    const counter = new Int32Array(new SharedArrayBuffer(4));
    let reply: Promise<{ error?: string }> | undefined;
    const blockPages = blockPagesFor(pageSize);
    try {
      fs.ftruncateSync(indexFd, pageCount * PAGE_HASH_BYTES);
      reply = new Promise<{ error?: string }>((resolve) => (this.waiting = resolve));
      this.worker.postMessage({ job: ++this.job, file, indexFile, pageSize, pageCount, blockPages, hashBytes: PAGE_HASH_BYTES, counter: counter.buffer });
      const betweenBlocks = (): void => {
        checkCancelled();
        onProgress?.(Math.min(pageCount, Atomics.load(counter, 0) * blockPages));
      };
      await hashInTurns({ fs, pageDigest, fd, indexFd, pageSize, pageCount, blockPages, hashBytes: PAGE_HASH_BYTES, claim: () => Atomics.add(counter, 0, 1), between: betweenBlocks });
    } catch (error) {
      // Stop the worker's page loop too; its answer is no longer wanted.
      Atomics.store(counter, 0, 0x3fffffff);
      throw error;
    } finally {
      fs.closeSync(fd);
      fs.closeSync(indexFd);
    }
    const { error } = await reply;
    this.waiting = undefined;
    if (error !== undefined) throw new Error(`hashing ${file} failed: ${error}`);
  }

  close(): void {
    this.worker.removeAllListeners('exit');
    void this.worker.terminate();
  }
}

/**
 * The page index on this thread alone, in order, and with `wholeFile` the file's SHA-256 in the same
 * pass: slower than `SnapshotHasher`, but without a worker (whose own heap is ~20 MB). For checking a
 * rebuilt file, where memory is already taken by inflating.
 */
export async function hashOnThisThread(file: string, indexFile: string, pageSize: number, pageCount: number, wholeFile: boolean): Promise<{ sha256?: string }> {
  const indexFd = fs.openSync(indexFile, 'wx');
  const fd = fs.openSync(file, 'r');
  try {
    const whole = wholeFile ? createHash('sha256') : undefined;
    let next = 0;
    await hashInTurns({
      fs, pageDigest, fd, indexFd, pageSize, pageCount, blockPages: blockPagesFor(pageSize), hashBytes: PAGE_HASH_BYTES,
      claim: () => next++, between: () => {}, onBlock: whole && ((block) => whole.update(block)),
    });
    // Bytes past the last whole page (none in a SQLite file) still belong to the file's SHA-256.
    if (whole) {
      const tail = fs.fstatSync(fd).size - pageCount * pageSize;
      if (tail > 0) {
        const rest = Buffer.alloc(tail);
        fs.readSync(fd, rest, 0, tail, pageCount * pageSize);
        whole.update(rest);
      }
    }
    return { sha256: whole?.digest('hex') };
  } finally {
    fs.closeSync(fd);
    fs.closeSync(indexFd);
  }
}
