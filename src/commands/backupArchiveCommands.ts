import * as vscode from 'vscode';
import { manifestUri } from '../backupManifestDocument';
import { locateBackup } from '../core/backup/backupChain';
import { BackupLayout } from '../core/backup/backupLayout';
import { workspaceConfigFor } from '../core/workspaceConfig';
import type { CommandServices } from './commandServices';
import { resolveBackup } from './commandTargets';

/**
 * The archive file of the backup a command works on (the tree item's, the one named, or picked).
 * An archive the catalog lists but that is gone is an error that says so and how to fix the catalog.
 */
async function archiveOf(services: CommandServices, target: unknown): Promise<{ id: string; file: string }> {
  const { folder, backup } = await resolveBackup(services, target);
  const backups = new BackupLayout(folder.context.layout, workspaceConfigFor(folder.context));
  return { id: backup.id, file: locateBackup(backups, backup.reference, folder.folder.uri.fsPath).archive };
}

/** Copies the absolute path of a backup's archive (to check it with unzip, copy it off-site, attach it). */
export async function copyArchivePathCommand(services: CommandServices, target: unknown): Promise<string> {
  const { id, file } = await archiveOf(services, target);
  await vscode.env.clipboard.writeText(file);
  void vscode.window.showInformationMessage(`Copied the path of backup ${id}'s archive: ${file}`);
  return file;
}

/** Where Reveal Backup Archive showed the archive: the Explorer, the system's file manager, or a message. */
export type RevealedIn = 'explorer' | 'file-manager' | 'message';

/**
 * Shows a backup's archive: in the Explorer when it lies in a workspace folder (the default backups
 * folder does); otherwise in the system's file manager on a desktop VS Code. Elsewhere (a browser or
 * remote window cannot open the server's file manager) a message names the path, with a copy button.
 */
export async function revealArchiveCommand(services: CommandServices, target: unknown): Promise<RevealedIn> {
  const { id, file } = await archiveOf(services, target);
  const uri = vscode.Uri.file(file);
  if (vscode.workspace.getWorkspaceFolder(uri)) {
    await vscode.commands.executeCommand('revealInExplorer', uri);
    return 'explorer';
  }
  const desktop = vscode.env.uiKind === vscode.UIKind.Desktop && vscode.env.remoteName === undefined;
  if (desktop && (await vscode.commands.getCommands(true)).includes('revealFileInOS')) {
    await vscode.commands.executeCommand('revealFileInOS', uri);
    return 'file-manager';
  }
  void vscode.window.showInformationMessage(`Backup ${id}'s archive is outside the workspace, at ${file}.`, 'Copy Path').then(async (choice) => {
    if (choice === 'Copy Path') await vscode.env.clipboard.writeText(file);
  });
  return 'message';
}

/**
 * Opens the manifest of a backup's archive as a read-only JSON document: what it holds, file by file,
 * with sizes and SHA-256 (databases: page size and count, user_version, journal mode).
 */
export async function showBackupManifestCommand(services: CommandServices, target: unknown): Promise<vscode.TextDocument> {
  const { id, file } = await archiveOf(services, target);
  const document = await vscode.workspace.openTextDocument(manifestUri(file, id));
  await vscode.window.showTextDocument(document, { preview: true });
  return document;
}
