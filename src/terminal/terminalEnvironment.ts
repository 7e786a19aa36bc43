import * as vscode from 'vscode';
import { profileVariables } from '../core/envFileFormat';
import { readSettings } from '../extensionSettings';
import type { WorkspaceModel } from '../workspaceModel';

/**
 * Gives new integrated terminals the active profile's variables (VS Code's environment variable
 * collection, per workspace folder), and keeps track of terminals opened before a switch.
 */
export class TerminalEnvironment implements vscode.Disposable {
  private readonly subscription: vscode.Disposable;
  private readonly applied = new Map<string, string>();
  /**
   * Asks whether to relaunch; the host tests replace it, since a test inside the extension host cannot
   * click a notification (everything else about the relaunch runs for real there).
   */
  askToRelaunch = (message: string, action: string): Thenable<string | undefined> => vscode.window.showInformationMessage(message, action);

  constructor(private readonly model: WorkspaceModel, private readonly collection: vscode.GlobalEnvironmentVariableCollection) {
    this.subscription = model.onDidChange(() => this.apply());
    this.apply();
  }

  /** Writes every folder's active profile into its scoped collection (or clears it when turned off). */
  apply(): void {
    for (const folder of this.model.all()) {
      const scoped = this.collection.getScoped({ workspaceFolder: folder.folder });
      const active = folder.activeProfile();
      const enabled = readSettings(folder.folder.uri).terminalVariables;
      const key = enabled && active ? `${active.id}:${JSON.stringify(active.configurations)}:${JSON.stringify(active.databases)}` : '';
      if (this.applied.get(folder.folder.uri.toString()) === key) continue;
      this.applied.set(folder.folder.uri.toString(), key);
      scoped.clear();
      if (!enabled || !active) continue;
      scoped.description = `Environment Profiles: ${active.name} (${active.type})`;
      for (const [name, value] of profileVariables(active, folder.context.layout)) scoped.replace(name, value);
    }
  }

  /** The variables new terminals of `folder` get (read by the tests in the extension host). */
  scopedFor(folder: vscode.WorkspaceFolder): vscode.EnvironmentVariableCollection {
    return this.collection.getScoped({ workspaceFolder: folder });
  }

  /** After a switch: terminals that were already open still have the old variables. */
  async offerRelaunch(openBefore: readonly vscode.Terminal[], profileName: string): Promise<void> {
    const stale = openBefore.filter((t) => vscode.window.terminals.includes(t) && t.exitStatus === undefined);
    if (stale.length === 0 || !readSettings().terminalVariables) return;
    const names = stale.map((t) => `"${t.name}"`).join(', ');
    const choice = await this.askToRelaunch(`${stale.length} open terminal${stale.length > 1 ? 's' : ''} (${names}) still ha${stale.length > 1 ? 've' : 's'} the previous environment; new terminals get ${profileName}.`, 'Relaunch Terminals');
    if (choice === 'Relaunch Terminals') for (const terminal of stale) this.relaunch(terminal);
  }

  private relaunch(terminal: vscode.Terminal): void {
    const options = terminal.creationOptions as vscode.TerminalOptions;
    terminal.dispose();
    vscode.window.createTerminal({ ...options, name: terminal.name }).show();
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
