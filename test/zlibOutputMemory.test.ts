import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inflateSegments } from '../src/core/backup/segmentedInflate';
import { RETAINED_CHUNKS, ZipWriter, type DeflateSegment } from '../src/core/backup/zipWriter';
import { tempDir } from './support/workspaces';

const MIB = 1 << 20;
const ENTRY_MIB = 96;
const ENTRY_NAME = 'random.bin';

/** How far `process.memoryUsage().arrayBuffers` rises above where it was when this was made. */
class BufferMemoryWatch {
  private readonly baseline = process.memoryUsage().arrayBuffers;
  peak = 0;

  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage().arrayBuffers - this.baseline);
  }
}

/** How many of `buffers` were detached (their memory freed). */
function detachedCount(buffers: Set<ArrayBufferLike>): number {
  return [...buffers].filter((buffer) => buffer.byteLength === 0).length;
}

/** The entry's compressed bytes, read into a ring of reused buffers (so reading makes no garbage of its own). */
async function* compressedBytes(file: string, segments: DeflateSegment[]): AsyncGenerator<Buffer> {
  // The local header: 30 bytes, the name, no extra field (the entry is under 4 GiB); the stream ends with a final empty block.
  let at = 30 + Buffer.byteLength(ENTRY_NAME);
  let left = segments.reduce((sum, [compressed]) => sum + compressed, 0) + 2;
  const ring = Array.from({ length: 2 }, () => Buffer.allocUnsafe(MIB));
  const fd = fs.openSync(file, 'r');
  try {
    for (let turn = 0; left > 0; turn++) {
      const buffer = ring[turn % ring.length];
      const read = fs.readSync(fd, buffer, 0, Math.min(buffer.length, left), at);
      at += read;
      left -= read;
      yield buffer.subarray(0, read);
    }
  } finally {
    fs.closeSync(fd);
  }
}

// zlib hands out every piece of its output in a new buffer. Left to the collector, spent output piled
// up by tens of megabytes before V8 reclaimed it (a backup of data that does not compress peaked at
// 150–166 MB of RSS against the 150 MB goal); the writer and the reader now free each buffer once it
// is used. Data that does not compress gives the most output per input.
describe('zlib output with data that does not compress', function () {
  this.timeout(120_000);
  let file = '';
  let randomSha256 = '';
  let segments: DeflateSegment[] = [];

  before(() => {
    assert.equal(typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer, 'function', 'this runtime cannot detach buffers: run the tests with Node 24 (scripts/run-mocha.sh)');
    file = path.join(tempDir('envprofiles-zlib-memory-'), 'random.zip');
  });

  it('is freed once written: the ZIP writer holds a few megabytes, and the archive reads back whole', async () => {
    // Input pieces come from a ring the writer may hold RETAINED_CHUNKS of, so the input makes no garbage either.
    const ring = Array.from({ length: RETAINED_CHUNKS + 1 }, () => Buffer.allocUnsafe(MIB));
    const expected = createHash('sha256');
    function* randomPieces(): Generator<Buffer> {
      for (let i = 0; i < ENTRY_MIB; i++) {
        const piece = randomFillSync(ring[i % ring.length]);
        expected.update(piece);
        yield piece;
      }
    }
    const watch = new BufferMemoryWatch();
    const outputBuffers = new Set<ArrayBufferLike>();
    const writer = new ZipWriter(file, { level: 1, mtime: new Date() }, (bytes) => {
      // zlib's output buffers (256 KiB); headers and descriptors are small buffers of Node's pool.
      if (bytes.buffer.byteLength === 256 * 1024) outputBuffers.add(bytes.buffer);
      watch.sample();
    });
    segments = await writer.addEntry(ENTRY_NAME, randomPieces(), ENTRY_MIB * MIB);
    await writer.finish();

    // Every output buffer that zlib filled is detached once written: all but each lane's last one.
    assert.ok(outputBuffers.size > ENTRY_MIB * 4 - 4, `${outputBuffers.size} output buffers`);
    assert.ok(detachedCount(outputBuffers) >= outputBuffers.size - 4, `${detachedCount(outputBuffers)} of ${outputBuffers.size} written output buffers were freed`);
    // In flight at once: four lanes' output, about 1 MiB each (5 MiB measured); left to the collector,
    // written output had piled up to 24–38 MiB by the end of this entry.
    assert.ok(watch.peak < 12 * MIB, `buffers held while writing rose by ${(watch.peak / MIB).toFixed(1)} MiB: written output is not freed (expected under 12 MiB)`);
    assert.ok(fs.statSync(file).size > ENTRY_MIB * MIB, 'random data does not compress');
    assert.equal(spawnSync('unzip', ['-tq', file], { encoding: 'utf8' }).status, 0);
    const python = spawnSync('python3', ['-c', 'import hashlib,sys,zipfile; print(hashlib.sha256(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2])).hexdigest())', file, ENTRY_NAME], { encoding: 'utf8' });
    randomSha256 = expected.digest('hex');
    assert.equal(python.stdout.trim(), randomSha256, python.stderr);
  });

  it('is freed once read: inflating the pieces on four lanes holds a few megabytes, and gives back every byte', async () => {
    assert.ok(segments.length > 1 && randomSha256 !== '', 'the entry was written first, in pieces');
    const watch = new BufferMemoryWatch();
    const outputBuffers = new Set<ArrayBufferLike>();
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of inflateSegments(compressedBytes(file, segments), segments, (why) => new Error(why))) {
      hash.update(chunk);
      bytes += chunk.length;
      outputBuffers.add(chunk.buffer);
      watch.sample();
    }
    assert.equal(bytes, ENTRY_MIB * MIB);
    assert.equal(hash.digest('hex'), randomSha256);
    // zlib's output came in 64 KiB buffers, each detached once read: all but each lane's last one.
    assert.ok(outputBuffers.size >= ENTRY_MIB * 16, `${outputBuffers.size} output buffers`);
    assert.ok(detachedCount(outputBuffers) >= outputBuffers.size - 4, `${detachedCount(outputBuffers)} of ${outputBuffers.size} read output buffers were freed`);
    // The piece rings (7 MiB, made for this read) and four lanes' output; left to the collector, spent
    // output had risen by 31 MiB here (14 MiB at most with it freed, on a machine busy with other work).
    assert.ok(watch.peak < 24 * MIB, `buffers held while inflating rose by ${(watch.peak / MIB).toFixed(1)} MiB: spent output is not freed (expected under 24 MiB)`);
  });
});
