import * as vscode from 'vscode';
import { fullValidateProfile, quickValidateProfile, type ValidationReport } from '../core/databaseValidation';
import { EnvProfilesError } from '../core/errors';
import { cloneProfile, type CloneData } from '../core/profileClone';
import { createProfile } from '../core/profileCreation';
import type { InitialiseDatabases } from '../core/profileDatabaseInit';
import { deleteProfile, type DeleteResult } from '../core/profileDeletion';
import { isProtected, PROFILE_TYPES, type ProfileType } from '../core/profileModel';
import { profileIdProblem, profileNameProblem } from '../core/safeNames';
import { workspaceConfigFor } from '../core/workspaceConfig';
import { initialiseWorkspace } from '../core/workspaceInit';
import { DatabaseNode } from '../tree/databaseNode';
import { InvalidProfileNode } from '../tree/profileNode';
import { backUpAndVerify } from './backupCommands';
import { COMMANDS } from './commandIds';
import { requireTrust, withOperationProgress } from './commandRunner';
import type { FolderModel } from '../folderModel';
import { UserCancelled, type CommandServices } from './commandServices';
import { argumentsOf, askToTypeId, resolveFolder, resolveProfile } from './commandTargets';
import { counted } from '../core/counted';
import { missingDatabaseNames } from '../core/missingDatabases';
import { askFirstProfileDatabases } from './firstProfileDatabases';

async function input(options: vscode.InputBoxOptions, given?: string): Promise<string> {
  if (given !== undefined) return given;
  const value = await vscode.window.showInputBox({ ignoreFocusOut: true, ...options });
  if (value === undefined) throw new UserCancelled();
  return value;
}

async function pick<T extends vscode.QuickPickItem>(items: T[], placeHolder: string): Promise<T> {
  const chosen = await vscode.window.showQuickPick(items, { placeHolder, ignoreFocusOut: true });
  if (!chosen) throw new UserCancelled();
  return chosen;
}

async function pickType(given?: string, placeHolder = 'Which kind of environment?'): Promise<ProfileType> {
  if (given) return given.toUpperCase() as ProfileType;
  const descriptions: Record<ProfileType, string> = { DEVELOPMENT: 'sandbox API, DEBUG logs', TESTING: 'sandbox API, INFO logs', PRODUCTION: 'live API, protected', BACKUP: 'restored copies, API disabled' };
  return (await pick(PROFILE_TYPES.map((t) => ({ label: t, description: descriptions[t] })), placeHolder)).label as ProfileType;
}

/**
 * Checks a new profile's id as it is typed: not a safe name, or taken, is an error; the id of a deleted
 * profile whose backups were kept is a warning (they will list under the new profile).
 */
export function idValidator(folder: FolderModel): (value: string) => string | vscode.InputBoxValidationMessage | undefined {
  return (value) => {
    const problem = profileIdProblem(value);
    if (problem) return problem;
    if (folder.data.profiles.some((p) => p.id === value)) return `A profile "${value}" already exists.`;
    if (!folder.deletedProfilesWithBackups().includes(value)) return undefined;
    const count = folder.backups(value).length;
    return { message: `A deleted profile had this id; its ${counted(count, 'backup')} will list under the new profile, marked "earlier profile". Its first backup will be full.`, severity: vscode.InputBoxValidationSeverity.Warning };
  };
}

export async function initialiseCommand(services: CommandServices, target: unknown): Promise<void> {
  requireTrust('initialising');
  const folder = await resolveFolder(services, target, { initialisedOnly: false });
  const result = initialiseWorkspace(folder.context);
  folder.refresh();
  // What comes next is a profile, when the folder has none yet: offered at once.
  const next = folder.data.profiles.length === 0 ? [CREATE_PROFILE] : [];
  const message = result.created.length ? `Initialised Environment Profiles in ${folder.name}: created ${result.created.join(', ')}.` : `${folder.name} was already initialised.`;
  void vscode.window.showInformationMessage(next.length > 0 ? `${message} Next, create its first profile.` : message, ...next).then((choice) => {
    if (choice === CREATE_PROFILE) void vscode.commands.executeCommand(COMMANDS.createProfile, { folder: folder.folder.uri.fsPath });
  });
}

const CREATE_PROFILE = 'Create Profile…';

const MAKE_MISSING = 'Make Missing Databases…';

/** A result, as a warning when it has notes (they say something the user should act on or know). */
function showWithNotes(message: string, notes: string[]): void {
  if (notes.length === 0) void vscode.window.showInformationMessage(message);
  else void vscode.window.showWarningMessage(`${message} ${notes.join(' ')}`);
}

/** Create, as a multi-step input: id, type, name, how to bring missing databases into existence. */
export async function createProfileCommand(services: CommandServices, target: unknown): Promise<string> {
  requireTrust('creating a profile');
  const folder = await resolveFolder(services, target);
  const args = argumentsOf(target);
  const id = await input({ title: 'New profile (1/4): id', prompt: 'A safe file name: letters, digits, ".", "_", "-"; at least 3 characters', validateInput: idValidator(folder) }, args.newId);
  const type = await pickType(args.type, 'New profile (2/4): type');
  const name = await input({ title: 'New profile (3/4): name', value: id, prompt: 'The name shown in the tree and the status bar', validateInput: (value) => (value.trim() === '' ? 'Give the profile a name.' : profileNameProblem(value)) }, args.name);
  // The first profile of a folder has no other to take its logical databases from: they are asked for.
  const databases = args.databases ?? (folder.validProfiles().length === 0 ? await askFirstProfileDatabases(folder, id) : undefined);
  let initialise: InitialiseDatabases = { kind: 'none' };
  if (!args.newId && (!databases || missingDatabaseNames(folder.context.layout, databases).length > 0)) {
    const others = folder.validProfiles();
    const choice = await pick<vscode.QuickPickItem & { initialise: InitialiseDatabases }>(
      [
        { label: 'Leave missing databases for the application to create', initialise: { kind: 'none' } },
        { label: 'Create them empty', initialise: { kind: 'empty' } },
        ...others.map((p) => ({ label: `Create them with the schema of ${p.name}`, description: p.id, initialise: { kind: 'schema-from', profile: p.id } as InitialiseDatabases })),
      ],
      databases ? 'New profile: some of its database files do not exist yet' : 'New profile (4/4): its databases go to data/<id>/',
    );
    initialise = choice.initialise;
  }
  const result = await withOperationProgress(folder, `Creating ${id}`, (context) => createProfile(context, { id, type, name, databases, initialise }));
  const message = `Created profile ${result.profile.name} (${result.profile.type}).`;
  if (missingDatabaseNames(folder.context.layout, result.profile.databases).length > 0) {
    // The note names the CLI's init-db; here the same is a button.
    void vscode.window.showWarningMessage(`${message} ${result.notes.join(' ')}`, MAKE_MISSING).then((chosen) => chosen && vscode.commands.executeCommand(COMMANDS.initialiseDatabases, { profileId: result.profile.id }));
  } else showWithNotes(message, result.notes);
  return result.profile.id;
}

export async function cloneProfileCommand(services: CommandServices, target: unknown): Promise<string> {
  requireTrust('cloning');
  const { folder, profile } = await resolveProfile(services, target, 'Clone which profile?');
  const args = argumentsOf(target);
  const id = await input({ title: `Clone ${profile.name}: new id`, value: `${profile.id}_copy`, validateInput: idValidator(folder) }, args.newId);
  const type = await pickType(args.type ?? (args.newId ? profile.type : undefined), 'Type of the new environment');
  const data: CloneData = args.data ?? ((await pick([{ label: 'copy', description: 'a consistent copy of every database' }, { label: 'schema', description: 'empty tables, same schema' }, { label: 'empty', description: 'empty databases' }], 'Databases of the clone')).label as CloneData);
  const result = await withOperationProgress(folder, `Cloning ${profile.name} into ${id}`, (context) => cloneProfile(context, { source: profile.id, id, type, data, name: args.name }));
  showWithNotes(`Cloned ${profile.name} into ${result.profile.id} in ${(result.durationMs / 1000).toFixed(1)} s.`, result.notes);
  return result.profile.id;
}

/** Delete: only after a verified backup (offered when missing), with a modal confirmation; production needs the typed id. */
export async function deleteProfileCommand(services: CommandServices, target: unknown): Promise<void> {
  requireTrust('deleting');
  const { folder, profile } = await resolveProfile(services, target, 'Delete which profile?');
  const args = argumentsOf(target);
  let deleteData = false;
  if (!args.profileId) {
    // The confirmation says which backup covers the profile, from a dry run. Without one, the dry run's
    // refusals include NEEDS_BACKUP (offered below: back up, verify, delete); any other is said now.
    const { coveredBy, plan } = await withOperationProgress(folder, `Checking what deleting ${profile.name} would remove`, (context) => deleteProfile(context, { id: profile.id, dryRun: true }));
    const otherRefusals = (plan?.wouldRefuse.length ?? 0) - (coveredBy ? 0 : 1);
    if (plan && otherRefusals > 0) throw new Error(plan.wouldRefuse[0]);
    const covered = coveredBy ? `It is covered by the verified backup ${coveredBy}.` : 'It has no verified backup newer than its last change: you will be asked to let one be made and verified first.';
    const answer = await vscode.window.showWarningMessage(`Delete the profile "${profile.name}" (${profile.id})?`, { modal: true, detail: `${covered} Its backups are always kept. Its database files are kept unless you choose to delete them too.` }, 'Delete Profile', 'Delete Profile and Data');
    if (!answer) throw new UserCancelled();
    deleteData = answer === 'Delete Profile and Data';
  }
  const confirmedId = isProtected(profile) ? await askToTypeId(profile.id, `"${profile.name}" is ${profile.type}. Type its id to delete it.`, args.confirm) : undefined;
  const attempt = () => withOperationProgress(folder, `Deleting ${profile.name}`, (context) => deleteProfile(context, { id: profile.id, confirmedId, deleteData }));
  try {
    reportDeleted(services, profile.name, await attempt());
  } catch (error) {
    if (!(error instanceof EnvProfilesError) || error.code !== 'NEEDS_BACKUP' || (args.profileId && !args.backUpFirst)) throw error;
    if (!args.backUpFirst) {
      const choice = await vscode.window.showWarningMessage(`${profile.name} has no verified backup newer than its last change, so it was not deleted.`, { modal: true }, 'Back Up, Verify and Delete');
      if (!choice) throw new UserCancelled();
    }
    await backUpAndVerify(services, folder, profile.id);
    reportDeleted(services, profile.name, await attempt());
  }
}

/** Says what covers the deleted profile; a warning with the note when there is one (the backup keeps problems its data had, a shared database file was kept). */
function reportDeleted(services: CommandServices, name: string, result: DeleteResult): void {
  if (!result.note) {
    void vscode.window.showInformationMessage(`Deleted ${name}; it is covered by the verified backup ${result.coveredBy}.`);
    return;
  }
  services.log.warn(`delete ${result.id}: ${result.note}`);
  void vscode.window.showWarningMessage(`Deleted ${name}; it is covered by the backup ${result.coveredBy}. Note: ${result.note}.`, 'Show Log').then((c) => c && services.log.show());
}

export async function validateProfileCommand(services: CommandServices, target: unknown, full: boolean): Promise<ValidationReport> {
  const { folder, profile } = await resolveProfile(services, target, `Validate which profile${full ? ' (full)' : ''}?`);
  const report = await withOperationProgress(folder, `${full ? 'Full' : 'Quick'} validation of ${profile.name}`, async (context) => {
    const config = workspaceConfigFor(context);
    return full ? fullValidateProfile(context, config, profile) : quickValidateProfile(context, config, profile);
  });
  folder.rememberValidation(report);
  services.log.info(`${report.level} validation of ${profile.id}: ${report.ok ? 'valid' : 'NOT valid'}`);
  for (const problem of report.problems) services.log[problem.severity === 'error' ? 'error' : 'warn'](`  ${problem.message}`);
  const warnings = report.problems.filter((p) => p.severity === 'warning').length;
  if (report.ok) void vscode.window.showInformationMessage(`${profile.name} is valid (${report.level}${warnings ? `, ${counted(warnings, 'warning')}: see the log` : ''}).`);
  else {
    void vscode.window.showErrorMessage(`${profile.name} is not valid: ${report.problems.find((p) => p.severity === 'error')?.message}`, 'Show Log').then((c) => c && services.log.show());
  }
  return report;
}

export async function openProfileYamlCommand(services: CommandServices, target: unknown): Promise<void> {
  if (target instanceof InvalidProfileNode) {
    await vscode.window.showTextDocument(vscode.Uri.file(target.folder.context.layout.profileFile(target.profileId)));
    return;
  }
  const { folder, profile } = await resolveProfile(services, target, 'Open which profile?');
  await vscode.window.showTextDocument(vscode.Uri.file(folder.context.layout.profileFile(profile.id)));
}

export async function revealDatabaseCommand(services: CommandServices, target: unknown): Promise<void> {
  let uri: vscode.Uri;
  if (target instanceof DatabaseNode) uri = vscode.Uri.file(target.absolutePath);
  else {
    const { folder, profile } = await resolveProfile(services, target, 'Reveal a database of which profile?');
    const names = Object.keys(profile.databases);
    const name = argumentsOf(target).database ?? (names.length === 1 ? names[0] : (await pick(names.map((n) => ({ label: n, description: profile.databases[n] })), 'Which database?')).label);
    uri = vscode.Uri.file(folder.context.layout.resolve(profile.databases[name]));
  }
  await vscode.commands.executeCommand('revealInExplorer', uri);
}
