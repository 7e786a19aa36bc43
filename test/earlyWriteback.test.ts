import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EarlyWriteback, flushWhileGrowing } from '../src/core/earlyWriteback';
import { engine, tempDir } from './support/workspaces';

const MIB = 1048576;

/** Writes `count` pieces of 1 MiB, each filled with its own number, telling `writeback` after each. */
function writePieces(fd: number, writeback: EarlyWriteback, first: number, count: number): void {
  for (let i = first; i < first + count; i++) {
    fs.writeSync(fd, Buffer.alloc(MIB, i), 0, MIB, i * MIB);
    writeback.wrote(MIB);
  }
}

/** An early flush the test ends by hand, recording when it was asked for. */
function heldFlushes(): { flush: (fd: number) => Promise<void>; calls: number[]; release: (error?: Error) => void } {
  const calls: number[] = [];
  let end: ((error?: Error) => void) | undefined;
  return {
    calls,
    flush: (fd) => {
      calls.push(fd);
      return new Promise<void>((resolve, reject) => (end = (error) => (error ? reject(error) : resolve())));
    },
    release: (error) => end?.(error),
  };
}

/** A new file and an EarlyWriteback over it that flushes every MiB through flushes the test ends; the file is closed after `run`. */
async function withHeldWriteback(file: string, run: (fd: number, writeback: EarlyWriteback, held: ReturnType<typeof heldFlushes>) => Promise<void>): Promise<void> {
  const fd = fs.openSync(file, 'w');
  try {
    const held = heldFlushes();
    await run(fd, new EarlyWriteback(fd, { everyBytes: MIB, flush: held.flush }), held);
  } finally {
    fs.closeSync(fd);
  }
}

/** What a failed writeback looks like to fdatasync. */
function diskError(): NodeJS.ErrnoException {
  return Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
}

describe('early writeback: a large file is flushed to disk while it is written', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('early-writeback-')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts a flush after every `everyBytes`, never two at once', async () => {
    const file = path.join(dir, 'data.bin');
    const fd = fs.openSync(file, 'w');
    try {
      const held = heldFlushes();
      const writeback = new EarlyWriteback(fd, { everyBytes: 2 * MIB, flush: held.flush });
      writePieces(fd, writeback, 0, 1);
      assert.deepEqual(held.calls, [], 'not before 2 MiB');
      writePieces(fd, writeback, 1, 1);
      assert.deepEqual(held.calls, [fd], 'a flush once 2 MiB are written');
      writePieces(fd, writeback, 2, 4);
      assert.equal(held.calls.length, 1, 'no second flush while the first has not ended');
      held.release();
      await writeback.settle();
      writePieces(fd, writeback, 6, 2);
      assert.equal(held.calls.length, 2, 'the next 2 MiB after the first flush ended start another');
      held.release();
      await writeback.settle();
    } finally {
      fs.closeSync(fd);
    }
    const content = fs.readFileSync(file);
    assert.equal(content.length, 8 * MIB);
    for (let i = 0; i < 8; i++) assert.equal(content[i * MIB + 12345], i, `piece ${i} intact`);
  });

  it('a failed early flush makes the final fsync fail too, though fsync itself would succeed (Linux reports a failed writeback once)', async () => {
    await withHeldWriteback(path.join(dir, 'data.bin'), async (fd, writeback, held) => {
      writePieces(fd, writeback, 0, 1);
      held.release(diskError());
      await writeback.settle();
      // A later flush succeeds; the first failure still decides.
      writePieces(fd, writeback, 1, 1);
      held.release();
      await assert.rejects(writeback.finish(), (error: NodeJS.ErrnoException) => error.code === 'EIO');
    });
  });

  it('finish, called while a flush is in progress, waits for it and fails when it fails', async () => {
    await withHeldWriteback(path.join(dir, 'data.bin'), async (fd, writeback, held) => {
      writePieces(fd, writeback, 0, 1);
      const finishing = writeback.finish();
      held.release(diskError());
      await assert.rejects(finishing, (error: NodeJS.ErrnoException) => error.code === 'EIO');
    });
  });

  it('flushes a real file with fdatasync and fsync, and leaves it as written', async () => {
    const file = path.join(dir, 'data.bin');
    const fd = fs.openSync(file, 'w');
    try {
      const writeback = new EarlyWriteback(fd, { everyBytes: MIB });
      writePieces(fd, writeback, 0, 5);
      await writeback.finish();
    } finally {
      fs.closeSync(fd);
    }
    const content = fs.readFileSync(file);
    assert.equal(content.length, 5 * MIB);
    for (let i = 0; i < 5; i++) assert.ok(content.subarray(i * MIB, (i + 1) * MIB).every((byte) => byte === i), `piece ${i} intact`);
  });
});

describe('early writeback of a file another writer fills (SQLite\'s backup API)', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('early-writeback-')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

  /** Appends `count` pieces of 1 MiB to `file` with pauses (another writer), creating it first if asked. */
  async function growFile(file: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      fs.appendFileSync(file, Buffer.alloc(MIB, i));
      await tick(30);
    }
  }

  it('flushes the file as it grows, from before it exists to its end', async () => {
    const file = path.join(dir, 'snapshot.sqlite3');
    const flushedSizes: number[] = [];
    const flusher = flushWhileGrowing(file, { everyBytes: 2 * MIB, flush: async (fd) => void flushedSizes.push(fs.fstatSync(fd).size) });
    await tick(50); // the file does not exist yet: nothing happens, nothing fails
    await growFile(file, 8);
    await flusher.stop();
    assert.ok(flushedSizes.length >= 2, `flushed ${flushedSizes.length} time(s) while 8 MiB were written, at ${flushedSizes.join(', ')}`);
    assert.ok(flushedSizes.every((size, i) => size >= 2 * MIB && (i === 0 || size > flushedSizes[i - 1])), flushedSizes.join(', '));
    fs.rmSync(file); // its descriptor was closed: the file goes
  });

  it('a failed flush makes stop fail, so the copy is not taken as written to the disk', async () => {
    const file = path.join(dir, 'snapshot.sqlite3');
    const flusher = flushWhileGrowing(file, { everyBytes: MIB, flush: () => Promise.reject(diskError()) });
    await growFile(file, 3);
    await assert.rejects(flusher.stop(), (error: NodeJS.ErrnoException) => error.code === 'EIO');
  });

  it('a snapshot of a 40 MB database on the disk (flushed as the backup API writes it) is that database, page for page', async () => {
    const source = path.join(dir, 'source.sqlite3');
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(source);
    db.exec('CREATE TABLE t(id INTEGER PRIMARY KEY, data BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000) INSERT INTO t SELECT i, randomblob(4000) FROM n;');
    db.close();
    assert.ok(fs.statSync(source).size > 40 * MIB, 'larger than one flush interval (32 MiB)');
    const copy = path.join(dir, 'copy.sqlite3');
    await (await engine()).snapshot(source, copy);
    const original = fs.readFileSync(source);
    const copied = fs.readFileSync(copy);
    assert.equal(copied.length, original.length);
    // Page 1's header counters are the copy's own (the backup API writes them); every other page is the same.
    assert.ok(copied.subarray(4096).equals(original.subarray(4096)), 'every page after the first is identical');
  });
});
