import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nearestExisting, writeRefusal } from './folderProbe';

/**
 * File systems whose files SQLite and the rebuild of a database cannot count on: FUSE (FAT or exFAT
 * through FUSE, sshfs, rclone: some lack locks, writes past the end, ftruncate, or report no space) and
 * network ones (NFS, SMB, 9P: SQLite's locks are unreliable there). Magic numbers of statfs's f_type.
 */
const NOT_FOR_STAGING = new Map<number, string>([
  [0x65735546, 'FUSE'],
  [0x6969, 'NFS'],
  [0x517b, 'SMB'],
  [0xff534d42, 'CIFS'],
  [0xfe534d42, 'SMB2'],
  [0x01021997, '9P'],
]);

/**
 * The kind of file system `folder` (or its nearest existing folder) is on, when it is one not to put
 * temporary databases on (snapshots, rebuilt copies): they then go to the system's temporary folder.
 * Before, a backup verified on a FAT disk through FUSE was recorded as FAILED ("disk I/O error").
 */
export function unsuitableForStaging(folder: string): string | undefined {
  try {
    return NOT_FOR_STAGING.get(fs.statfsSync(nearestExisting(folder)).type);
  } catch {
    return undefined;
  }
}

/**
 * A scratch folder named `name` in `preferred` (the disk of the backups, which has room for them), or in
 * the system's temporary folder when `preferred` cannot be written (backups on a read-only disk, which
 * could then not be verified or restored at all) or is on a file system SQLite cannot count on.
 */
export function stagingFolderIn(preferred: string, name: string): { folder: string; inPreferred: boolean } {
  const inPreferred = writeRefusal(preferred) === undefined && !unsuitableForStaging(preferred);
  return { folder: path.join(inPreferred ? preferred : os.tmpdir(), name), inPreferred };
}
