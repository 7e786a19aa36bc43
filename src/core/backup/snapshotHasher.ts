import * as fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import { hashPages, PAGE_HASH_BYTES } from './pageIndex';

/** Pages are handed out in blocks of this many (1 MiB of 4 KiB pages): small enough to balance, large enough to read well. */
const BLOCK_PAGES = 256;

/**
 * The worker's code, inline so the bundles need no extra file. It first computes the whole file's
 * SHA-256 (one sequential pass), then claims page blocks from the shared counter like the main thread
 * does. Its page digest must be the one of `hashPages` (a test compares them).
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const pageDigest = crypto.hash ? (page) => crypto.hash('sha256', page, 'latin1') : (page) => crypto.createHash('sha256').update(page).digest('latin1');
parentPort.on('message', ({ file, pageSize, pageCount, blockPages, hashBytes, index, counter, wholeFile }) => {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    const whole = crypto.createHash('sha256');
    const buffer = Buffer.allocUnsafe(Math.max(1 << 20, blockPages * pageSize));
    for (let position = 0; wholeFile; ) {
      const read = fs.readSync(fd, buffer, 0, buffer.length, position);
      if (read === 0) break;
      whole.update(buffer.subarray(0, read));
      position += read;
    }
    const into = Buffer.from(index);
    const claims = new Int32Array(counter);
    for (;;) {
      const first = Atomics.add(claims, 0, 1) * blockPages;
      if (first >= pageCount) break;
      const read = fs.readSync(fd, buffer, 0, blockPages * pageSize, first * pageSize);
      const pages = Math.floor(read / pageSize);
      for (let i = 0; i < pages; i++) into.write(pageDigest(buffer.subarray(i * pageSize, (i + 1) * pageSize)), (first + i) * hashBytes, hashBytes, 'latin1');
    }
    parentPort.postMessage({ sha256: wholeFile ? whole.digest('hex') : '' });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
});
`;

export interface SnapshotHashes {
  /** SHA-256 of the whole file, hex (when asked for). */
  sha256?: string;
  /** The page index: PAGE_HASH_BYTES per page. */
  index: Buffer;
}

/**
 * Hashes database files on both cores: the page index (for incremental backups, and to check a rebuilt
 * file against one), and when asked the whole-file SHA-256. That is one sequential pass, so a worker
 * does it while this thread hashes pages; then the worker joins in on the pages still left. Pages go
 * out in blocks from a shared counter, so the split balances itself on any machine. Start it early (the
 * worker takes ~25 ms to boot, which the snapshot hides) and close it after.
 */
export class SnapshotHasher {
  private readonly worker = new Worker(WORKER_SOURCE, { eval: true });
  private failure: Error | undefined;
  private waiting: ((reply: { sha256?: string; error?: string }) => void) | undefined;

  constructor() {
    this.worker.on('message', (reply: { sha256?: string; error?: string }) => this.waiting?.(reply));
    const fail = (error: Error): void => {
      this.failure = error;
      this.waiting?.({ error: error.message });
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the hashing thread stopped (code ${code})`)));
  }

  /** Hashes `file` (`pageCount` pages). `checkCancelled` runs between blocks and may throw. */
  async hash(file: string, pageSize: number, pageCount: number, checkCancelled: () => void, wholeFile = true): Promise<SnapshotHashes> {
    if (this.failure) throw this.failure;
    const shared = new SharedArrayBuffer(pageCount * PAGE_HASH_BYTES);
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const reply = new Promise<{ sha256?: string; error?: string }>((resolve) => (this.waiting = resolve));
    this.worker.postMessage({ file, pageSize, pageCount, blockPages: BLOCK_PAGES, hashBytes: PAGE_HASH_BYTES, index: shared, counter: counter.buffer, wholeFile });
    const index = Buffer.from(shared);
    const fd = fs.openSync(file, 'r');
    try {
      const buffer = Buffer.allocUnsafe(BLOCK_PAGES * pageSize);
      for (;;) {
        checkCancelled();
        const first = Atomics.add(counter, 0, 1) * BLOCK_PAGES;
        if (first >= pageCount) break;
        const read = fs.readSync(fd, buffer, 0, buffer.length, first * pageSize);
        hashPages(buffer.subarray(0, Math.floor(read / pageSize) * pageSize), pageSize, index, first);
      }
    } catch (error) {
      // Stop the worker's page loop too; its answer is no longer wanted.
      Atomics.store(counter, 0, 0x3fffffff);
      throw error;
    } finally {
      fs.closeSync(fd);
    }
    const { sha256, error } = await reply;
    this.waiting = undefined;
    if (error !== undefined || sha256 === undefined) throw new Error(`hashing ${file} failed: ${error ?? 'no answer'}`);
    // The index stays in the shared memory both threads wrote (no copy: it grows with the database).
    return { sha256: wholeFile ? sha256 : undefined, index };
  }

  close(): void {
    this.worker.removeAllListeners('exit');
    void this.worker.terminate();
  }
}
