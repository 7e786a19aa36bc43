import { databaseAtOutputLinkError } from '../outputCollisions';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { requireFreeSpace } from '../diskSpace';
import { EnvProfilesError } from '../errors';
import { nonFileInWords, pathKind } from '../pathKind';
import { requireWritableFolders } from '../folderAccess';
import { checkProfilePath, realLocation } from '../pathSafety';
import type { Profile } from '../profileModel';
import { salvagedProfile } from '../profileSalvage';
import type { WorkspaceConfig } from '../workspaceConfig';
import type { WorkspaceContext } from '../workspaceContext';
import type { ArchiveReader } from './archiveReader';
import { databaseRecordsOf, type BackupManifest, type DatabaseRecord, type FileRecord } from './backupManifest';
import { fileContent, profileRecord } from './backedUpFiles';
import { databasesOfOtherProfiles } from '../pathOwners';
import { rebuiltSize } from './databaseReconstruction';
import { databasesNow, type BackupDatabaseNow } from './renamedDatabases';
import { type Outcome, told } from './restoreRequest';

// Where each file of a backup is restored: the current profile's paths (or the backup's), every one
// judged safe, writable and with room before anything is written.

/**
 * What a restore over its profile replaces: the databases and `files:` the current profile lists (one
 * it no longer lists has no place: writing it to its old path could replace a file that is now someone
 * else's, and the safety backup would not hold it; `leftAlone` says so; one it renamed at the same path,
 * `renamedTo`, is still listed, under its new name), each at the current profile's path, or with the
 * profile file gone at the backup's, unless that path is now another profile's database (TARGET_EXISTS).
 */
export function planReplacements(context: WorkspaceContext, config: WorkspaceConfig, chain: ArchiveReader[], database: string | undefined, current: { file: string; profile?: Profile }, renamedTo: ReadonlyMap<string, string>, fileTargetOf: Map<string, string | EnvProfilesError>, outcome: Outcome) {
  const { layout } = context;
  const manifest = chain[chain.length - 1].manifest;
  const records = databaseRecordsOf(manifest);
  // A database renamed in the profile since the backup (renamedDatabases) goes by its name there now.
  const now = new Map(databasesNow(records, current.profile, renamedTo).map((d) => [d.record.logicalName, d]));
  const nameNow = (record: DatabaseRecord): string => (now.get(record.logicalName) as BackupDatabaseNow).nameNow;
  const noLongerListed = records.filter((r) => !now.get(r.logicalName)?.listed);
  if (database && noLongerListed.some((r) => r.logicalName === database)) {
    throw new EnvProfilesError('USAGE', `"${database}" is in backup ${manifest.backupId} but no longer in the profile ${manifest.profileId}, so it has nowhere to be restored to; nothing was changed.`, { kind: 'usage', hint: `Restore the backup as a new profile (--as-new <id>), or add ${database} to ${layout.relative(current.file)} again.` });
  }
  const selected = records.filter((r) => (!database || r.logicalName === database || nameNow(r) === database) && !noLongerListed.includes(r));
  const targets = selected.map((record) => {
    const name = nameNow(record);
    return { record, nameNow: name, target: databaseTarget(context, config, chain, record, name, current.profile) };
  });
  const backedUpFiles = database ? [] : manifest.files.filter((f): f is FileRecord => f.role === 'file');
  const fileRecords = backedUpFiles.filter((f) => !current.profile || current.profile.files.includes(f.originalPath));
  const fileTargets = fileRecords.map((f) => {
    const judged = fileTargetOf.get(f.originalPath) as string | EnvProfilesError;
    if (judged instanceof EnvProfilesError) throw judged;
    return judged;
  });
  const replaced = targets.map(({ nameNow, target }) => ({ logicalName: nameNow, file: target, written: layout.relative(target) }));
  // A folder (or a pipe, a device) where a file goes is never moved aside or replaced: before, a restore
  // moved a folder at a database's path aside, then failed to remove it, and every command after failed.
  const namedTargets = [...replaced.map((r): [string, string] => [r.logicalName, r.file]), ...fileRecords.map((f, i): [string, string] => [f.originalPath, fileTargets[i]])];
  for (const [name, target] of namedTargets) {
    const kind = pathKind(target);
    if (kind === 'folder' || kind === 'not-a-file') {
      throw new EnvProfilesError('TARGET_EXISTS', `${layout.relative(target)}, where ${name} of backup ${manifest.backupId} would be restored, is ${nonFileInWords(kind)}, not a file; nothing was changed.`, {
        kind: 'refused',
        file: layout.relative(target),
        hint: `Move it away (or give ${name} another path in the profile), then restore again.`,
      });
    }
  }
  // One file under two names (a folder reached through a symbolic link; profiles refuse it now, but a
  // backup made before, restored by its own paths, has them): it would be replaced twice, and the second
  // replacement could not be rolled back.
  const targetOwners = new Map<string, string>();
  for (const [name, target] of namedTargets) {
    const real = realLocation(target);
    const other = targetOwners.get(real);
    if (other) {
      throw new EnvProfilesError('TARGET_EXISTS', `${other} and ${name} of backup ${manifest.backupId} would both be restored to ${layout.relative(real)} (one file, reached through a symbolic link); nothing was changed.`, {
        kind: 'refused',
        file: layout.relative(real),
        hint: `Restore the backup as a new profile instead (envprofiles restore ${manifest.backupId} --as-new <id>): each database then gets a file of its own.`,
      });
    }
    targetOwners.set(real, name);
  }
  // With its profile file gone (deleted, or renamed to another id), the backup's paths may now be
  // another profile's databases: restoring would replace that profile's data under this one's name.
  if (!current.profile) {
    const owners = databasesOfOtherProfiles(context, manifest.profileId);
    const taken = replaced.find((r) => owners.has(r.file));
    if (taken) {
      throw new EnvProfilesError('TARGET_EXISTS', `${taken.written} is now a database of the profile ${owners.get(taken.file)}, and ${manifest.profileId} (whose backup this is) no longer has a profile file: restoring it would replace that profile's data; nothing was changed.`, {
        kind: 'refused',
        file: taken.written,
        hint: `Restore the backup as a new profile instead (envprofiles restore ${manifest.backupId} --as-new <id>).`,
      });
    }
  }
  // A file of `files:` that is a database (another profile's, or one this restore replaces) would be put
  // back over it as a plain copy: no consistent snapshot, and without that profile's safety backup.
  const databaseOwners = databasesOfOtherProfiles(context, manifest.profileId);
  for (const r of replaced) databaseOwners.set(realLocation(r.file), manifest.profileId);
  const clash = fileRecords.findIndex((_, i) => databaseOwners.has(realLocation(fileTargets[i])));
  if (clash >= 0) {
    const owner = databaseOwners.get(realLocation(fileTargets[clash]));
    throw new EnvProfilesError('TARGET_EXISTS', `${fileRecords[clash].originalPath}, in the files: of ${manifest.profileId}, is a database of the profile ${owner}: restoring it as a plain file would replace that database with a copy that is not a consistent snapshot of it; nothing was changed.`, {
      kind: 'refused',
      file: current.file,
      hint: `Remove it from files: in ${layout.relative(current.file)} (a restore puts back only the files the profile lists now), then restore again.`,
    });
  }
  // A database the profile has moved since the backup goes to its new path; the old file is not touched.
  // Compared as resolved, as renamedDatabases compares them: a path that differs only in its spelling
  // (a trailing slash, in a manifest that lies) is the same file, not a move.
  const moved = current.profile ? selected.filter((r) => layout.resolve((current.profile as Profile).databases[nameNow(r)]) !== layout.resolve(r.originalPath)) : [];
  const leftAlone = [
    ...selected.filter((r) => renamedTo.has(r.logicalName)).map((r) => `${r.logicalName} of this backup is ${nameNow(r)} in the profile now (the same file, ${r.originalPath}), so it ${told(outcome, 'was restored as', 'would be restored as')} ${nameNow(r)}`),
    ...moved.map((r) => `${r.logicalName} was at ${r.originalPath} when it was backed up; the profile now has it at ${(current.profile as Profile).databases[nameNow(r)]}, so it ${told(outcome, 'was restored there', 'would be restored there')} (${r.originalPath} ${told(outcome, 'was', 'would be')} left as it is)`),
    ...backedUpFiles.filter((f) => !fileRecords.includes(f)).map((f) => `${f.originalPath} is in this backup but no longer in the profile's files:, so it ${told(outcome, 'was not restored (it was left as it is)', 'would not be restored (it would be left as it is)')}`),
    // Restoring one database (--db) says nothing of the others, as outcomeNotes does.
    ...(database ? [] : noLongerListed).map((r) => `${r.logicalName} is in this backup but no longer in the profile, so it ${told(outcome, 'was not restored', 'would not be restored')} (its old path ${r.originalPath} ${told(outcome, 'was', 'would be')} left as it is); to get it back, restore the backup as a new profile (--as-new <id>)`),
  ];
  return { targets, fileRecords, fileTargets, replaced, leftAlone };
}

/**
 * Every rebuilt database and restored file is written beside its target while the old one is still
 * there (the swaps come last), so each folder must be writable and each disk needs room for all that
 * goes to it: refused up front.
 */
export function requireRoomFor(operation: string, chain: ArchiveReader[], databases: { logicalName: string; target: string }[], files: { size: number; target: string }[]): void {
  requireWritableFolders(operation, [...databases, ...files].map(({ target }) => path.dirname(target)));
  requireFreeSpace(operation, [
    ...databases.map(({ logicalName, target }) => ({ folder: path.dirname(target), bytes: rebuiltSize(chain, logicalName), what: logicalName })),
    ...files.map(({ size, target }) => ({ folder: path.dirname(target), bytes: size, what: path.basename(target) })),
  ]);
}

/** The profile as far as the manifest alone tells: its id, and where each database was; no settings. */
export function manifestOnlyProfile(manifest: BackupManifest): Profile {
  const databases = Object.fromEntries(databaseRecordsOf(manifest).map((r) => [r.logicalName, r.originalPath]));
  return { id: manifest.profileId, name: manifest.profileId, type: 'BACKUP', ...(manifest.profileCreatedAt ? { createdAt: manifest.profileCreatedAt } : {}), protected: false, databases, configurations: {}, files: [], requiredTables: {} };
}

/**
 * The profile of a backup whose copy of the profile file does not validate: what that copy still says
 * (name, type, protection, created_at), with the databases where the manifest says they were.
 */
export async function profileFromManifest(context: WorkspaceContext, config: WorkspaceConfig, chain: ArchiveReader[]): Promise<Profile> {
  const manifest = chain[chain.length - 1].manifest;
  const text = (await fileContent(chain, profileRecord(chain))).toString('utf8');
  const salvaged = salvagedProfile(manifest.profileId, parseDocument(text), context.layout, config);
  const known = manifestOnlyProfile(manifest);
  // A copy that does not even parse says nothing of its protection: it is taken as protected.
  return salvaged ? { ...known, ...salvaged, databases: known.databases } : { ...known, protected: true };
}

/** Where a database goes: the current profile's path for it (under its name there now), else the path recorded in the backup. */
function databaseTarget(context: WorkspaceContext, config: WorkspaceConfig, chain: ArchiveReader[], record: DatabaseRecord, nameNow: string, current: Profile | undefined): string {
  const written = current?.databases[nameNow] ?? record.originalPath;
  // Through a link a switch writes, the restore would replace the active profile's database.
  const atOutput = databaseAtOutputLinkError(context.layout, config, current?.id ?? chain[chain.length - 1].manifest.profileId, nameNow, written, 'restored', 'restore again');
  if (atOutput) throw atOutput;
  return restoreTarget(context, config, chain, written, `the database "${record.logicalName}"`);
}

/**
 * Where a restored file is written: `written` (relative to the workspace), which must stay inside the
 * workspace or an allowed directory, also through symbolic links. A path that is a link to the file
 * (or goes through a linked folder) leads to the file itself: that is what is replaced, and the link
 * stays a link.
 */
function restoreTarget(context: WorkspaceContext, config: WorkspaceConfig, chain: ArchiveReader[], written: string, what: string, storeAllowed = false): string {
  const judged = judgeRestoreTarget(context, config, chain, written, what, storeAllowed);
  if (judged instanceof EnvProfilesError) throw judged;
  return judged;
}

/**
 * As restoreTarget, but a path that is sound in the backup and leads elsewhere only through a symbolic
 * link in the workspace now is returned as its refusal, to be thrown when that file is to be written:
 * the link, not the archive, is at fault (before, the archive was called hostile, "do not use it").
 * A path the manifest itself points outside with is hostile, and thrown at once.
 */
export function judgeRestoreTarget(context: WorkspaceContext, config: WorkspaceConfig, chain: ArchiveReader[], written: string, what: string, storeAllowed = false): string | EnvProfilesError {
  const verdict = checkProfilePath(context.layout.root, written, config.allowedDirectories, { storeAllowed, fromBackup: true });
  if (verdict.ok) return realLocation(verdict.absolute);
  const archive = chain[chain.length - 1].file;
  if (verdict.throughLink) {
    return new EnvProfilesError('TARGET_EXISTS', `${written}, where ${what} of backup ${chain[chain.length - 1].manifest.backupId} would be restored, ${verdict.reason.replace(/^"[^"]*" /, '')}; nothing was changed.`, {
      kind: 'refused',
      file: written,
      hint: `The backup is not at fault: a symbolic link in the workspace leads elsewhere. Remove or correct that link, then restore again${what === 'a file' ? '' : ' (or restore the backup as a new profile: --as-new <id>)'}.`,
    });
  }
  return new EnvProfilesError('ARCHIVE_HOSTILE', `${archive}: the backup would write ${what} at ${written}: ${verdict.reason}. The archive was refused and nothing was written.`, { kind: 'refused', file: archive, hint: what === 'a file' ? 'Do not use this archive: its files belong outside this workspace.' : 'Restore with --as-new <id> to put its databases inside the workspace.' });
}
