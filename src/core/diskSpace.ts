import * as fs from 'node:fs';
import { systemErrorCode } from './systemErrorCode';
import * as path from 'node:path';
import { TEMP_MARKER } from './atomicFile';
import { EnvProfilesError } from './errors';

/**
 * Free space, checked where an operation knows exactly how much it will write (a snapshot, a rebuilt
 * database beside its target), and named when a disk fills up anyway. A full disk is the user's to fix,
 * never "a bug", and never a verdict on a backup.
 */

/** A place an operation writes to, and how many bytes it writes there. */
export interface SpaceNeed {
  folder: string;
  bytes: number;
  /** What goes there, for the message ("the snapshot of market_data"). */
  what: string;
}

interface DiskOf {
  device: number;
  free: number;
}

/**
 * The disk holding `folder` (or its nearest existing ancestor, for a folder not made yet). Unknown when
 * the file system does not say: its parent may be another disk, whose free space would mislead.
 */
function diskOf(folder: string): DiskOf | undefined {
  for (let at = path.resolve(folder); ; at = path.dirname(at)) {
    try {
      const stats = fs.statfsSync(at);
      // A file system that says it has no blocks at all says nothing of its space (df shows "-" for
      // it: some FUSE file systems, fusefat among them); "0 KB free" would refuse every write there.
      if (stats.blocks === 0) return undefined;
      return { device: fs.statSync(at).dev, free: stats.bavail * stats.bsize };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(at) === at) return undefined;
    }
  }
}

/** A folder as the user knows it: a temporary folder of ours is gone by the time they read the message. */
function shownFolder(folder: string): string {
  let shown = path.resolve(folder);
  while (path.basename(shown).includes(TEMP_MARKER)) shown = path.dirname(shown);
  return shown;
}

/** A size as people read it: KB below 1 MB, MB with one decimal, GB with two (the CLI, the tree, the messages). */
export function formatSize(bytes: number): string {
  if (bytes >= 1073741824) return `${(bytes / 1073741824).toFixed(2)} GB`;
  if (bytes >= 1048576) return `${(bytes / 1048576).toFixed(1)} MB`;
  return `${Math.ceil(bytes / 1024)} KB`;
}

/**
 * Refuses (DISK_FULL, before anything is written) when a disk has less room than the needs on it add
 * up to, plus a margin that keeps the disk from being filled to the last block.
 */
export function requireFreeSpace(operation: string, needs: SpaceNeed[]): void {
  const byDisk = new Map<number, { disk: DiskOf; needs: SpaceNeed[] }>();
  for (const need of needs) {
    const disk = diskOf(need.folder);
    if (!disk) continue;
    const group = byDisk.get(disk.device) ?? { disk, needs: [] };
    group.needs.push(need);
    byDisk.set(disk.device, group);
  }
  for (const { disk, needs: onDisk } of byDisk.values()) {
    const total = onDisk.reduce((sum, n) => sum + n.bytes, 0);
    if (disk.free >= total + SPARE_BYTES) continue;
    const folders = [...new Set(onDisk.map((n) => shownFolder(n.folder)))];
    throw new EnvProfilesError(
      'DISK_FULL',
      `${operation} needs ${formatSize(total)} on the disk of ${folders.join(', ')} (${onDisk.map((n) => n.what).join(', ')}), but it has ${formatSize(disk.free)} free. Nothing was changed.`,
      { file: folders[0], hint: 'Free some space on that disk, then run it again.' },
    );
  }
}

/** Room left over by requireFreeSpace: SQLite and the file system need a little more than the data. */
const SPARE_BYTES = 1048576;

/** ENOSPC or EDQUOT from Node, SQLITE_FULL from SQLite. */
export function isOutOfSpace(error: unknown): boolean {
  const { errcode } = (error ?? {}) as { errcode?: unknown };
  const code = systemErrorCode(error);
  return code === 'ENOSPC' || code === 'EDQUOT' || (typeof errcode === 'number' && (errcode & 0xff) === 13);
}

/**
 * The typed error for a disk that filled up during `operation`. Of the folders it was writing to, the
 * one with the least free space is named (the others' disks had room).
 */
export function outOfSpaceError(operation: string, folders: string[], cause: unknown, cleanedUp: string, hint = 'Free some space on that disk, then run it again.'): EnvProfilesError {
  const measured = [...new Set(folders.map(shownFolder))].map((folder) => ({ folder, free: diskOf(folder)?.free ?? Infinity }));
  const fullest = measured.reduce((a, b) => (b.free < a.free ? b : a));
  const room = Number.isFinite(fullest.free) ? ` (${formatSize(fullest.free)} free)` : '';
  return new EnvProfilesError('DISK_FULL', `${operation} stopped: the disk of ${fullest.folder} is full${room}. ${cleanedUp}`, { file: fullest.folder, cause, hint });
}
