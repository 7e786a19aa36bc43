import * as vscode from 'vscode';
import { counted } from '../core/counted';
import { lastVerifiedBackup } from '../core/backup/lastVerifiedBackup';
import type { Profile } from '../core/profileModel';
import type { FolderModel } from '../folderModel';
import { age, DATED_AFTER_NOW } from '../core/localTime';
import { TYPE_SHORT } from '../tree/profileAppearance';
import type { WorkspaceModel } from '../workspaceModel';
import { COMMANDS } from '../commands/commandIds';
import { missingDatabaseNames } from '../core/missingDatabases';

/** The status-bar item that always shows the active environment; clicking it opens the switch picker. */
export class ActiveProfileStatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private readonly subscription: vscode.Disposable;
  private pending: NodeJS.Timeout | undefined;

  constructor(private readonly model: WorkspaceModel) {
    this.item = vscode.window.createStatusBarItem('envProfiles.active', vscode.StatusBarAlignment.Left, 100);
    this.item.name = 'Environment Profiles: active environment';
    this.item.command = COMMANDS.switchProfile;
    this.subscription = model.onDidChange(() => this.scheduleUpdate());
    this.update();
  }

  /** Several changes in a row (a switch writes several files) update the item once. */
  private scheduleUpdate(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = setTimeout(() => this.update(), 20);
  }

  /** The folder whose environment is shown: the active editor's folder, else the first with profiles. */
  private shownFolder(): FolderModel | undefined {
    const editorUri = vscode.window.activeTextEditor?.document.uri;
    const editorFolder = editorUri ? vscode.workspace.getWorkspaceFolder(editorUri) : undefined;
    const withProfiles = this.model.all().filter((f) => f.data.profiles.length > 0);
    return withProfiles.find((f) => f.folder.uri.toString() === editorFolder?.uri.toString()) ?? withProfiles[0];
  }

  update(): void {
    this.pending = undefined;
    const folder = this.shownFolder();
    if (!folder) {
      this.item.hide();
      return;
    }
    const active = folder.activeProfile();
    const unknown = !active && folder.stateUnreadable() !== undefined;
    // Looked at on every redraw (each minute, see AgeRedraw): a database removed under the application is no file event of ours.
    const missing = active ? missingDatabaseNames(folder.context.layout, active.databases) : [];
    this.item.text = active ? `$(${missing.length > 0 ? 'warning' : 'database'}) ${TYPE_SHORT[active.type]} · ${active.name}` : unknown ? '$(warning) Environment unknown' : '$(database) No environment';
    this.item.backgroundColor = active?.type === 'PRODUCTION' ? new vscode.ThemeColor('statusBarItem.errorBackground') : active?.type === 'TESTING' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.accessibilityInformation = { label: active ? `Active environment: ${active.type} ${active.name}${missing.length > 0 ? `, ${counted(missing.length, 'database')} missing` : ''}. Click to switch.` : unknown ? 'Active environment unknown: its state file is damaged. Click to switch.' : 'No active environment. Click to switch.', role: 'button' };
    this.item.tooltip = this.tooltip(folder, active, missing);
    this.item.show();
  }

  private tooltip(folder: FolderModel, active: Profile | undefined, missing: string[]): vscode.MarkdownString {
    const md = new vscode.MarkdownString('', true);
    const unreadable = folder.stateUnreadable();
    if (!active && unreadable !== undefined) {
      // Not "no active profile": one may well be in use, its links and env file in place.
      md.appendMarkdown(`Which profile is active in **${folder.name}** is unknown: \`.envprofiles/state.json\` cannot be read (damaged). Click to switch to the profile in use, which writes it again.`);
      return md;
    }
    if (!active) {
      md.appendMarkdown(`No active profile in **${folder.name}**. Click to choose one.`);
      return md;
    }
    md.appendMarkdown(`**${active.name}** (\`${active.id}\`, ${active.type}) in ${folder.name}\n\n`);
    for (const [logical, written] of Object.entries(active.databases)) {
      md.appendMarkdown(missing.includes(logical) ? `- $(error) ${logical}: \`${written}\` **does not exist**\n` : `- $(database) ${logical}: \`${written}\`\n`);
    }
    if (missing.length > 0) {
      // The two commands that get it back, as links (trusted for those two only).
      const restore = commandLink('Restore One Database…', COMMANDS.restoreDatabase, { profileId: active.id, ...(missing.length === 1 ? { database: missing[0] } : {}) });
      const make = commandLink('Make Missing Databases…', COMMANDS.initialiseDatabases, { profileId: active.id });
      md.isTrusted = { enabledCommands: [COMMANDS.restoreDatabase, COMMANDS.initialiseDatabases] };
      md.appendMarkdown(`\n$(warning) ${missing.length === 1 ? 'A database is' : `${missing.length} databases are`} missing: the application would find none there, and SQLite would make a new, empty one. Restore ${missing.length === 1 ? 'it' : 'them'} from a backup (${restore}), or make ${missing.length === 1 ? 'it' : 'them'} anew (${make}).\n`);
    }
    const { backup: verified, stranded } = lastVerifiedBackup(folder.backups(active.id), active, folder.context.now());
    const dataProblems = verified && !verified.verified?.ok ? '; $(warning) its data had problems when it was backed up (see the backup)' : '';
    const none = stranded ? `$(warning) No verified backup that can be restored: the chain of the last verified one ${stranded.fault.kind === 'lost' ? 'lost an archive' : 'holds an archive that failed verification'}` : '$(warning) No verified backup yet';
    md.appendMarkdown(`\n${verified ? `Last verified backup: ${age(verified.verified?.at ?? verified.createdAt)} (${taken(verified.createdAt)}${dataProblems})` : none}\n\n`);
    if (folder.data.status && !folder.data.status.inSync) md.appendMarkdown(`$(warning) Outputs out of sync: ${folder.data.status.drift.join('; ')}\n\n`);
    md.appendMarkdown('Click to switch environment.');
    return md;
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    this.subscription.dispose();
    this.item.dispose();
  }
}

/** A Markdown link that runs `command` with `args` (the tooltip must trust that command). */
function commandLink(label: string, command: string, args: Record<string, string>): string {
  return `[${label}](command:${command}?${encodeURIComponent(JSON.stringify(args))})`;
}

/** "taken 2 h ago", or "dated after now" for a backup made while the clock was ahead. */
function taken(createdAt: string): string {
  const ago = age(createdAt);
  return ago === DATED_AFTER_NOW ? ago : `taken ${ago}`;
}
