import * as vscode from 'vscode';
import type { FolderModel } from '../folderModel';
import { BackupNode } from './backupNode';
import { CONTEXT } from './contextValues';
import type { TreeNode } from './treeNode';

/**
 * A profile that was deleted, listed for the backups that delete keeps: they can be verified, and a
 * restore brings the profile back.
 */
export class DeletedProfileNode implements TreeNode {
  readonly id: string;

  constructor(readonly folder: FolderModel, readonly profileId: string) {
    this.id = `${folder.folder.uri.toString()}/deleted/${profileId}`;
  }

  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.profileId, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    item.contextValue = CONTEXT.deletedProfile;
    item.iconPath = new vscode.ThemeIcon('trash');
    const count = this.folder.backups(this.profileId).length;
    item.description = `deleted · ${count} backup${count === 1 ? '' : 's'} kept`;
    item.tooltip = `${this.profileId} was deleted; its backups were kept. Restore one over its profile ("Restore Backup over Its Profile…") to bring it back, or as a new profile.`;
    return item;
  }

  getChildren(): TreeNode[] {
    return this.folder.backups(this.profileId).map((entry) => new BackupNode(this.folder, entry));
  }
}
