import { createHash } from 'node:crypto';
import * as path from 'node:path';

/** The longest file name, in bytes, that common file systems take (ext4, XFS, btrfs; FAT and NTFS count less). */
export const MAX_NAME_BYTES = 255;

/** What a cut name keeps of its end: a hash of the whole name, so two long names cut alike stay apart. */
const HASH_CHARACTERS = 8;

/**
 * `name`, cut at a character boundary when needed so that it and `reservedBytes` more (the marker and
 * suffix the caller adds) fit in one file name. A name that fits is returned as it is: only names near
 * the limit (which a profile may use) change, and those keep their start and a hash of the whole.
 */
export function fittingName(name: string, reservedBytes: number): string {
  const budget = MAX_NAME_BYTES - reservedBytes;
  if (Buffer.byteLength(name) <= budget) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, HASH_CHARACTERS);
  let kept = '';
  let keptBytes = 0;
  for (const character of name) {
    const bytes = Buffer.byteLength(character);
    if (keptBytes + bytes > budget - HASH_CHARACTERS - 1) break;
    kept += character;
    keptBytes += bytes;
  }
  return `${kept}~${hash}`;
}

/**
 * A path beside `file` named after it with `suffix` added (`x.sqlite3.before-restore-…`), cut to fit;
 * `laterBytes` leaves room for what may still be added (a database's `-journal`).
 */
export function siblingPath(file: string, suffix: string, laterBytes = 0): string {
  return path.join(path.dirname(file), `${fittingName(path.basename(file), Buffer.byteLength(suffix) + laterBytes)}${suffix}`);
}
