import * as vscode from 'vscode';
import type { Issue } from '../core/errors';
import { sharedDatabaseIssues } from '../core/sharedDatabaseIssues';
import { parseWorkspaceConfig, readConfigText } from '../core/workspaceConfig';
import type { WorkspaceModel } from '../workspaceModel';

function toDiagnostic(issue: Issue, severity = vscode.DiagnosticSeverity.Error): vscode.Diagnostic {
  const line = Math.max(0, (issue.line ?? 1) - 1);
  const column = Math.max(0, (issue.column ?? 1) - 1);
  const diagnostic = new vscode.Diagnostic(new vscode.Range(line, column, line, Number.MAX_SAFE_INTEGER), issue.field ? `${issue.field}: ${issue.message}` : issue.message, severity);
  diagnostic.source = 'Environment Profiles';
  return diagnostic;
}

/** Syntax and validation errors (and warnings) of profile files and config.yaml, in the Problems panel; cleared when fixed. */
export class ProfileDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('envProfiles');
  private readonly subscription: vscode.Disposable;

  constructor(private readonly model: WorkspaceModel) {
    this.subscription = model.onDidChange(() => this.update());
    this.update();
  }

  update(): void {
    const next = new Map<string, vscode.Diagnostic[]>();
    for (const folder of this.model.all()) {
      const { layout } = folder.context;
      const shared = sharedDatabaseIssues(layout, folder.data.profiles, folder.sharedDatabases());
      for (const result of folder.data.profiles) {
        const warnings = [...(result.warnings ?? []), ...(shared.get(result.file) ?? [])];
        const diagnostics = [...result.issues.map((issue) => toDiagnostic(issue)), ...warnings.map((issue) => toDiagnostic(issue, vscode.DiagnosticSeverity.Warning))];
        if (diagnostics.length > 0) next.set(vscode.Uri.file(result.file).toString(), diagnostics);
      }
      // Read as every command reads it: never a named pipe there, which would hold up the extension host.
      let configText: string | undefined;
      try {
        configText = readConfigText(layout);
      } catch {
        configText = undefined;
      }
      if (configText !== undefined) {
        const { issues, warnings = [] } = parseWorkspaceConfig(configText, layout);
        const diagnostics = [...issues.map((issue) => toDiagnostic(issue)), ...warnings.map((issue) => toDiagnostic(issue, vscode.DiagnosticSeverity.Warning))];
        if (diagnostics.length > 0) next.set(vscode.Uri.file(layout.configFile).toString(), diagnostics);
      }
    }
    this.collection.forEach((uri) => {
      if (!next.has(uri.toString())) this.collection.delete(uri);
    });
    for (const [uri, diagnostics] of next) this.collection.set(vscode.Uri.parse(uri), diagnostics);
  }

  dispose(): void {
    this.subscription.dispose();
    this.collection.dispose();
  }
}
