import * as vscode from 'vscode';
import type { WorkspaceModel } from '../workspaceModel';
import { FolderNode, profileNodes } from './folderNode';
import type { TreeNode } from './treeNode';

/** The provider of the "Profiles" view: roots from the workspace model, refreshed on its change event. */
export class ProfilesTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly model: WorkspaceModel) {
    this.subscription = model.onDidChange(() => this.changed.fire(undefined));
  }

  /** Draws every item again from the model as it is (the ages they show, see AgeRedraw). */
  redraw(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    return node.getTreeItem();
  }

  getChildren(node?: TreeNode): TreeNode[] {
    if (node) return node.getChildren();
    const folders = this.model.all();
    if (folders.length === 1) return folders[0].data.initialised ? profileNodes(folders[0]) : [];
    return folders.filter((f) => f.data.initialised).map((f) => new FolderNode(f));
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
