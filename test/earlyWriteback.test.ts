import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EarlyWriteback } from '../src/core/earlyWriteback';
import { tempDir } from './support/workspaces';

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
    const fd = fs.openSync(path.join(dir, 'data.bin'), 'w');
    try {
      const held = heldFlushes();
      const writeback = new EarlyWriteback(fd, { everyBytes: MIB, flush: held.flush });
      writePieces(fd, writeback, 0, 1);
      held.release(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      await writeback.settle();
      // A later flush succeeds; the first failure still decides.
      writePieces(fd, writeback, 1, 1);
      held.release();
      await assert.rejects(writeback.finish(), (error: NodeJS.ErrnoException) => error.code === 'EIO');
    } finally {
      fs.closeSync(fd);
    }
  });

  it('finish, called while a flush is in progress, waits for it and fails when it fails', async () => {
    const fd = fs.openSync(path.join(dir, 'data.bin'), 'w');
    try {
      const held = heldFlushes();
      const writeback = new EarlyWriteback(fd, { everyBytes: MIB, flush: held.flush });
      writePieces(fd, writeback, 0, 1);
      const finishing = writeback.finish();
      held.release(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      await assert.rejects(finishing, (error: NodeJS.ErrnoException) => error.code === 'EIO');
    } finally {
      fs.closeSync(fd);
    }
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
