import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { DatabaseInspection } from '../core/databaseInspection';
import { formatSize } from '../core/diskSpace';
import type { FolderModel } from '../folderModel';
import { CONTEXT } from './contextValues';
import type { TreeNode } from './treeNode';

/** One database of a profile: size, journal mode and the last validation result. */
export class DatabaseNode implements TreeNode {
  readonly id: string;

  /** `shared`: the warning that another profile uses this database file too, when one does. */
  constructor(readonly folder: FolderModel, readonly profileId: string, readonly logicalName: string, readonly written: string, private readonly inspection: DatabaseInspection | undefined, private readonly shared?: string) {
    this.id = `${folder.folder.uri.toString()}/${profileId}/db/${logicalName}`;
  }

  get absolutePath(): string {
    return this.folder.context.layout.resolve(this.written);
  }

  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.logicalName, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    // Looked at as it is drawn (each minute at least, see AgeRedraw), not as the last validation found it.
    const missing = !fs.existsSync(this.absolutePath);
    item.contextValue = missing ? CONTEXT.missingDatabase : CONTEXT.database;
    const problems = this.inspection?.checks.filter((c) => c.severity === 'error') ?? [];
    const parts: string[] = [];
    if (this.inspection?.sizeBytes !== undefined && !missing) parts.push(formatSize(this.inspection.sizeBytes));
    if (this.inspection?.journalMode && !missing) parts.push(this.inspection.journalMode === 'wal' ? 'WAL' : 'rollback journal');
    parts.push(missing ? 'missing' : problems.length > 0 ? 'invalid' : 'valid');
    // Before, only validate and the Problems panel said so: the tree showed such a file as any other.
    if (this.shared) parts.push('shared with another profile');
    item.description = parts.join(' · ');
    const bad = missing || problems.length > 0;
    item.iconPath = bad ? new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground')) : this.shared ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground')) : new vscode.ThemeIcon('database');
    const tooltip = new vscode.MarkdownString(`**${this.logicalName}** — \`${this.written}\`\n\n`);
    for (const check of this.inspection?.checks ?? []) tooltip.appendMarkdown(`- ${check.severity === 'error' ? '❌' : check.severity === 'warning' ? '⚠️' : '✓'} ${check.check}: ${check.detail}\n`);
    if (this.shared) tooltip.appendMarkdown(`- ⚠️ shared: ${this.shared}\n`);
    item.tooltip = tooltip;
    item.resourceUri = vscode.Uri.file(this.absolutePath);
    return item;
  }

  getChildren(): TreeNode[] {
    return [];
  }
}
