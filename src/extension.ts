import * as vscode from 'vscode';
import { BackupManifestProvider, MANIFEST_SCHEME } from './backupManifestDocument';
import type { CommandServices } from './commands/commandServices';
import { registerCommands } from './commands/registerCommands';
import { loadSqliteEngine } from './core/sqlite/loadEngine';
import { ProfileDiagnostics } from './diagnostics/profileDiagnostics';
import { SETTINGS_SECTION } from './extensionSettings';
import { channelLogger } from './outputLogger';
import { ActiveProfileStatusBar } from './statusBar/activeProfileStatusBar';
import { TerminalEnvironment } from './terminal/terminalEnvironment';
import { ProfilesTreeProvider } from './tree/profilesTreeProvider';
import { AgeRedraw } from './ageRedraw';
import { WorkspaceModel } from './workspaceModel';
import { counted } from './core/counted';

/** What activate returns: the services, for the tests in a real extension host. */
export interface EnvironmentProfilesApi {
  services: CommandServices;
  tree: ProfilesTreeProvider;
  statusBar: ActiveProfileStatusBar;
  diagnostics: ProfileDiagnostics;
  activatedInMs: number;
}

export async function activate(context: vscode.ExtensionContext): Promise<EnvironmentProfilesApi> {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('Environment Profiles', { log: true });
  context.subscriptions.push(log);
  const engine = await loadSqliteEngine();
  const model = new WorkspaceModel(engine, channelLogger(log));
  const terminals = new TerminalEnvironment(model, context.environmentVariableCollection);
  const services: CommandServices = { model, log, terminals };
  const tree = new ProfilesTreeProvider(model);
  const view = vscode.window.createTreeView('envProfiles.profiles', { treeDataProvider: tree, showCollapseAll: true });
  const statusBar = new ActiveProfileStatusBar(model);
  const diagnostics = new ProfileDiagnostics(model);
  const updateContextKeys = (): void => {
    void vscode.commands.executeCommand('setContext', 'envProfiles.empty', !model.hasProfiles());
    void vscode.commands.executeCommand('setContext', 'envProfiles.initialised', model.initialised().length > 0);
  };
  const ages = new AgeRedraw({ treeVisible: () => view.visible, redrawTree: () => tree.redraw(), redrawStatusBar: () => statusBar.update() });
  context.subscriptions.push(model, terminals, tree, view, statusBar, diagnostics, ages, model.onDidChange(updateContextKeys), view.onDidChangeVisibility((e) => e.visible && ages.shown()));
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(SETTINGS_SECTION)) {
        model.refreshAll();
        terminals.apply();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => model.refreshAll()),
    vscode.window.onDidChangeActiveTextEditor(() => statusBar.update()),
    vscode.workspace.registerTextDocumentContentProvider(MANIFEST_SCHEME, new BackupManifestProvider()),
  );
  registerCommands(context, services);
  updateContextKeys();
  const activatedInMs = performance.now() - started;
  log.info(`Environment Profiles activated in ${activatedInMs.toFixed(0)} ms for ${counted(model.all().length, 'folder')}, SQLite engine ${engine.name}${vscode.workspace.isTrusted ? '' : ' (untrusted workspace: read-only)'}.`);
  return { services, tree, statusBar, diagnostics, activatedInMs };
}

export function deactivate(): void {}
