import * as vscode from 'vscode';
import { sqliteDatabasesIn } from '../core/databaseDiscovery';
import { databaseNameProblem } from '../core/safeNames';
import type { FolderModel } from '../folderModel';
import { UserCancelled } from './commandServices';

/**
 * The databases of a folder's first profile, which has no other profile to take its logical names from:
 * the SQLite files found in the folder (by their header), all picked to begin with; or, when none is
 * found or none is kept, typed as NAME=PATH pairs.
 */
export async function askFirstProfileDatabases(folder: FolderModel, id: string): Promise<Record<string, string>> {
  const found = sqliteDatabasesIn(folder.context.layout);
  if (found.length > 0) {
    const items = found.map((f) => ({ label: f.name, description: f.path, picked: true, database: f }));
    const chosen = await vscode.window.showQuickPick(items, { canPickMany: true, ignoreFocusOut: true, title: 'New profile (4/4): its databases', placeHolder: 'SQLite files found in the folder (pick none to type paths instead)' });
    if (!chosen) throw new UserCancelled();
    if (chosen.length > 0) return Object.fromEntries(chosen.map((c) => [c.database.name, c.database.path]));
  }
  const typed = await vscode.window.showInputBox({
    ignoreFocusOut: true,
    title: 'New profile (4/4): its databases',
    prompt: 'NAME=PATH pairs separated by commas; paths are relative to the folder (missing files can be made next)',
    value: `app=data/${id}/app.sqlite3`,
    validateInput: (value) => typedDatabases(value).problem,
  });
  if (typed === undefined) throw new UserCancelled();
  return typedDatabases(typed).databases;
}

/** `app=data/app.sqlite3, cache=var/cache.db` as a mapping, or what is wrong with it. */
export function typedDatabases(text: string): { databases: Record<string, string>; problem?: string } {
  const databases: Record<string, string> = {};
  const pairs = text.split(',').map((pair) => pair.trim()).filter(Boolean);
  if (pairs.length === 0) return { databases, problem: 'Give at least one database, as NAME=PATH.' };
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const name = pair.slice(0, at).trim();
    const file = pair.slice(at + 1).trim();
    if (at <= 0 || file === '') return { databases, problem: `"${pair}" is not NAME=PATH.` };
    const nameProblem = databaseNameProblem(name);
    if (nameProblem) return { databases, problem: `${nameProblem}.` };
    if (Object.hasOwn(databases, name)) return { databases, problem: `"${name}" is given twice.` };
    databases[name] = file;
  }
  return { databases };
}
