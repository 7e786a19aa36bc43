import * as vscode from 'vscode';
import { VERIFICATION_TEXT, verificationStatus, type CatalogEntry, type VerificationStatus } from '../core/backup/backupCatalog';
import { missingContents } from '../core/backup/backupContents';
import { formatSize } from '../core/diskSpace';
import type { FolderModel } from '../folderModel';
import { CONTEXT } from './contextValues';
import { age, onLocalClock } from '../core/localTime';
import type { TreeNode } from './treeNode';

/** How a backup of an earlier profile with the same id (deleted, then the id reused) is marked in lists. */
export const EARLIER_PROFILE_TEXT = 'earlier profile (deleted)';
const STATUS_ICON: Record<Exclude<VerificationStatus, 'not-verified'>, string> = { passed: 'verified', 'data-problems': 'warning', failed: 'error' };

/** Why a listed backup cannot be restored now (an archive of it or its chain missing), or is not to be counted on (one it builds on FAILED verification), for lists; undefined when neither. */
export function unrestorableText(folder: FolderModel, entry: CatalogEntry): string | undefined {
  const missing = folder.missingArchivesOf(entry);
  if (missing.includes(entry.id)) return 'its archive is missing';
  if (missing.length > 0) return `cannot be restored: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing`;
  const failedBelow = folder.failedInChainOf(entry);
  return failedBelow ? `do not count on it: ${failedBelow}, which it builds on, FAILED verification` : undefined;
}

/** One backup: kind, size, age, verified or not; an incremental shows its place in its chain. */
export class BackupNode implements TreeNode {
  readonly id: string;

  constructor(readonly folder: FolderModel, readonly entry: CatalogEntry) {
    this.id = `${folder.folder.uri.toString()}/backup/${entry.id}`;
  }

  getTreeItem(): vscode.TreeItem {
    const e = this.entry;
    const when = new Date(e.createdAt);
    const label = `${onLocalClock(when, 'date')} ${onLocalClock(when, 'time')}`;
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.contextValue = CONTEXT.backup;
    const kind = e.kind === 'full' ? 'full' : `incremental ${e.chain.length + 1} in chain`;
    const status = verificationStatus(e);
    const lessThanAll = missingContents(e);
    const without = lessThanAll ? ` · ${lessThanAll}` : '';
    const earlier = this.folder.isOfEarlierProfile(e);
    const archive = this.folder.archiveFileOf(e);
    const unusable = unrestorableText(this.folder, e);
    item.description = `${kind} · ${formatSize(e.sizeBytes)} · ${age(e.createdAt)}${without}${earlier ? ` · ${EARLIER_PROFILE_TEXT}` : ''} · ${VERIFICATION_TEXT[status]}${unusable ? ` · ${unusable}` : ''}`;
    item.iconPath = new vscode.ThemeIcon(unusable ? 'error' : status === 'not-verified' ? (e.kind === 'full' ? 'package' : 'diff-added') : STATUS_ICON[status]);
    item.tooltip = new vscode.MarkdownString(
      `**${e.id}**\n\n- kind: ${e.kind}${e.parent ? `, parent \`${e.parent}\`` : ''}\n- chain: ${e.chain.length ? e.chain.map((c) => `\`${c}\``).join(' → ') + ' → this' : 'starts here'}\n- reason: ${e.reason}\n${earlier ? `- made before this profile was created: it holds the data of an earlier profile with the id ${e.profileId}${e.profileCreatedAt ? ` (created ${e.profileCreatedAt})` : ''}, which was deleted\n` : ''}- databases: ${e.databases.join(', ') || 'none'}${lessThanAll ? ` (${lessThanAll}${e.keptAsFound ? ': byte for byte under damaged/ in the archive, which a restore does not write back' : ''})` : ''}\n- size: ${formatSize(e.sizeBytes)}\n${archive ? `- archive: \`${archive}\`\n` : ''}- ${e.verified ? `verified ${age(e.verified.at)}: ${e.verified.ok ? 'ok' : e.verified.detail}` : 'not verified yet'}`,
    );
    return item;
  }

  getChildren(): TreeNode[] {
    return [];
  }
}
