import * as vscode from 'vscode';
import type { FolderModel } from '../folderModel';
import { CONTEXT } from './contextValues';
import type { TreeNode } from './treeNode';

/** A line of text in the tree (an error, an empty list). */
export class MessageNode implements TreeNode {
  /** `command`: what clicking the line does (a way out of the problem it reports). */
  constructor(readonly id: string, readonly folder: FolderModel, private readonly text: string, private readonly icon = 'info', readonly command?: vscode.Command) {}

  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.text, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.iconPath = new vscode.ThemeIcon(this.icon);
    item.contextValue = CONTEXT.message;
    item.tooltip = this.command ? `${this.text}\n\nClick: ${this.command.title}` : this.text;
    item.command = this.command;
    return item;
  }

  getChildren(): TreeNode[] {
    return [];
  }
}
