import type { CatalogEntry } from './backupCatalog';
import type { FileRecord } from './backupManifest';

// What a backup is asked (which profile, full or incremental, why, with what options) and what it answers.

export type RequestedKind = 'full' | 'incremental' | 'auto';

export interface BackupRequest {
  profileId: string;
  kind?: RequestedKind;
  reason?: string;
  /** See BackupOptions.leaveOutMissing. */
  leaveOutMissing?: boolean;
  /** See BackupOptions.keepDamaged. */
  keepDamaged?: boolean;
}

/** A database a backup could not take, when it was told to save what it can (see BackupOptions). */
export interface LeftOutDatabase {
  logicalName: string;
  originalPath: string;
  /** Why, as the error said it (its code apart), and where the archive keeps its files as found, if it does (raw copies). */
  reason: string;
  code: string;
}

export interface BackupOptions {
  /**
   * A database that cannot be backed up (missing, not a SQLite database, locked, unreadable) is left
   * out, named in the manifest and the result, instead of failing the whole backup: the emergency
   * backup saves what it can. A full disk, a missing backups folder or a cancel still fail it, and so
   * does a profile none of whose databases could be taken.
   */
  saveWhatCan?: boolean;
  /**
   * Only a database that is damaged (DATABASE_INVALID: SQLite calls it malformed, or it is no SQLite
   * database) is left out, and named: a restore's safety backup cannot hold such a file, which the
   * restore keeps beside its target instead. (Before, a damaged database, the very case a restore is
   * for, stopped the restore.) A safety backup of none of the databases then still holds the files.
   */
  leaveOutDamaged?: boolean;
  /**
   * Only a database whose file does not exist is left out (and named): nothing of it can be lost, so
   * such a backup still covers the profile for delete (while the file stays missing).
   */
  leaveOutMissing?: boolean;
  /**
   * Only a database that is damaged (DATABASE_INVALID) is left out of the images, and its file (with a
   * non-empty -wal or -journal) is kept byte for byte as found, as saveWhatCan keeps it: a backup of a
   * profile whose database is damaged, before deleting it, say. Such a backup covers the profile for delete.
   */
  keepDamaged?: boolean;
  /**
   * What the profile file holds, for when the file itself is gone: a restore's safety backup is taken
   * before the restore puts it back, and must still be restorable as a profile.
   */
  profileFileContent?: Buffer;
}

export interface BackupResult {
  entry: CatalogEntry;
  archive: string;
  /** `wholeBecause`: why an incremental stored this database whole (its parent has no pages of it to compare with). */
  databases: { name: string; storage: 'image' | 'pages'; pagesStored: number; pageCount: number; wholeBecause?: string }[];
  /** The profile's other files in it (its YAML, its files:, the env file); `stored` false: unchanged since the parent, which holds it. */
  files: { path: string; role: FileRecord['role']; stored: boolean }[];
  durationMs: number;
  /**
   * What a user should know about this backup, one sentence each: why an incremental request became a
   * full backup, which databases or files were left out, what was found on the way. Empty when nothing.
   */
  notes: string[];
  /** Databases left out (only with `saveWhatCan`). */
  leftOut?: LeftOutDatabase[];
  /** Why the backup is not in the catalog (which cannot be read): its archive is kept, and a catalog rebuild lists it. */
  unlisted?: string;
  /** With `unlisted`: what lists it later (a rebuild; for a newer version's catalog, that version). */
  listedBy?: string;
}
