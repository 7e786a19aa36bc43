import * as vscode from 'vscode';
import { counted } from '../core/counted';
import { initialiseProfileDatabases, type DatabaseInitResult, type InitialiseDatabases } from '../core/profileDatabaseInit';
import { namedFew } from '../core/namedFew';
import { requireTrust, withOperationProgress } from './commandRunner';
import { UserCancelled, type CommandServices } from './commandServices';
import { argumentsOf, resolveProfile } from './commandTargets';
import { missingDatabaseNames } from '../core/missingDatabases';

type MakeMissing = Exclude<InitialiseDatabases, { kind: 'none' }>;

/**
 * Make Missing Databases (envprofiles init-db): the profile's database files that do not exist yet,
 * empty or with the schema of another profile that has every one of them. Scripts pass
 * `{ profileId, data: 'empty' }` or `{ profileId, schemaFrom }` instead of answering the picker.
 */
export async function initialiseDatabasesCommand(services: CommandServices, target: unknown): Promise<DatabaseInitResult | undefined> {
  requireTrust('making databases');
  const { folder, profile } = await resolveProfile(services, target, 'Make the missing databases of which profile?');
  const missing = missingDatabaseNames(folder.context.layout, profile.databases);
  if (missing.length === 0) {
    void vscode.window.showInformationMessage(`Every database of ${profile.name} exists already; nothing was made.`);
    return undefined;
  }
  const args = argumentsOf(target);
  let how: MakeMissing;
  if (args.schemaFrom) how = { kind: 'schema-from', profile: args.schemaFrom };
  else if (args.data === 'empty') how = { kind: 'empty' };
  else {
    // Only profiles that have every missing database can give their schema (init-db refuses the others).
    const sources = folder.validProfiles().filter((p) => p.id !== profile.id && missing.every((logical) => p.databases[logical] !== undefined));
    const chosen = await vscode.window.showQuickPick<vscode.QuickPickItem & { how: MakeMissing }>(
      [
        { label: 'Empty', description: 'SQLite databases with no tables (WAL mode)', how: { kind: 'empty' } },
        ...sources.map((p) => ({ label: `With the schema of ${p.name}`, description: `${p.id} · tables, indexes, views and triggers, no rows`, how: { kind: 'schema-from', profile: p.id } as MakeMissing })),
      ],
      { placeHolder: `Make ${namedFew(missing)} of ${profile.name}, which ${missing.length === 1 ? 'does' : 'do'} not exist yet`, ignoreFocusOut: true },
    );
    if (!chosen) throw new UserCancelled();
    how = chosen.how;
  }
  const result = await withOperationProgress(folder, `Making the missing databases of ${profile.name}`, (context) => initialiseProfileDatabases(context, profile.id, how));
  services.log.info(`init-db ${profile.id}: made ${result.made.join(', ')}${result.schemaFrom ? ` with the schema of ${result.schemaFrom}` : ' empty'}`);
  const message = `Made ${counted(result.made.length, result.schemaFrom ? 'database' : 'empty database')} of ${profile.name}${result.schemaFrom ? ` with the schema of ${result.schemaFrom}` : ''}: ${namedFew(result.made)}. ${result.stillInvalid ? `It does not validate yet (${result.stillInvalid}); switching to it is refused until it does.` : 'It can be switched to and backed up now.'}`;
  // A backup that holds one of them: the data may have been lost, not never made (Restore One Database… puts it back).
  if (result.notes.length > 0 || result.stillInvalid) void vscode.window.showWarningMessage([message, ...result.notes.map((note) => `Note: ${note}`)].join(' '));
  else void vscode.window.showInformationMessage(message);
  return result;
}
