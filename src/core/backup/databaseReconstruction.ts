import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requireFreeSpace } from '../diskSpace';
import { EarlyWriteback } from '../earlyWriteback';
import { EnvProfilesError } from '../errors';
import type { ArchiveReader } from './archiveReader';
import { databaseRecordOf, storedPageCount, type DatabaseRecord } from './backupManifest';
import { changedPagesAgainst, PAGE_HASH_BYTES } from './pageIndex';
import { SegmentInflater } from './segmentedInflate';
import { hashOnThisThread } from './snapshotHasher';
import { rebuiltHeaderDisagreement } from './rebuiltHeaderCheck';
import { counted } from '../counted';

function corrupt(archive: string, entry: string, why: string): EnvProfilesError {
  return new EnvProfilesError('VERIFY_FAILED', `${archive}: entry "${entry}" ${why}.`, { file: archive, field: entry, hint: 'This backup cannot be restored; use another one.' });
}

export interface RebuiltDatabase {
  record: DatabaseRecord;
  /** SHA-256 of the rebuilt file (an incremental's only when asked for: it costs a hash of the whole file). */
  sha256?: string;
  /** The entries read and found to match their SHA-256 (so that `verify` need not read them again). */
  entriesChecked: { archive: string; entry: string; bytes: number }[];
}

export interface RebuildOptions {
  /** Compute the rebuilt file's whole SHA-256 even where the manifest has none to compare (verify reports it). */
  wholeSha256: boolean;
  /** fsync the rebuilt file: a restore swaps it in; a check (verify) throws it away, and skips writing it to disk. */
  durable: boolean;
  watch?: (done: number, total: number) => void;
  /** Hears when the file is whole, before it is read back and checked (verify starts integrity_check then). */
  whenWritten?: () => void;
  /** The permissions the file is created with (the umask still applies); owner-only when absent. */
  createMode?: number;
  /**
   * Check a whole image against its page index too (verify): a restore needs only the image's SHA-256,
   * but the next incremental compares pages against the index, so an index that does not describe the
   * image would make every incremental built on it restore wrong pages.
   */
  pageIndex?: boolean;
}

/** Where a database's rebuild starts (its newest whole image), after checking the chain can hold what it claims. */
function planRebuild(chain: ArchiveReader[], logicalName: string): { records: (DatabaseRecord | undefined)[]; wanted: DatabaseRecord; start: number; last: ArchiveReader } {
  const records = chain.map((archive) => databaseRecordOf(archive.manifest, logicalName));
  const wanted = records[records.length - 1];
  const last = chain[chain.length - 1];
  if (!wanted) throw new EnvProfilesError('BACKUP_NOT_FOUND', `${last.file} has no database "${logicalName}".`, { file: last.file, hint: 'Check the name with "envprofiles backups".' });
  let start = records.length - 1;
  while (start >= 0 && records[start]?.storage !== 'image') start--;
  if (start < 0) throw corrupt(last.file, wanted.entry, 'has no whole image anywhere in its chain');
  // Every page of the rebuilt file comes from the image or from a stored page: a size beyond what the
  // chain holds would only make a huge sparse file (a hostile archive's way to fill a disk or hours).
  const held = records.slice(start).reduce((sum, r) => sum + (!r ? 0 : r.storage === 'image' ? r.size : storedPageCount(r) * r.sqlite.pageSize), 0);
  if (wanted.size > held) throw corrupt(last.file, wanted.entry, `claims a database of ${wanted.size} bytes, but its chain holds at most ${held}`);
  return { records, wanted, start, last };
}

/**
 * The rebuilt file matched its SHA-256s (or page index), so a header that disagrees with the manifest
 * means the manifest lies about it: refused before a restore puts it back (verify reports it).
 */
function checkHeaderAgainstManifest(archive: string, rebuilt: string, wanted: DatabaseRecord): void {
  const disagreement = rebuiltHeaderDisagreement(rebuilt, wanted);
  if (disagreement) throw corrupt(archive, wanted.entry, `rebuilds to a database whose ${disagreement} (the manifest does not describe it)`);
}

/** The size a database of the chain rebuilds to (checked against what the chain holds). */
export function rebuiltSize(chain: ArchiveReader[], logicalName: string): number {
  return planRebuild(chain, logicalName).wanted.size;
}

/**
 * Rebuilds one database from a chain of archives (full first, the wanted backup last) into `target`:
 * the newest whole image, then every later set of changed pages, then the final size. Every entry's
 * SHA-256 is checked as it streams; the result is checked against the wanted backup's whole-file
 * SHA-256, or (an incremental, which has none) page by page against its page index. The rebuilt file's
 * own page index is made in `scratchDir` (a temporary folder the caller owns and removes). `watch`
 * hears, after every piece written, how many bytes of entries are applied out of how many; it may
 * throw (to cancel).
 */
export async function rebuildDatabase(chain: ArchiveReader[], logicalName: string, target: string, scratchDir: string, options: RebuildOptions): Promise<RebuiltDatabase> {
  const { wholeSha256: wantWholeSha256, durable, watch, whenWritten, pageIndex: checkPageIndex = false } = options;
  const { records, wanted, start, last } = planRebuild(chain, logicalName);
  requireFreeSpace(`Rebuilding ${logicalName}`, [
    { folder: path.dirname(target), bytes: wanted.size, what: 'the rebuilt database' },
    { folder: scratchDir, bytes: (wanted.size / wanted.sqlite.pageSize) * PAGE_HASH_BYTES, what: 'its page index' },
  ]);
  const entriesChecked: RebuiltDatabase['entriesChecked'] = [];
  const total = records.slice(start).reduce((sum, record) => sum + (record?.entrySize ?? 0), 0);
  let applied = 0;
  const inflater = new SegmentInflater();
  const fd = fs.openSync(target, 'w', options.createMode ?? 0o600);
  const writeback = durable ? new EarlyWriteback(fd) : undefined;
  try {
    for (let i = start; i < chain.length; i++) {
      const record = records[i];
      if (!record) throw corrupt(chain[i].file, logicalName, 'is missing from an archive in the middle of the chain');
      if (record.sqlite.pageSize !== wanted.sqlite.pageSize) throw corrupt(chain[i].file, record.entry, 'has a different page size than the rest of its chain');
      const stream = await chain[i].content(record.entry, record.segments, inflater);
      const hash = createHash('sha256');
      let bytes = 0;
      if (record.storage === 'image') {
        // A single inflate stream hands out small pieces; they are gathered into 1 MiB writes (far fewer
        // system calls). Pieces inflated in parallel are already that large and are written as they are.
        const batch = Buffer.allocUnsafe(1 << 20);
        let filled = 0;
        for await (const chunk of stream) {
          const data = chunk as Buffer;
          hash.update(data);
          watch?.((applied += data.length), total);
          if (filled === 0 && data.length >= batch.length) {
            fs.writeSync(fd, data, 0, data.length, bytes);
            writeback?.wrote(data.length);
            bytes += data.length;
            continue;
          }
          let offset = 0;
          while (offset < data.length) {
            const take = Math.min(batch.length - filled, data.length - offset);
            data.copy(batch, filled, offset, offset + take);
            filled += take;
            offset += take;
            if (filled === batch.length) {
              fs.writeSync(fd, batch, 0, filled, bytes);
              writeback?.wrote(filled);
              bytes += filled;
              filled = 0;
            }
          }
        }
        if (filled > 0) fs.writeSync(fd, batch, 0, filled, bytes);
        bytes += filled;
      } else {
        // [u32 page number][page] records, written from the chunks as they come; a record split between
        // two chunks is gathered in one reused buffer (no new buffer per chunk: memory stays flat).
        const { pageSize, pageCount } = record.sqlite;
        const recordSize = 4 + pageSize;
        const split = Buffer.allocUnsafe(recordSize);
        let splitFilled = 0;
        const apply = (source: Buffer, offset: number): void => {
          const page = source.readUInt32BE(offset);
          if (page >= pageCount) throw corrupt(chain[i].file, record.entry, `names page ${page}, beyond the database's ${counted(pageCount, 'page')}`);
          fs.writeSync(fd, source, offset + 4, pageSize, page * pageSize);
          writeback?.wrote(pageSize);
        };
        for await (const chunk of stream) {
          const data = chunk as Buffer;
          hash.update(data);
          bytes += data.length;
          watch?.((applied += data.length), total);
          let offset = 0;
          if (splitFilled > 0) {
            const take = Math.min(recordSize - splitFilled, data.length);
            data.copy(split, splitFilled, 0, take);
            splitFilled += take;
            offset = take;
            if (splitFilled < recordSize) continue;
            apply(split, 0);
            splitFilled = 0;
          }
          for (; offset + recordSize <= data.length; offset += recordSize) apply(data, offset);
          data.copy(split, 0, offset);
          splitFilled = data.length - offset;
        }
        if (splitFilled !== 0) throw corrupt(chain[i].file, record.entry, 'ends in the middle of a page');
      }
      if (bytes !== record.entrySize) throw corrupt(chain[i].file, record.entry, `is ${bytes} bytes, the manifest says ${record.entrySize}`);
      if (hash.digest('hex') !== record.entrySha256) throw corrupt(chain[i].file, record.entry, 'does not match its SHA-256 in the manifest (the archive is corrupt)');
      entriesChecked.push({ archive: chain[i].file, entry: record.entry, bytes });
    }
    fs.ftruncateSync(fd, wanted.size);
    // On the thread pool: flushing a gigabyte takes the disk a while, and the event loop goes on meanwhile.
    await writeback?.finish();
  } finally {
    inflater.close();
    await writeback?.settle();
    fs.closeSync(fd);
  }
  whenWritten?.();
  // A lone image was already checked against the manifest as it streamed; a patched chain is re-read.
  const loneImageChecked = start === chain.length - 1 && wanted.sha256 !== undefined && wanted.entrySha256 === wanted.sha256 && wanted.entrySize === wanted.size;
  if (loneImageChecked && !checkPageIndex) {
    checkHeaderAgainstManifest(last.file, target, wanted);
    return { record: wanted, sha256: wanted.sha256, entriesChecked };
  }
  // Read back and hashed on this thread: a hashing worker's heap on top of the inflating would pass the
  // memory goal. The whole-file SHA-256 only when the manifest has one not yet compared, or the caller asks.
  const indexFile = path.join(scratchDir, `${path.basename(target)}.${process.pid}-${Date.now().toString(36)}.pagehash`);
  try {
    const compareWhole = wanted.sha256 !== undefined && !loneImageChecked;
    const compareIndex = wanted.sha256 === undefined || checkPageIndex;
    const rebuilt = await hashOnThisThread(target, indexFile, wanted.sqlite.pageSize, wanted.sqlite.pageCount, compareWhole || (wantWholeSha256 && !loneImageChecked));
    if (compareWhole && rebuilt.sha256 !== wanted.sha256) throw corrupt(last.file, wanted.entry, 'rebuilds to a file whose SHA-256 differs from the manifest (the chain is inconsistent)');
    if (compareIndex) {
      const differing = await changedPagesAgainst(indexFile, wanted.sqlite.pageCount, last.verifiedChunks(wanted.pageIndexEntry, wanted.pageIndexSha256));
      if (differing.length > 0) {
        const why = wanted.sha256 === undefined ? 'the chain is inconsistent' : 'the index, which the next incremental compares pages against, does not describe the image';
        throw corrupt(last.file, wanted.entry, `rebuilds to a file whose page ${differing[0] + 1} differs from the backup's page index (${counted(differing.length, 'page')} ${differing.length === 1 ? 'differs' : 'differ'}; ${why})`);
      }
    }
    checkHeaderAgainstManifest(last.file, target, wanted);
    return { record: wanted, sha256: wanted.sha256 ?? rebuilt.sha256, entriesChecked };
  } finally {
    fs.rmSync(indexFile, { force: true });
  }
}
