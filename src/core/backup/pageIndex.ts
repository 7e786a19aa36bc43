import * as crypto from 'node:crypto';

type OneShotHash = (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer;
/** `crypto.hash` (Node >= 21.7) skips the per-call object of createHash: a third faster on 4 KiB pages. */
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;
const sha256Page = oneShot ? (page: Uint8Array): Buffer => oneShot('sha256', page, 'buffer') : (page: Uint8Array): Buffer => crypto.createHash('sha256').update(page).digest();

/** Bytes of SHA-256 kept per page: enough to tell pages apart; restores are checked against the full-file SHA-256. */
export const PAGE_HASH_BYTES = 16;

/** Hashes each page of `data` (whose length is a whole number of pages) into `into` at page offset `firstPage`. */
export function hashPages(data: Uint8Array, pageSize: number, into: Buffer, firstPage: number): void {
  const pages = data.length / pageSize;
  for (let i = 0; i < pages; i++) {
    const digest = sha256Page(data.subarray(i * pageSize, (i + 1) * pageSize));
    digest.copy(into, (firstPage + i) * PAGE_HASH_BYTES, 0, PAGE_HASH_BYTES);
  }
}

/** Page numbers (0-based) whose hash differs from the parent's index, or that the parent did not have. */
export function changedPages(current: Buffer, parent: Buffer | undefined): number[] {
  const count = current.length / PAGE_HASH_BYTES;
  const changed: number[] = [];
  for (let page = 0; page < count; page++) {
    const offset = page * PAGE_HASH_BYTES;
    if (!parent || offset + PAGE_HASH_BYTES > parent.length || current.compare(parent, offset, offset + PAGE_HASH_BYTES, offset, offset + PAGE_HASH_BYTES) !== 0) changed.push(page);
  }
  return changed;
}
