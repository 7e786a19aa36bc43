import * as vscode from 'vscode';
import { firstIssueInBrief } from '../core/errors';
import type { FolderModel } from '../folderModel';
import { CONTEXT } from './contextValues';
import { MessageNode } from './messageNode';
import { DeletedProfileNode } from './deletedProfileNode';
import { InvalidProfileNode, ProfileNode } from './profileNode';
import type { TreeNode } from './treeNode';

/** The profiles of one folder: the tree's roots in a single-folder workspace, under a folder node in a multi-root one. */
export function profileNodes(folder: FolderModel): TreeNode[] {
  const data = folder.data;
  if (data.configError) return [new MessageNode(`${folder.folder.uri.toString()}/config-error`, folder, data.configError, 'error')];
  if (!data.initialised) return [new MessageNode(`${folder.folder.uri.toString()}/uninitialised`, folder, 'Not initialised (no .envprofiles/)')];
  const profiles = data.profiles.map((p) => (p.profile ? new ProfileNode(folder, p.profile) : new InvalidProfileNode(folder, p.id, firstIssueInBrief(p.issues, 'invalid'))));
  return [...profiles, ...folder.deletedProfilesWithBackups().map((id) => new DeletedProfileNode(folder, id))];
}

/** A workspace folder (multi-root workspaces): each folder has its own profiles. */
export class FolderNode implements TreeNode {
  readonly id: string;

  constructor(readonly folder: FolderModel) {
    this.id = `${folder.folder.uri.toString()}/folder`;
  }

  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.folder.name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    item.contextValue = CONTEXT.folder;
    item.iconPath = vscode.ThemeIcon.Folder;
    const active = this.folder.activeProfile();
    item.description = active ? `active: ${active.name}` : undefined;
    return item;
  }

  getChildren(): TreeNode[] {
    return profileNodes(this.folder);
  }
}
