import { fileSha256 } from '../fileDigest';
import { verificationStatus, type CatalogEntry } from './backupCatalog';
import type { BackupLayout } from './backupLayout';

/** What stops a backup from being restored as its catalog stands, and which backup of its chain. */
export interface ChainFault {
  id: string;
  /** `lost`: the catalog no longer lists it (rebuilt without its archive); `failed`: its verification found its archive damaged. */
  kind: 'lost' | 'failed';
}

/**
 * The first backup of `entry`'s chain that the catalog no longer lists, or else the first whose archive
 * failed verification (a data problem alone does not count: that archive holds its data exactly), or
 * undefined when neither. A verified backup with such a chain cannot be restored, so it is not "the last
 * verified backup" of status, nor the one prune keeps as the newest verified.
 */
export function chainFault(entry: CatalogEntry, byId: ReadonlyMap<string, CatalogEntry>): ChainFault | undefined {
  const lost = entry.chain.find((id) => !byId.has(id));
  if (lost !== undefined) return { id: lost, kind: 'lost' };
  const failed = entry.chain.find((id) => verificationStatus(byId.get(id) as CatalogEntry) === 'failed');
  return failed === undefined ? undefined : { id: failed, kind: 'failed' };
}

/** A chain fault after "<backup>'s chain": "lost <id>", or "holds <id>, which FAILED verification". */
export function chainFaultWords(fault: ChainFault): string {
  return fault.kind === 'lost' ? `lost ${fault.id}` : `holds ${fault.id}, which FAILED verification`;
}

/** What the chains of the verified backups in `faulty` have against them, for "the chains of those verified …". */
export function chainFaultsInWords(faults: readonly ChainFault[]): string {
  const lost = faults.some((f) => f.kind === 'lost');
  const failed = faults.some((f) => f.kind === 'failed');
  return lost && failed ? 'lost an archive or hold one that FAILED verification' : lost ? 'lost an archive' : 'hold an archive that FAILED verification';
}

/**
 * Why the archives of a verified backup and of its chain are no longer the ones that were verified
 * (their SHA-256 as the catalog recorded it), or undefined when they still are. Prune keeps the newest
 * verified backup and lets the others go on the strength of that record, and delete removes the profile
 * on it: an archive gone or damaged on the disk since would leave nothing that restores.
 */
export async function changedSinceVerified(backups: BackupLayout, profileId: string, entry: CatalogEntry, listed: ReadonlyMap<string, CatalogEntry>): Promise<string | undefined> {
  for (const id of [entry.id, ...entry.chain]) {
    const member = listed.get(id);
    const whose = id === entry.id ? 'its archive' : `the archive of ${id}, which it builds on,`;
    if (!member) return `its chain needs ${id}, which the catalog no longer lists`;
    const state = await archiveAgainstCatalog(backups.archiveFile(profileId, id), member.sha256);
    if (state.kind === 'unreadable') return `${whose} ${state.code === 'ENOENT' ? 'is missing' : `cannot be read (${state.code})`}`;
    if (state.kind === 'changed') return `${whose} changed since it was verified`;
  }
  return undefined;
}

/** How an archive on the disk stands against the SHA-256 the catalog recorded when it was written. */
export type ArchiveState = { kind: 'same' } | { kind: 'changed' } | { kind: 'unreadable'; code: string };

/** Hashes `file` and compares it with `recordedSha256`; a file that cannot be read says why (its error code). */
export async function archiveAgainstCatalog(file: string, recordedSha256: string): Promise<ArchiveState> {
  try {
    return (await fileSha256(file)) === recordedSha256 ? { kind: 'same' } : { kind: 'changed' };
  } catch (error) {
    return { kind: 'unreadable', code: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
}
