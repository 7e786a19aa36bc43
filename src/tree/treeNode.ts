import type * as vscode from 'vscode';
import type { FolderModel } from '../folderModel';

/** A node of the profiles tree: it builds its item and its children from the folder model. */
export interface TreeNode {
  readonly id: string;
  readonly folder: FolderModel;
  getTreeItem(): vscode.TreeItem;
  getChildren(): TreeNode[];
}
