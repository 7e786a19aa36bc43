import * as path from 'node:path';
import * as vscode from 'vscode';
import { ArchiveReader } from '../core/backup/archiveReader';
import { newestFirst, VERIFICATION_TEXT, verificationStatus, type CatalogEntry } from '../core/backup/backupCatalog';
import { databaseRecordsOf } from '../core/backup/backupManifest';
import { isProtected, type Profile } from '../core/profileModel';
import { onLocalClock } from '../core/localTime';
import type { FolderModel } from '../folderModel';
import { BackupNode, EARLIER_PROFILE_TEXT, unrestorableText } from '../tree/backupNode';
import { DatabaseNode } from '../tree/databaseNode';
import { FolderNode } from '../tree/folderNode';
import { DeletedProfileNode } from '../tree/deletedProfileNode';
import { TYPE_ICON } from '../tree/profileAppearance';
import { InvalidProfileNode, ProfileNode, ProfileSectionNode } from '../tree/profileNode';
import type { TreeNode } from '../tree/treeNode';
import { UserCancelled, type CommandArguments, type CommandServices } from './commandServices';
import { counted } from '../core/counted';

function isTreeNode(value: unknown): value is TreeNode {
  return value instanceof ProfileNode || value instanceof BackupNode || value instanceof DatabaseNode || value instanceof FolderNode || value instanceof ProfileSectionNode || value instanceof InvalidProfileNode;
}

export function argumentsOf(value: unknown): CommandArguments {
  return value && typeof value === 'object' && !isTreeNode(value) ? (value as CommandArguments) : {};
}

/** The folder a command works on: the tree item's, the one named, the only one, or the user's choice. */
export async function resolveFolder(services: CommandServices, target: unknown, options: { initialisedOnly?: boolean } = {}): Promise<FolderModel> {
  if (isTreeNode(target)) return target.folder;
  const args = argumentsOf(target);
  if (args.folder) {
    const named = services.model.byPath(args.folder);
    if (!named) throw new Error(`${args.folder} is not a folder of this workspace.`);
    return named;
  }
  const candidates = options.initialisedOnly === false ? services.model.all() : services.model.initialised();
  if (candidates.length === 0) {
    throw new Error(options.initialisedOnly === false ? 'Open a folder first: Environment Profiles works on workspace folders.' : 'No folder of this workspace has Environment Profiles yet. Run "Environment Profiles: Initialise" first.');
  }
  if (candidates.length === 1) return candidates[0];
  const pick = await vscode.window.showQuickPick(candidates.map((f) => ({ label: f.name, description: f.folder.uri.fsPath, folder: f })), { placeHolder: 'Which workspace folder?' });
  if (!pick) throw new UserCancelled();
  return pick.folder;
}

/** A quick-pick item for a profile, with its type, description and warnings. */
export function profileItem(folder: FolderModel, profile: Profile): vscode.QuickPickItem & { profile: Profile } {
  const active = folder.data.status?.active === profile.id;
  const warnings: string[] = [];
  if (isProtected(profile)) warnings.push('$(lock) protected: you will be asked to type its id');
  // Its first error, or when it has none its first warning (two profiles sharing a database file): before,
  // the first problem of either kind for a profile that failed, and nothing of its warnings otherwise.
  const report = folder.validation(profile);
  const errors = report.problems.filter((p) => p.severity === 'error');
  const cautions = report.problems.filter((p) => p.severity === 'warning');
  const shown = !report.ok ? { icon: 'error', first: errors[0]?.message ?? 'fails validation', count: errors.length + cautions.length } : cautions.length > 0 ? { icon: 'warning', first: cautions[0].message, count: cautions.length } : undefined;
  if (shown) warnings.push(`$(${shown.icon}) ${shown.first}${shown.count > 1 ? ` (and ${shown.count - 1} more: Validate Profile (Quick) lists them)` : ''}`);
  return {
    label: `$(${TYPE_ICON[profile.type]}) ${profile.name}`,
    description: `${profile.id} · ${profile.type}${active ? ' · active' : ''}`,
    detail: [profile.description, ...warnings].filter(Boolean).join('  ') || undefined,
    profile,
  };
}

/** The profile a command works on: the tree item's (a profile, one of its sections, or one of its databases), the one named, or picked. */
export async function resolveProfile(services: CommandServices, target: unknown, placeHolder: string): Promise<{ folder: FolderModel; profile: Profile }> {
  if (target instanceof ProfileNode || target instanceof ProfileSectionNode) return { folder: target.folder, profile: target.profile };
  if (target instanceof DatabaseNode) {
    const profile = target.folder.profile(target.profileId);
    if (!profile) throw new Error(`No valid profile "${target.profileId}" in ${target.folder.name}.`);
    return { folder: target.folder, profile };
  }
  const folder = await resolveFolder(services, target);
  const args = argumentsOf(target);
  if (args.profileId) {
    const profile = folder.profile(args.profileId);
    if (!profile) throw new Error(`No valid profile "${args.profileId}" in ${folder.name}.`);
    return { folder, profile };
  }
  const profiles = folder.validProfiles();
  if (profiles.length === 0) throw new Error(`${folder.name} has no valid profiles. Create one first.`);
  const pick = await vscode.window.showQuickPick(profiles.map((p) => profileItem(folder, p)), { placeHolder, matchOnDescription: true, matchOnDetail: true });
  if (!pick) throw new UserCancelled();
  return { folder, profile: pick.profile };
}

/**
 * The profile whose backups a command works on (prune): like resolveProfile, and also a deleted profile
 * whose backups were kept (its tree node, its id, or picked with the others).
 */
export async function resolveBackupOwner(services: CommandServices, target: unknown, placeHolder: string): Promise<{ folder: FolderModel; profileId: string; name: string }> {
  if (target instanceof DeletedProfileNode) return { folder: target.folder, profileId: target.profileId, name: `${target.profileId} (deleted)` };
  if (target instanceof ProfileNode || target instanceof ProfileSectionNode) return { folder: target.folder, profileId: target.profile.id, name: target.profile.name };
  const folder = await resolveFolder(services, target);
  const args = argumentsOf(target);
  const deleted = folder.deletedProfilesWithBackups();
  if (args.profileId && deleted.includes(args.profileId)) return { folder, profileId: args.profileId, name: `${args.profileId} (deleted)` };
  if (args.profileId || deleted.length === 0) {
    const { profile } = await resolveProfile(services, target, placeHolder);
    return { folder, profileId: profile.id, name: profile.name };
  }
  const items = [
    ...folder.validProfiles().map((p) => ({ ...profileItem(folder, p), profileId: p.id, name: p.name })),
    ...deleted.map((id) => ({ label: `$(trash) ${id}`, description: `deleted · ${counted(folder.backups(id).length, 'backup')} kept`, profileId: id, name: `${id} (deleted)` })),
  ];
  const pick = await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true });
  if (!pick) throw new UserCancelled();
  return { folder, profileId: pick.profileId, name: pick.name };
}

/** The backup a command works on: one the catalog lists, or an archive file given by its path. */
export interface ChosenBackup {
  /** What the core takes to find it: the backup's id, or the archive's absolute path. */
  reference: string;
  id: string;
  profileId: string;
  databases: string[];
  createdAt: string;
  /** The archive's absolute path (undefined when the workspace's backups folder cannot be worked out). */
  archive: string | undefined;
}

function listedBackup(folder: FolderModel, entry: CatalogEntry): ChosenBackup {
  return { reference: entry.id, id: entry.id, profileId: entry.profileId, databases: entry.databases, createdAt: entry.createdAt, archive: folder.archiveFileOf(entry) };
}

/** The backup in an archive file, from its manifest (opening it checks the archive for hostile content first). */
async function backupInArchive(file: string): Promise<ChosenBackup> {
  const reader = await ArchiveReader.open(file);
  try {
    const { manifest } = reader;
    return { reference: file, id: manifest.backupId, profileId: manifest.profileId, databases: databaseRecordsOf(manifest).map((r) => r.logicalName), createdAt: manifest.createdAt, archive: file };
  } finally {
    reader.close();
  }
}

const ARCHIVE_FILE_ITEM = { label: '$(file-zip) Archive file…', description: 'a backup archive on disk: copied, kept off-site, or from another workspace', archiveFile: true as const };

/** The backup a command works on: the tree item's, the one named (by id or archive path), or picked (newest first, or an archive file). */
export async function resolveBackup(services: CommandServices, target: unknown): Promise<{ folder: FolderModel; backup: ChosenBackup }> {
  if (target instanceof BackupNode) return { folder: target.folder, backup: listedBackup(target.folder, target.entry) };
  const folder = await resolveFolder(services, target);
  const args = argumentsOf(target);
  if (args.archive) return { folder, backup: await backupInArchive(path.resolve(folder.folder.uri.fsPath, args.archive)) };
  // Also the backups of deleted profiles (delete keeps them): restoring one brings the profile back.
  const deleted = new Set(folder.deletedProfilesWithBackups());
  const all = [...folder.validProfiles().map((p) => p.id), ...deleted].flatMap((id) => folder.backups(id));
  if (args.backupId) {
    const entry = all.find((e) => e.id === args.backupId);
    if (!entry) throw new Error(`No backup "${args.backupId}" in ${folder.name}.`);
    return { folder, backup: listedBackup(folder, entry) };
  }
  const scoped = args.profileId ? all.filter((e) => e.profileId === args.profileId) : all;
  const sorted = [...scoped].sort(newestFirst);
  const pick = await vscode.window.showQuickPick(
    [
      ...sorted.map((e) => ({ label: `${e.profileId}${deleted.has(e.profileId) ? ' (deleted)' : ''}: ${onLocalClock(new Date(e.createdAt))}`, description: `${e.kind} · ${e.reason}${folder.isOfEarlierProfile(e) ? ` · ${EARLIER_PROFILE_TEXT}` : ''} · ${VERIFICATION_TEXT[verificationStatus(e)]}${unrestorableSuffix(folder, e)}`, detail: e.id, entry: e })),
      ARCHIVE_FILE_ITEM,
    ],
    { placeHolder: sorted.length > 0 ? 'Which backup?' : 'There are no backups here yet: back up a profile first, or choose an archive file', matchOnDetail: true },
  );
  if (!pick) throw new UserCancelled();
  if ('entry' in pick) return { folder, backup: listedBackup(folder, pick.entry) };
  const [file] = (await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: false, canSelectMany: false, filters: { 'Backup archives': ['zip'] }, defaultUri: folder.folder.uri, openLabel: 'Choose Backup', title: 'Choose a backup archive' })) ?? [];
  if (!file) throw new UserCancelled();
  return { folder, backup: await backupInArchive(file.fsPath) };
}

/** Asks the user to type `id` (the friction grows with the risk); resolves only when it matches. */
export async function askToTypeId(id: string, prompt: string, given?: string): Promise<string> {
  if (given !== undefined) return given;
  const typed = await vscode.window.showInputBox({
    prompt,
    placeHolder: id,
    ignoreFocusOut: true,
    validateInput: (value) => (value === id ? undefined : `Type ${id} exactly to confirm`),
  });
  if (typed === undefined) throw new UserCancelled();
  return typed;
}

/** " · cannot be restored: …" for a picker's line, or nothing. */
function unrestorableSuffix(folder: FolderModel, entry: CatalogEntry): string {
  const why = unrestorableText(folder, entry);
  return why ? ` · ${why}` : '';
}
