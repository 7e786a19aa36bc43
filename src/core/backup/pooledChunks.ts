import * as fs from 'node:fs';
import { CHUNK_SIZE, RETAINED_CHUNKS } from './zipWriter';

/**
 * Reads a file in ZIP-writer-sized chunks into a small ring of reused buffers instead of a new buffer per
 * read: a gigabyte read then leaves no gigabyte of garbage, which keeps peak memory flat.
 */
export function* pooledChunks(file: string, limit = Number.POSITIVE_INFINITY): Generator<Buffer> {
  const pool = Array.from({ length: RETAINED_CHUNKS + 1 }, () => Buffer.allocUnsafe(CHUNK_SIZE));
  const fd = fs.openSync(file, 'r');
  try {
    let position = 0;
    for (let i = 0; position < limit; i++) {
      const buffer = pool[i % pool.length];
      const read = fs.readSync(fd, buffer, 0, Math.min(CHUNK_SIZE, limit - position), position);
      if (read === 0) return;
      position += read;
      yield buffer.subarray(0, read);
    }
  } finally {
    fs.closeSync(fd);
  }
}
