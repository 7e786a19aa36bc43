/**
 * Whether zlib output buffers of `chunkSize` can be freed early here: the runtime can detach buffers,
 * and buffers of that size are zlib's own. Node's `Buffer.allocUnsafe`, with which zlib makes them,
 * takes smaller ones (under half of `Buffer.poolSize`: 4 KiB in Node 20, 32 KiB in Node 24) from a
 * pool that other buffers share, which must never be detached.
 */
export function canReleaseOutput(chunkSize: number): boolean {
  return typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function' && chunkSize >= Buffer.poolSize >>> 1;
}

/**
 * Frees a zlib stream's output buffer once `spent`, its last slice, has been used (written, hashed)
 * and nothing holds its earlier slices. zlib hands out output as slices of a buffer it allocates per
 * `chunkSize`; each is garbage once used, and V8 reclaims such memory only in a full collection,
 * which it starts once it has grown by about 64 MB. With data that does not compress, a backup of
 * random blobs in 64 KiB pages (320 MB) peaked at 148–166 MB of RSS, ~70 MB of it spent output;
 * detaching the buffer (ArrayBuffer.prototype.transfer, Node 21 and later) frees it at once (92 and
 * 109 MB). Only when `spent` ends the buffer (zlib fills each buffer in order and takes a new one
 * only when this one is full) and the stream has moved on to another buffer (so zlib never writes
 * into this one again). Where either cannot be told, or the runtime cannot detach, the collector
 * frees it as before.
 */
export function releaseSpentOutput(stream: object, spent: Buffer, chunkSize: number): void {
  const buffer = spent.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  if (!canReleaseOutput(chunkSize) || buffer.byteLength !== chunkSize) return;
  if (spent.byteOffset + spent.length !== buffer.byteLength) return;
  const current = (stream as { _outBuffer?: unknown })._outBuffer;
  if (!Buffer.isBuffer(current) || current.buffer === buffer) return;
  try {
    buffer.transfer?.(0);
  } catch {
    // Not detachable here: the collector frees it.
  }
}
