import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { EarlyWriteback } from '../earlyWriteback';
import { localClockParts } from '../localTime';
import { releaseSpentOutput } from './spentZlibOutput';

/** Raw deflate is compressed in chunks of this size, several at once, so both cores work. */
const CHUNK = 1 << 20;
const IN_FLIGHT = 4;
/** zlib's output buffer size for deflate (see DeflateLane). */
const OUTPUT_BUFFER_BYTES = 256 * 1024;
/** How many input pieces the writer may still hold (in flight, being read): a buffer pool one larger can be reused safely. */
export const RETAINED_CHUNKS = IN_FLIGHT + 1;
export const CHUNK_SIZE = CHUNK;
const ZIP64_THRESHOLD = 0xffffffff - 0x4000000;

const crcTable = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as ZIP wants it: zlib's (Node >= 22.2), or a table version on older runtimes. */
export function crc32(data: Uint8Array, previous = 0): number {
  const native = (zlib as unknown as { crc32?: (d: Uint8Array, v: number) => number }).crc32;
  if (native) return native(data, previous);
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * One long-lived raw-deflate stream. Each chunk it is given ends with a full flush: byte-aligned and
 * independent of what came before, so chunks compressed by different lanes can be concatenated into
 * one deflate stream. Reusing the stream (instead of one per chunk) keeps memory flat.
 */
class DeflateLane {
  private readonly stream: zlib.DeflateRaw;
  private output: Buffer[] = [];

  constructor(level: number) {
    // 256 KiB output buffers: a compressed chunk then takes a job or two on the thread pool instead of a
    // round trip through the (busy) main thread per 16 KiB of output, which starved the lanes. (Whole-chunk
    // buffers were no faster and raised peak memory: measured 0.76 s / 104 MB vs 0.74 s / 106 MB at
    // 100 MB, 6.7 s / 122 MB vs 6.8 s / 131 MB at 1 GiB.)
    this.stream = zlib.createDeflateRaw({ level, memLevel: 9, chunkSize: OUTPUT_BUFFER_BYTES });
    this.stream.on('data', (chunk: Buffer) => this.output.push(chunk));
  }

  /** Frees the output buffer that `written` ends, once written (see spentZlibOutput.ts). */
  releaseWritten(written: Buffer): void {
    releaseSpentOutput(this.stream, written, OUTPUT_BUFFER_BYTES);
  }

  /** The compressed chunk, as the stream's output buffers (written as they are: no joining copy). */
  compress(input: Buffer): Promise<Buffer[]> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.stream.once('error', onError);
      this.stream.write(input);
      this.stream.flush(zlib.constants.Z_FULL_FLUSH, () => {
        this.stream.off('error', onError);
        const out = this.output;
        this.output = [];
        resolve(out);
      });
    });
  }

  close(): void {
    this.stream.close();
  }
}

/** A chunk given to a lane: its size, and the compressed output the lane will hand back. */
interface PendingChunk {
  input: number;
  lane: DeflateLane;
  output: Promise<Buffer[]>;
}

/** The end of a deflate stream after a flush: a final, empty block with fixed codes. */
export const FINAL_EMPTY_BLOCK = Buffer.from([0x03, 0x00]);

/** The entries' time as ZIP keeps it: on the local clock, as `unzip -l` and Python's zipfile show it. */
function dosDateTime(date: Date): { date: number; time: number } {
  // The user's clock, which Node's is not for a TZ with POSIX daylight saving rules (see localTime).
  const local = localClockParts(date);
  if (local.year < 1980) return { date: (1 << 5) | 1, time: 0 };
  return {
    date: ((local.year - 1980) << 9) | (local.month << 5) | local.day,
    time: (local.hour << 11) | (local.minute << 5) | Math.floor(local.second / 2),
  };
}

interface CentralRecord {
  name: Buffer;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
  zip64: boolean;
}

/**
 * [compressed bytes, uncompressed bytes] of one piece of an entry's deflate stream. Each piece ends with
 * a full flush, so it inflates on its own: a reader that knows the pieces can inflate them in parallel.
 */
export type DeflateSegment = [number, number];

export interface ZipWriterOptions {
  /** 0 stores; 1 to 9 deflate. */
  level: number;
  mtime: Date;
  /** Always write ZIP64 structures (tests use it to exercise them without 4 GiB files). */
  forceZip64?: boolean;
}

/**
 * A streaming ZIP writer: local header, data, data descriptor per entry, then the central directory,
 * with ZIP64 records when sizes, offsets or counts need them. Unlike yazl it deflates one entry on
 * several threads at once (1 MiB chunks, each ended by a full flush so that none refers back into
 * another; joined, they are one ordinary deflate stream, and `addEntry` returns the pieces so that a
 * reader can inflate them in parallel too). Everything is appended, so `onWrite` sees the
 * archive's bytes in order (for its SHA-256).
 */
export class ZipWriter {
  private readonly fd: number;
  private offset = 0;
  private readonly records: CentralRecord[] = [];
  private readonly time: { date: number; time: number };
  /**
   * Deflate lanes, made when first needed and shared by all entries: every chunk ends with a full flush,
   * so a lane carries nothing from one entry to the next, and a small entry costs no new streams.
   */
  private readonly lanes: DeflateLane[] = [];
  private readonly writeback: EarlyWriteback;

  constructor(file: string, private readonly options: ZipWriterOptions, private readonly onWrite: (bytes: Buffer) => void) {
    // Owner only while it is written; the finished archive gets the permissions of what it holds.
    this.fd = fs.openSync(file, 'wx', 0o600);
    this.writeback = new EarlyWriteback(this.fd);
    this.time = dosDateTime(options.mtime);
  }

  private write(bytes: Buffer): void {
    fs.writeSync(this.fd, bytes);
    this.writeback.wrote(bytes.length);
    this.onWrite(bytes);
    this.offset += bytes.length;
  }

  /**
   * Adds one entry from `source`, whose total size must be `size`, or at most `atMost` when it is known
   * only at the end (sizes go in the data descriptor; the bound decides ZIP64 up front). `onChunk`
   * sees the uncompressed bytes in order (for hashing them in the same pass). `store` skips
   * compression for content that cannot shrink (hash digests). Returns the deflate pieces (none when stored).
   */
  async addEntry(name: string, source: AsyncIterable<Buffer> | Iterable<Buffer>, size: number | { atMost: number }, onChunk?: (chunk: Buffer) => void, store = false): Promise<DeflateSegment[]> {
    const nameBytes = Buffer.from(name, 'utf8');
    const method = this.options.level === 0 || store ? 0 : 8;
    const bound = typeof size === 'number' ? size : size.atMost;
    const zip64 = this.options.forceZip64 === true || bound >= ZIP64_THRESHOLD || this.offset >= ZIP64_THRESHOLD;
    const localOffset = this.offset;
    const extra = zip64 ? Buffer.alloc(20) : Buffer.alloc(0);
    if (zip64) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(16, 2);
    }
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(zip64 ? 45 : 20, 4);
    header.writeUInt16LE(0x0808, 6); // bit 3: sizes in the data descriptor; bit 11: UTF-8 name
    header.writeUInt16LE(method, 8);
    header.writeUInt16LE(this.time.time, 10);
    header.writeUInt16LE(this.time.date, 12);
    header.writeUInt32LE(0, 14);
    header.writeUInt32LE(zip64 ? 0xffffffff : 0, 18);
    header.writeUInt32LE(zip64 ? 0xffffffff : 0, 22);
    header.writeUInt16LE(nameBytes.length, 26);
    header.writeUInt16LE(extra.length, 28);
    this.write(Buffer.concat([header, nameBytes, extra]));

    let crc = 0;
    let seen = 0;
    let compressedSize = 0;
    const pending: PendingChunk[] = [];
    const segments: DeflateSegment[] = [];
    let next = 0;
    const flushOne = async (): Promise<void> => {
      const { input, lane, output } = pending.shift() as PendingChunk;
      let length = 0;
      for (const out of await output) {
        this.write(out);
        length += out.length;
        lane.releaseWritten(out);
      }
      compressedSize += length;
      segments.push([length, input]);
    };
    const consume = async (chunk: Buffer): Promise<void> => {
      if (method === 0) {
        this.write(chunk);
        compressedSize += chunk.length;
        return;
      }
      // Lane i takes chunks i, i + IN_FLIGHT, …; with IN_FLIGHT pending at most, a lane is free again.
      if (pending.length >= IN_FLIGHT) await flushOne();
      const lane = next++ % IN_FLIGHT;
      if (lane === this.lanes.length) this.lanes.push(new DeflateLane(this.options.level));
      pending.push({ input: chunk.length, lane: this.lanes[lane], output: this.lanes[lane].compress(chunk) });
    };
    for await (const piece of source) {
      crc = crc32(piece, crc);
      seen += piece.length;
      onChunk?.(piece);
      // Pieces are compressed as they come (split when larger than a chunk): no copies, no garbage.
      for (let offset = 0; offset < piece.length; offset += CHUNK) await consume(piece.subarray(offset, offset + CHUNK));
    }
    while (pending.length > 0) await flushOne();
    if (method === 8) {
      this.write(FINAL_EMPTY_BLOCK);
      compressedSize += FINAL_EMPTY_BLOCK.length;
    }
    if (typeof size === 'number' ? seen !== size : seen > bound) throw new Error(`entry ${name}: expected ${typeof size === 'number' ? '' : 'at most '}${bound} bytes, got ${seen}`);

    const descriptor = Buffer.alloc(zip64 ? 24 : 16);
    descriptor.writeUInt32LE(0x08074b50, 0);
    descriptor.writeUInt32LE(crc >>> 0, 4);
    if (zip64) {
      descriptor.writeBigUInt64LE(BigInt(compressedSize), 8);
      descriptor.writeBigUInt64LE(BigInt(seen), 16);
    } else {
      descriptor.writeUInt32LE(compressedSize, 8);
      descriptor.writeUInt32LE(seen, 12);
    }
    this.write(descriptor);
    this.records.push({ name: nameBytes, method, crc: crc >>> 0, compressedSize, size: seen, offset: localOffset, zip64: zip64 || compressedSize >= 0xffffffff });
    return segments;
  }

  addBuffer(name: string, data: Buffer): Promise<DeflateSegment[]> {
    return this.addEntry(name, [data], data.length);
  }

  /** Writes the central directory and the end records, fsyncs (on the thread pool: the event loop goes on meanwhile) and closes the file. */
  async finish(): Promise<void> {
    const cdStart = this.offset;
    for (const r of this.records) {
      const big = r.zip64 || r.offset >= 0xffffffff;
      const extra = big ? Buffer.alloc(28) : Buffer.alloc(0);
      if (big) {
        extra.writeUInt16LE(0x0001, 0);
        extra.writeUInt16LE(24, 2);
        extra.writeBigUInt64LE(BigInt(r.size), 4);
        extra.writeBigUInt64LE(BigInt(r.compressedSize), 12);
        extra.writeBigUInt64LE(BigInt(r.offset), 20);
      }
      const header = Buffer.alloc(46);
      header.writeUInt32LE(0x02014b50, 0);
      header.writeUInt16LE((3 << 8) | 45, 4); // made by: Unix, spec 4.5
      header.writeUInt16LE(big ? 45 : 20, 6);
      header.writeUInt16LE(0x0808, 8);
      header.writeUInt16LE(r.method, 10);
      header.writeUInt16LE(this.time.time, 12);
      header.writeUInt16LE(this.time.date, 14);
      header.writeUInt32LE(r.crc, 16);
      header.writeUInt32LE(big ? 0xffffffff : r.compressedSize, 20);
      header.writeUInt32LE(big ? 0xffffffff : r.size, 24);
      header.writeUInt16LE(r.name.length, 28);
      header.writeUInt16LE(extra.length, 30);
      header.writeUInt32LE((0o100644 << 16) >>> 0, 38);
      header.writeUInt32LE(big ? 0xffffffff : r.offset, 42);
      this.write(Buffer.concat([header, r.name, extra]));
    }
    const cdSize = this.offset - cdStart;
    const needs64 = this.options.forceZip64 === true || this.records.length >= 0xffff || cdStart >= 0xffffffff || cdSize >= 0xffffffff || this.records.some((r) => r.zip64);
    if (needs64) {
      const eocd64Offset = this.offset;
      const eocd64 = Buffer.alloc(56);
      eocd64.writeUInt32LE(0x06064b50, 0);
      eocd64.writeBigUInt64LE(44n, 4);
      eocd64.writeUInt16LE((3 << 8) | 45, 12);
      eocd64.writeUInt16LE(45, 14);
      eocd64.writeBigUInt64LE(BigInt(this.records.length), 24);
      eocd64.writeBigUInt64LE(BigInt(this.records.length), 32);
      eocd64.writeBigUInt64LE(BigInt(cdSize), 40);
      eocd64.writeBigUInt64LE(BigInt(cdStart), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(0x07064b50, 0);
      locator.writeBigUInt64LE(BigInt(eocd64Offset), 8);
      locator.writeUInt32LE(1, 16);
      this.write(Buffer.concat([eocd64, locator]));
    }
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(needs64 ? 0xffff : this.records.length, 8);
    eocd.writeUInt16LE(needs64 ? 0xffff : this.records.length, 10);
    eocd.writeUInt32LE(needs64 ? 0xffffffff : cdSize, 12);
    eocd.writeUInt32LE(needs64 ? 0xffffffff : cdStart, 16);
    this.write(eocd);
    this.closeLanes();
    await this.writeback.finish();
    fs.closeSync(this.fd);
  }

  private closeLanes(): void {
    for (const lane of this.lanes.splice(0)) lane.close();
  }

  /** Closes the file without finishing it (the caller removes it). */
  abort(): void {
    this.closeLanes();
    // An early flush may still be queued on the thread pool: at worst it flushes a file that took this
    // descriptor number since, which does no harm; its outcome is no longer wanted.
    try {
      fs.closeSync(this.fd);
    } catch {
      // Already closed.
    }
  }
}
