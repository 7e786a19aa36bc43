import * as vscode from 'vscode';

/** Activation only logs for now; the views and commands arrive with the extension issue. */
export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Environment Profiles', { log: true });
  context.subscriptions.push(log);
  log.info(`Environment Profiles activated for ${vscode.workspace.workspaceFolders?.length ?? 0} workspace folder(s).`);
}

export function deactivate(): void {}
