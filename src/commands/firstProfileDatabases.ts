import * as vscode from 'vscode';
import { readAssignments } from '../core/assignments';
import { sqliteDatabasesIn } from '../core/databaseDiscovery';
import { checkProfilePath } from '../core/pathSafety';
import { databaseNameProblem } from '../core/safeNames';
import { workspaceConfigFor } from '../core/workspaceConfig';
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
    validateInput: (value) => typedDatabases(value, pathProblemIn(folder)).problem,
  });
  if (typed === undefined) throw new UserCancelled();
  return typedDatabases(typed, pathProblemIn(folder)).databases;
}

/** Why a typed path cannot be a database of the folder's profiles (outside it, in .envprofiles, …), said as the profile's validation would. */
function pathProblemIn(folder: FolderModel): (written: string) => string | undefined {
  const { allowedDirectories } = workspaceConfigFor(folder.context);
  return (written) => {
    const verdict = checkProfilePath(folder.context.layout.root, written, allowedDirectories);
    return verdict.ok ? undefined : verdict.reason;
  };
}

/** `app=data/app.sqlite3, cache=var/cache.db` as a mapping, or what is wrong with it. */
export function typedDatabases(text: string, pathProblem: (written: string) => string | undefined = () => undefined): { databases: Record<string, string>; problem?: string } {
  const pairs = text.split(',').map((pair) => pair.trim()).filter(Boolean);
  const { assignments, malformed, twice } = readAssignments(pairs.map((pair) => pair.replace(/\s*=\s*/, '=')));
  const databases = Object.fromEntries(assignments.map((a) => [a.name, a.value]));
  if (pairs.length === 0) return { databases, problem: 'Give at least one database, as NAME=PATH.' };
  if (malformed !== undefined || assignments.some((a) => a.value === '')) return { databases, problem: `"${malformed ?? assignments.find((a) => a.value === '')?.item}" is not NAME=PATH.` };
  if (twice !== undefined) return { databases, problem: `"${twice.item.name}" is given twice.` };
  const nameProblem = assignments.map((a) => databaseNameProblem(a.name)).find((problem) => problem !== undefined);
  if (nameProblem) return { databases, problem: `${nameProblem}.` };
  // Before, only the create that followed said so, in the words of the CLI ("--db jobs: …").
  const badPath = assignments.map((a) => ({ name: a.name, problem: pathProblem(a.value) })).find((p) => p.problem !== undefined);
  return badPath ? { databases, problem: `${badPath.name}: ${badPath.problem}.` } : { databases };
}
