import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Profile } from '../profileModel';
import { walSize } from '../sqlite/sqliteHeader';
import type { WorkspaceContext } from '../workspaceContext';
import { BackupLayout } from './backupLayout';

// Where snapshots are staged (/dev/shm when they fit in memory, else beside the archives), and whether
// the pages are hashed on a second thread.

/** The size of the profile's databases, with their -wal files (about what the snapshots take) or without. */
export function databaseBytes(context: WorkspaceContext, profile: Profile, withWal: boolean): number {
  return Object.values(profile.databases).reduce((sum, written) => {
    const file = context.layout.resolve(written);
    return sum + (fs.existsSync(file) ? fs.statSync(file).size : 0) + (withWal ? walSize(file) : 0);
  }, 0);
}

/**
 * An incremental hashes its pages on this thread alone, and the changed pages are deflated on the
 * thread pool as they are found, unless the databases are large: there hashing is most of the work,
 * and a second hashing thread pays for its start (30–50 ms of CPU). Measured through the CLI: at 20 MB,
 * 181 ms alone against 193 ms with the thread (medians of 15); at 100 MB, hashing and storing the
 * changed pages took 190–215 ms alone against 157–181 ms with it.
 * ENVPROFILES_HASHING_THREAD_FROM_MB moves the bound (tests use it to take each way).
 */
export function usesHashingThread(sourceBytes: number): boolean {
  const fromMb = Number(process.env.ENVPROFILES_HASHING_THREAD_FROM_MB ?? 64);
  return sourceBytes >= (Number.isFinite(fromMb) ? fromMb : 64) * 1048576;
}

/**
 * Snapshots are temporary and read right back: when the databases fit comfortably in RAM they go to
 * /dev/shm (tmpfs), which spares the disk a write of their whole size; otherwise beside the archives,
 * unless those are on a file system SQLite cannot count on (FUSE, network): then in the temporary folder.
 * ENVPROFILES_STAGING_DIR overrides the choice.
 */
export function chooseStagingDir(backups: BackupLayout, profile: Profile, total: number): string {
  const inBackups = backups.stagingDir(profile.id, 'backup');
  const name = path.basename(inBackups);
  const override = process.env.ENVPROFILES_STAGING_DIR;
  if (override) return path.join(override, `${profile.id}${name}`);
  try {
    const shm = fs.statfsSync('/dev/shm');
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    const free = shm.bavail * shm.bsize;
    if (free > 2 * total + 64 * 1048576 && os.freemem() > 4 * total + 256 * 1048576) return path.join('/dev/shm', `${profile.id}${name}`);
  } catch {
    // No usable tmpfs here.
  }
  return diskStagingDir(backups, profile.id);
}

/** Where snapshots go when not in memory: beside the archives, unless that folder cannot take them (BackupLayout.scratchDir). */
export function diskStagingDir(backups: BackupLayout, profileId: string): string {
  return backups.scratchDir(profileId, 'backup');
}
