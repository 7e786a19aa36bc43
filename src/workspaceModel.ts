import * as vscode from 'vscode';
import type { SqliteEngine } from './core/sqlite/sqliteEngine';
import type { Logger } from './core/workspaceContext';
import { FolderModel } from './folderModel';

/** Every workspace folder's model; fires one coalesced change event for all of them. */
export class WorkspaceModel implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private folders = new Map<string, FolderModel>();
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(private readonly engine: SqliteEngine, private readonly logger: Logger) {
    this.sync();
    this.disposables.push(vscode.workspace.onDidChangeWorkspaceFolders(() => this.sync()));
  }

  private sync(): void {
    const wanted = vscode.workspace.workspaceFolders ?? [];
    const next = new Map<string, FolderModel>();
    for (const folder of wanted) {
      const key = folder.uri.toString();
      const existing = this.folders.get(key);
      if (existing) next.set(key, existing);
      else {
        const model = new FolderModel(folder, this.engine, this.logger);
        model.onDidChange(() => this.changed.fire());
        next.set(key, model);
      }
    }
    for (const [key, model] of this.folders) if (!next.has(key)) model.dispose();
    this.folders = next;
    this.changed.fire();
  }

  all(): FolderModel[] {
    return [...this.folders.values()];
  }

  /** Folders that have a `.envprofiles/` store. */
  initialised(): FolderModel[] {
    return this.all().filter((f) => f.data.initialised);
  }

  byPath(fsPath: string): FolderModel | undefined {
    return this.all().find((f) => f.folder.uri.fsPath === fsPath);
  }

  hasProfiles(): boolean {
    return this.all().some((f) => f.data.profiles.length > 0);
  }

  refreshAll(): void {
    for (const folder of this.all()) folder.refresh();
  }

  dispose(): void {
    for (const folder of this.all()) folder.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
