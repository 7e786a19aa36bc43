import * as vscode from 'vscode';
import type { ConfigValue } from '../core/profileModel';
import type { FolderModel } from '../folderModel';
import type { ConfigurationCategory } from './configurationCategories';
import { CONTEXT } from './contextValues';
import type { TreeNode } from './treeNode';

const CATEGORY_ICON: Record<ConfigurationCategory, string> = { Logging: 'output', Trading: 'graph-line', API: 'plug', System: 'settings-gear' };

/** A category of configuration keys (logging, trading, API, system). */
export class ConfigurationGroupNode implements TreeNode {
  readonly id: string;

  constructor(readonly folder: FolderModel, readonly profileId: string, readonly category: ConfigurationCategory, private readonly entries: [string, ConfigValue][]) {
    this.id = `${folder.folder.uri.toString()}/${profileId}/config/${category}`;
  }

  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.category, vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    item.contextValue = CONTEXT.configurationGroup;
    item.iconPath = new vscode.ThemeIcon(CATEGORY_ICON[this.category]);
    item.description = `${this.entries.length}`;
    return item;
  }

  getChildren(): TreeNode[] {
    return this.entries.map(([key, value]) => new ConfigurationItemNode(this.folder, this.profileId, key, value));
  }
}

/** KEY = value, as the application sees it. */
export class ConfigurationItemNode implements TreeNode {
  readonly id: string;

  constructor(readonly folder: FolderModel, readonly profileId: string, readonly key: string, readonly value: ConfigValue) {
    this.id = `${folder.folder.uri.toString()}/${profileId}/config/item/${key}`;
  }

  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(`${this.key.toUpperCase()} = ${String(this.value)}`, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.contextValue = CONTEXT.configurationItem;
    item.tooltip = `${this.key}: ${JSON.stringify(this.value)} (exported as ${this.key.toUpperCase()})`;
    return item;
  }

  getChildren(): TreeNode[] {
    return [];
  }
}
