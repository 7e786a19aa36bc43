import * as zlib from 'node:zlib';
import { hasSmallYoungGeneration } from '../youngGeneration';
import { canReleaseOutput, releaseSpentOutput } from './spentZlibOutput';
import { FINAL_EMPTY_BLOCK, type DeflateSegment } from './zipWriter';

/** Pieces inflated at once: enough to keep both cores busy while this thread hashes and writes. */
const IN_FLIGHT = 4;
/** Bounds on what a manifest may claim per piece (the writer uses 1 MiB): no huge buffers for a lying archive. */
export const MAX_SEGMENT_BYTES = 16 * 1024 * 1024;

/** Why a segment list cannot describe an entry of these sizes, or undefined when it can. */
export function segmentListProblem(segments: unknown, uncompressedSize: number): string | undefined {
  if (!Array.isArray(segments)) return 'is not a list';
  let total = 0;
  for (const segment of segments) {
    if (!Array.isArray(segment) || segment.length !== 2 || !segment.every((n) => Number.isInteger(n) && n > 0 && n <= 2 * MAX_SEGMENT_BYTES)) return 'has a piece that is not two positive sizes';
    if (segment[1] > MAX_SEGMENT_BYTES) return 'has a piece larger than 16 MiB';
    total += segment[1];
  }
  if (total !== uncompressedSize) return `adds up to ${total} bytes, not ${uncompressedSize}`;
  return undefined;
}

const LARGE_OUTPUT_CHUNK = 64 * 1024;

/**
 * zlib's output size: each piece is a new buffer and a return trip from the thread pool. Larger pieces
 * are faster (1 GiB: 64 KiB 2.9 s, 16 KiB 3.7 s; unzip takes 6.5 s) but, left to the collector, spent
 * ones raised the peak with Node's usual young generation (145 MB against 121 MB; a verify at the end
 * of a chain of seven, 171 MB). So 64 KiB where spent pieces are freed at once (see spentZlibOutput.ts)
 * or collected soon (a small young generation, see youngGeneration.ts: 2026-12-02, 1 GiB, a restore
 * 4.6 s / 104 MB against 7.1 s / 125 MB), 16 KiB elsewhere (Node 20).
 */
export function outputChunkSize(smallYoungGeneration = hasSmallYoungGeneration(), releasable = canReleaseOutput(LARGE_OUTPUT_CHUNK)): number {
  return smallYoungGeneration || releasable ? LARGE_OUTPUT_CHUNK : 16 * 1024;
}
const OUTPUT_CHUNK = outputChunkSize();

/**
 * One long-lived raw-inflate stream. Pieces ending with a full flush never refer back past their
 * start, so one stream can inflate any of them one after another (a corrupt one that did would change
 * the output, which the entry's SHA-256 catches). Reusing streams keeps memory flat.
 */
class InflateLane {
  private readonly stream: zlib.InflateRaw;
  private output: Buffer[] = [];
  private bytes = 0;
  private limit = 0;
  private waiting: { resolve: (out: Buffer[]) => void; reject: (error: Error) => void } | undefined;
  private broken: Error | undefined;

  constructor(private readonly outputChunk: number) {
    this.stream = zlib.createInflateRaw({ chunkSize: outputChunk });
    this.stream.on('data', (chunk: Buffer) => {
      this.output.push(chunk);
      this.bytes += chunk.length;
      // More output than the piece may have: stop now (a bomb, or damage), do not keep inflating.
      if (this.bytes > this.limit) this.stream.destroy(new Error(`more than ${this.limit} bytes`));
    });
    const stop = (error: Error): void => {
      this.broken ??= error;
      this.waiting?.reject(this.broken);
      this.waiting = undefined;
    };
    this.stream.on('error', stop);
    // A piece never holds the final block; a damaged one that does ends the stream early.
    this.stream.on('end', () => stop(new Error('a final block inside a piece')));
    this.stream.on('close', () => stop(new Error('the stream closed')));
  }

  inflate(piece: Buffer, expected: number): Promise<Buffer[]> {
    this.output = [];
    this.bytes = 0;
    this.limit = expected;
    return new Promise((resolve, reject) => {
      if (this.broken) return reject(this.broken);
      this.waiting = { resolve, reject };
      this.stream.write(piece);
      // No final block inside a piece, so a sync flush ends its output.
      this.stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        const waiting = this.waiting;
        this.waiting = undefined;
        if (this.broken) waiting?.reject(this.broken);
        else waiting?.resolve(this.output);
      });
    });
  }

  /** Frees the output buffer that `used` ends, once its reader is done with it (see spentZlibOutput.ts). */
  releaseUsed(used: Buffer): void {
    releaseSpentOutput(this.stream, used, this.outputChunk);
  }

  close(): void {
    this.stream.destroy();
  }
}

/**
 * Inflates a deflate stream written as independent pieces (each ended by a full flush, as our ZIP
 * writer does) on several threads at once, yielding the output in order. `raw` is the entry's
 * compressed bytes. Any disagreement with the segment list (a piece that inflates to another size,
 * bytes left over, a damaged piece) is reported through `fail`. A chunk it yields is the reader's until
 * the reader asks for the next one: its memory may be freed then (copy what must be kept).
 */
export async function* inflateSegments(raw: AsyncIterable<Buffer>, segments: DeflateSegment[], fail: (why: string) => Error): AsyncGenerator<Buffer> {
  const inflater = new SegmentInflater();
  try {
    yield* inflater.inflate(raw, segments, fail);
  } finally {
    inflater.close();
  }
}

/**
 * `inflateSegments` for several entries one after another (the image and the page sets of a chain),
 * with one set of lanes and piece buffers for all of them. A new set per entry piled up as garbage
 * that the collector reclaims late: at 1 GiB, verifying a chain of eight archives peaked at 161–173 MB
 * of RSS that way, and at 144–148 MB with one set. One entry at a time; `close` when done.
 */
export class SegmentInflater {
  private lanes: InflateLane[] = [];
  private readonly ring: Buffer[] = [];
  private busy = false;

  /** `outputChunk`: zlib's output size (see outputChunkSize). */
  constructor(private readonly outputChunk = OUTPUT_CHUNK) {}

  async *inflate(raw: AsyncIterable<Buffer>, segments: DeflateSegment[], fail: (why: string) => Error): AsyncGenerator<Buffer> {
    if (this.busy) throw new Error('a SegmentInflater inflates one entry at a time');
    this.busy = true;
    let finished = false;
    try {
      while (this.lanes.length < Math.min(IN_FLIGHT, segments.length)) this.lanes.push(new InflateLane(this.outputChunk));
      yield* inflateOnLanes(raw, segments, fail, this.lanes.slice(0, Math.min(IN_FLIGHT, segments.length)), this.ring);
      finished = true;
    } finally {
      this.busy = false;
      // Lanes that failed, or still inflate pieces nobody will read (the reader stopped early), are not reused.
      if (!finished) this.closeLanes();
    }
  }

  close(): void {
    this.closeLanes();
    this.ring.length = 0;
  }

  private closeLanes(): void {
    for (const lane of this.lanes) lane.close();
    this.lanes = [];
  }
}

/** A piece given to a lane, and the output it will hand back. */
interface PendingPiece {
  lane: InflateLane;
  output: Promise<Buffer[]>;
}

async function* inflateOnLanes(raw: AsyncIterable<Buffer>, segments: DeflateSegment[], fail: (why: string) => Error, lanes: InflateLane[], ring: Buffer[]): AsyncGenerator<Buffer> {
  const pending: PendingPiece[] = [];
  // A chunk handed out is used by the time the reader asks for the next one: its buffer can be freed then.
  async function* handOut(done: PendingPiece): AsyncGenerator<Buffer> {
    for (const chunk of await done.output) {
      yield chunk;
      done.lane.releaseUsed(chunk);
    }
  }
  let next = 0;
  // Compressed pieces are gathered in a ring of reused buffers (one more than can be in flight): big
  // buffers made and dropped per piece pile up as garbage faster than the collector returns them.
  const slot = (index: number): Buffer => {
    const size = segments[index]?.[0] ?? 0;
    const at = index % (IN_FLIGHT + 1);
    if (!ring[at] || ring[at].length < size) ring[at] = Buffer.allocUnsafe(Math.max(size, 1 << 20));
    return ring[at].subarray(0, size);
  };
  let piece = slot(0);
  let filled = 0;
  const trailer: Buffer[] = [];
  const dispatch = (): void => {
    const [, expected] = segments[next];
    const index = next;
    // Lane i takes pieces i, i + IN_FLIGHT, …; with at most IN_FLIGHT pending, its previous piece is done.
    const lane = lanes[index % lanes.length];
    pending.push({
      lane,
      output: lane.inflate(piece, expected).then(
        (out) => {
          const length = out.reduce((sum, chunk) => sum + chunk.length, 0);
          if (length !== expected) throw fail(`piece ${index + 1} inflates to ${length} bytes, the manifest says ${expected}`);
          return out;
        },
        (error: Error) => {
          throw fail(`piece ${index + 1} does not inflate (${error.message})`);
        },
      ),
    });
    // Rejections are handled where the piece is awaited; this keeps an early one from being "unhandled".
    pending[pending.length - 1].output.catch(() => {});
    next++;
    piece = slot(next);
    filled = 0;
  };
  for await (const chunk of raw) {
    let offset = 0;
    while (offset < chunk.length) {
      if (next === segments.length) {
        trailer.push(chunk.subarray(offset));
        break;
      }
      const take = Math.min(piece.length - filled, chunk.length - offset);
      chunk.copy(piece, filled, offset, offset + take);
      filled += take;
      offset += take;
      if (filled === piece.length) {
        dispatch();
        if (pending.length >= IN_FLIGHT) yield* handOut(pending.shift() as PendingPiece);
      }
    }
  }
  if (next !== segments.length) throw fail(`ends inside piece ${next + 1} of ${segments.length}`);
  if (!Buffer.concat(trailer).equals(FINAL_EMPTY_BLOCK)) throw fail('has bytes after its last piece that are not the end of a deflate stream');
  while (pending.length > 0) yield* handOut(pending.shift() as PendingPiece);
}
