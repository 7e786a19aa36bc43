import * as vscode from 'vscode';
import { lastVerifiedBackup } from '../core/backup/lastVerifiedBackup';
import { keepRulesFrom, keepRulesText } from '../core/backup/retentionPolicy';
import { age } from '../core/localTime';
import { isProtected, type Profile } from '../core/profileModel';
import { COMMANDS } from '../commands/commandIds';
import type { FolderModel } from '../folderModel';
import { BackupNode } from './backupNode';
import { groupConfiguration } from './configurationCategories';
import { ConfigurationGroupNode } from './configurationNodes';
import { CONTEXT } from './contextValues';
import { DatabaseNode } from './databaseNode';
import { MessageNode } from './messageNode';
import { typeIcon } from './profileAppearance';
import type { TreeNode } from './treeNode';
import { missingDatabaseNames } from '../core/missingDatabases';

/** A valid profile: type icon and colour, active and protected marks; sections below. */
export class ProfileNode implements TreeNode {
  readonly id: string;

  constructor(readonly folder: FolderModel, readonly profile: Profile) {
    this.id = `${folder.folder.uri.toString()}/profile/${profile.id}`;
  }

  get active(): boolean {
    return this.folder.data.status?.active === this.profile.id;
  }

  getTreeItem(): vscode.TreeItem {
    const p = this.profile;
    const item = new vscode.TreeItem(p.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    item.contextValue = this.active ? CONTEXT.activeProfile : CONTEXT.profile;
    item.iconPath = this.active ? new vscode.ThemeIcon('pass-filled', new vscode.ThemeColor('charts.green')) : typeIcon(p.type);
    item.description = [p.id, p.type, this.active ? 'active' : '', isProtected(p) ? 'protected' : ''].filter(Boolean).join(' · ');
    item.tooltip = new vscode.MarkdownString(`**${p.name}** (\`${p.id}\`)\n\n${p.type}${isProtected(p) ? ' — protected: switching needs the typed id' : ''}${this.active ? '\n\nThis is the active profile.' : ''}${p.description ? `\n\n${p.description}` : ''}`);
    item.resourceUri = vscode.Uri.file(this.folder.context.layout.profileFile(p.id));
    return item;
  }

  getChildren(): TreeNode[] {
    return [new ProfileSectionNode(this.folder, this.profile, 'databases'), new ProfileSectionNode(this.folder, this.profile, 'configuration'), new ProfileSectionNode(this.folder, this.profile, 'backups')];
  }
}

type Section = 'databases' | 'configuration' | 'backups';

/** "Databases", "Configuration" and "Backups" under a profile. */
export class ProfileSectionNode implements TreeNode {
  readonly id: string;

  constructor(readonly folder: FolderModel, readonly profile: Profile, readonly section: Section) {
    this.id = `${folder.folder.uri.toString()}/profile/${profile.id}/${section}`;
  }

  getTreeItem(): vscode.TreeItem {
    const labels: Record<Section, [string, string, string]> = {
      databases: ['Databases', 'database', CONTEXT.databasesSection],
      configuration: ['Configuration', 'settings', CONTEXT.configurationSection],
      backups: ['Backups', 'history', CONTEXT.backupsSection],
    };
    const [label, icon, context] = labels[this.section];
    const item = new vscode.TreeItem(label, this.section === 'backups' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    item.iconPath = new vscode.ThemeIcon(icon);
    item.contextValue = context;
    if (this.section === 'databases') {
      // As list's DATABASES column: how many, and how many have no file (each says so below, with Make Missing Databases inline).
      const count = Object.keys(this.profile.databases).length;
      const missing = missingDatabaseNames(this.folder.context.layout, this.profile.databases).length;
      item.description = missing > 0 ? `${count} · ${missing} missing` : `${count}`;
    }
    if (this.section === 'configuration') item.description = `${Object.keys(this.profile.configurations).length}`;
    if (this.section === 'backups') {
      const entries = this.folder.backups(this.profile.id);
      // Whether the profile is covered, at a glance (as `envprofiles list` says it).
      const { backup: verified } = lastVerifiedBackup(entries, this.profile, this.folder.context.now());
      item.description = entries.length === 0 ? '0' : `${entries.length} · ${verified ? `last verified ${age(verified.createdAt)}` : 'none verified'}`;
      // What prune will do with them, as the profile's backup_schedule says.
      item.tooltip = `Keep rules: ${keepRulesText(keepRulesFrom(this.profile.backupSchedule))}`;
    }
    return item;
  }

  getChildren(): TreeNode[] {
    if (this.section === 'databases') {
      const report = this.folder.validation(this.profile);
      const shared = this.folder.sharedDatabases().get(this.profile.id) ?? [];
      return Object.entries(this.profile.databases).map(([logical, written]) => new DatabaseNode(this.folder, this.profile.id, logical, written, report.databases.find((d) => d.name === logical), shared.find((s) => s.logicalName === logical)?.message));
    }
    if (this.section === 'configuration') {
      const groups = groupConfiguration(this.profile.configurations);
      if (groups.length === 0) return [new MessageNode(`${this.id}/empty`, this.folder, 'No configuration keys')];
      return groups.map(([category, entries]) => new ConfigurationGroupNode(this.folder, this.profile.id, category, entries));
    }
    const backups = this.folder.backups(this.profile.id);
    // A backups folder on a disk that is not mounted: say so (a click opens config.yaml, which names it).
    const folderProblem = this.folder.backupsFolderProblem();
    if (folderProblem) {
      const config = vscode.Uri.file(this.folder.context.layout.configFile);
      return [new MessageNode(`${this.id}/backups-folder-missing`, this.folder, folderProblem, 'warning', { command: 'vscode.open', title: 'Open config.yaml (backups.directory)', arguments: [config] })];
    }
    // A catalog that is unreadable or lost track of its archives: say so above the list, and offer the rebuild.
    const problem = this.folder.catalogProblem(this.profile.id);
    const warning = problem
      ? [new MessageNode(`${this.id}/catalog-problem`, this.folder, `This list may be incomplete: ${problem}`, 'warning', { command: COMMANDS.rebuildBackupCatalog, title: 'Rebuild the backup catalog from the archives', arguments: [{ folder: this.folder.folder.uri.fsPath, profileId: this.profile.id }] })]
      : [];
    // Backups in the folder used before the backups folder was changed: not listed, and not lost.
    const config = vscode.Uri.file(this.folder.context.layout.configFile);
    const elsewhere = this.folder.backupsElsewhere().filter((found) => found.backups[this.profile.id] !== undefined).map((found) => {
      const count = found.backups[this.profile.id].length;
      return new MessageNode(`${this.id}/elsewhere/${found.folder}`, this.folder, `${count} more backup${count === 1 ? '' : 's'} in ${found.folder}, the backups folder before it was changed: not listed here (move ${count === 1 ? 'it' : 'them'} into the folder set now, or set it back)`, 'info', { command: 'vscode.open', title: 'Open config.yaml (backups.directory)', arguments: [config] });
    });
    if (backups.length === 0) return [...warning, ...elsewhere, new MessageNode(`${this.id}/none`, this.folder, elsewhere.length > 0 ? 'No backups in the backups folder set now' : 'No backups yet')];
    return [...warning, ...elsewhere, ...backups.map((entry) => new BackupNode(this.folder, entry))];
  }
}

/** A profile file that does not validate: shown with its first problem. */
export class InvalidProfileNode implements TreeNode {
  readonly id: string;

  constructor(readonly folder: FolderModel, readonly profileId: string, private readonly problem: string) {
    this.id = `${folder.folder.uri.toString()}/profile/${profileId}`;
  }

  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.profileId, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.contextValue = CONTEXT.invalidProfile;
    item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
    item.description = 'invalid';
    item.tooltip = this.problem;
    item.resourceUri = vscode.Uri.file(this.folder.context.layout.profileFile(this.profileId));
    item.command = { command: 'envProfiles.openProfileYaml', title: 'Open Profile YAML', arguments: [this] };
    return item;
  }

  getChildren(): TreeNode[] {
    return [];
  }
}
