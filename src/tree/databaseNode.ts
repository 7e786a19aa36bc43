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

  constructor(readonly folder: FolderModel, readonly profileId: string, readonly logicalName: string, readonly written: string, private readonly inspection: DatabaseInspection | undefined) {
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
    item.description = parts.join(' · ');
    const bad = missing || problems.length > 0;
    item.iconPath = new vscode.ThemeIcon(bad ? 'error' : 'database', bad ? new vscode.ThemeColor('errorForeground') : undefined);
    const tooltip = new vscode.MarkdownString(`**${this.logicalName}** — \`${this.written}\`\n\n`);
    for (const check of this.inspection?.checks ?? []) tooltip.appendMarkdown(`- ${check.severity === 'error' ? '❌' : check.severity === 'warning' ? '⚠️' : '✓'} ${check.check}: ${check.detail}\n`);
    item.tooltip = tooltip;
    item.resourceUri = vscode.Uri.file(this.absolutePath);
    return item;
  }

  getChildren(): TreeNode[] {
    return [];
  }
}
