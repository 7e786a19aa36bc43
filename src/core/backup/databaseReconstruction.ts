import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { EnvProfilesError } from '../errors';
import type { ArchiveReader } from './archiveReader';
import type { DatabaseRecord } from './backupManifest';
import { changedPages, PAGE_HASH_BYTES } from './pageIndex';
import { SnapshotHasher } from './snapshotHasher';

function corrupt(archive: string, entry: string, why: string): EnvProfilesError {
  return new EnvProfilesError('VERIFY_FAILED', `${archive}: entry "${entry}" ${why}.`, { file: archive, field: entry, hint: 'This backup cannot be restored; use another one.' });
}

export interface RebuiltDatabase {
  record: DatabaseRecord;
  /** SHA-256 of the rebuilt file. */
  sha256: string;
}

/**
 * Rebuilds one database from a chain of archives (full first, the wanted backup last) into `target`:
 * the newest whole image, then every later set of changed pages, then the final size. Every entry's
 * SHA-256 is checked as it streams; the result is checked against the wanted backup's whole-file
 * SHA-256, or (an incremental, which has none) page by page against its page index.
 */
export async function rebuildDatabase(chain: ArchiveReader[], logicalName: string, target: string): Promise<RebuiltDatabase> {
  const records = chain.map((archive) => archive.manifest.files.find((f): f is DatabaseRecord => f.role === 'database' && f.logicalName === logicalName));
  const wanted = records[records.length - 1];
  const last = chain[chain.length - 1];
  if (!wanted) throw new EnvProfilesError('BACKUP_NOT_FOUND', `${last.file} has no database "${logicalName}".`, { file: last.file, hint: 'Check the name with "envprofiles backups".' });
  let start = records.length - 1;
  while (start >= 0 && records[start]?.storage !== 'image') start--;
  if (start < 0) throw corrupt(last.file, wanted.entry, 'has no whole image anywhere in its chain');
  const fd = fs.openSync(target, 'w');
  try {
    for (let i = start; i < chain.length; i++) {
      const record = records[i];
      if (!record) throw corrupt(chain[i].file, logicalName, 'is missing from an archive in the middle of the chain');
      if (record.sqlite.pageSize !== wanted.sqlite.pageSize) throw corrupt(chain[i].file, record.entry, 'has a different page size than the rest of its chain');
      const stream = await chain[i].content(record.entry, record.segments);
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
          if (filled === 0 && data.length >= batch.length) {
            fs.writeSync(fd, data, 0, data.length, bytes);
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
              bytes += filled;
              filled = 0;
            }
          }
        }
        if (filled > 0) fs.writeSync(fd, batch, 0, filled, bytes);
        bytes += filled;
      } else {
        const recordSize = 4 + record.sqlite.pageSize;
        let pending: Buffer = Buffer.alloc(0);
        for await (const chunk of stream) {
          const data = chunk as Buffer;
          hash.update(data);
          bytes += data.length;
          pending = pending.length ? Buffer.concat([pending, data]) : data;
          const whole = Math.floor(pending.length / recordSize) * recordSize;
          for (let offset = 0; offset < whole; offset += recordSize) {
            const page = pending.readUInt32BE(offset);
            if (page >= record.sqlite.pageCount) throw corrupt(chain[i].file, record.entry, `names page ${page}, beyond the database's ${record.sqlite.pageCount} pages`);
            fs.writeSync(fd, pending, offset + 4, record.sqlite.pageSize, page * record.sqlite.pageSize);
          }
          pending = Buffer.from(pending.subarray(whole));
        }
        if (pending.length !== 0) throw corrupt(chain[i].file, record.entry, 'ends in the middle of a page');
      }
      if (bytes !== record.entrySize) throw corrupt(chain[i].file, record.entry, `is ${bytes} bytes, the manifest says ${record.entrySize}`);
      if (hash.digest('hex') !== record.entrySha256) throw corrupt(chain[i].file, record.entry, 'does not match its SHA-256 in the manifest (the archive is corrupt)');
    }
    fs.ftruncateSync(fd, wanted.size);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  // A lone image was already checked against the manifest as it streamed; a patched chain is re-read.
  if (start === chain.length - 1 && wanted.sha256 !== undefined && wanted.entrySha256 === wanted.sha256 && wanted.entrySize === wanted.size) return { record: wanted, sha256: wanted.sha256 };
  const hasher = new SnapshotHasher();
  try {
    const rebuilt = await hasher.hash(target, wanted.sqlite.pageSize, wanted.sqlite.pageCount, () => {});
    const sha256 = rebuilt.sha256 as string;
    if (wanted.sha256 !== undefined) {
      if (sha256 !== wanted.sha256) throw corrupt(last.file, wanted.entry, 'rebuilds to a file whose SHA-256 differs from the manifest (the chain is inconsistent)');
      return { record: wanted, sha256 };
    }
    const expected = await last.readVerified(wanted.pageIndexEntry, wanted.pageIndexSha256);
    const differing = changedPages(rebuilt.index, expected);
    if (differing.length > 0 || expected.length !== rebuilt.index.length) {
      throw corrupt(last.file, wanted.entry, `rebuilds to a file whose page ${(differing[0] ?? rebuilt.index.length / PAGE_HASH_BYTES) + 1} differs from the backup's page index (${differing.length} page(s) differ; the chain is inconsistent)`);
    }
    return { record: wanted, sha256 };
  } finally {
    hasher.close();
  }
}
