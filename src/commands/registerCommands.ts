import * as vscode from 'vscode';
import { copyArchivePathCommand, revealArchiveCommand, showBackupManifestCommand } from './backupArchiveCommands';
import { COMMANDS, type CommandId } from './commandIds';
import { guarded } from './commandRunner';
import type { CommandServices } from './commandServices';
import { backupCommand, emergencyBackupCommand, pruneBackupsCommand, rebuildBackupCatalogCommand, restoreBackupCommand, verifyBackupCommand, verifyUnverifiedBackupsCommand } from './backupCommands';
import { cloneProfileCommand, createProfileCommand, deleteProfileCommand, initialiseCommand, openProfileYamlCommand, revealDatabaseCommand, validateProfileCommand } from './profileCommands';
import { initialiseDatabasesCommand } from './initialiseDatabasesCommand';
import { pruneAllBackupsCommand } from './pruneAllCommand';
import { verifyAllBackupsCommand } from './verifyAllCommand';
import { validateAllProfilesCommand } from './validateAllCommand';
import { switchProfileCommand } from './switchProfileCommand';

type Handler = (services: CommandServices, target: unknown) => Promise<unknown>;

/** One handler per command id; every registration goes into the extension's subscriptions. */
const HANDLERS: Record<CommandId, Handler> = {
  [COMMANDS.initialise]: initialiseCommand,
  [COMMANDS.createProfile]: createProfileCommand,
  [COMMANDS.cloneProfile]: cloneProfileCommand,
  [COMMANDS.switchProfile]: switchProfileCommand,
  [COMMANDS.deleteProfile]: deleteProfileCommand,
  [COMMANDS.initialiseDatabases]: initialiseDatabasesCommand,
  [COMMANDS.validateProfile]: (s, t) => validateProfileCommand(s, t, false),
  [COMMANDS.validateProfileFull]: (s, t) => validateProfileCommand(s, t, true),
  [COMMANDS.validateAllProfiles]: validateAllProfilesCommand,
  [COMMANDS.backupFull]: (s, t) => backupCommand(s, t, 'full'),
  [COMMANDS.backupIncremental]: (s, t) => backupCommand(s, t, 'incremental'),
  [COMMANDS.emergencyBackup]: (s) => emergencyBackupCommand(s),
  [COMMANDS.verifyBackup]: verifyBackupCommand,
  [COMMANDS.restoreBackup]: (s, t) => restoreBackupCommand(s, t, 'over'),
  [COMMANDS.restoreBackupAsNew]: (s, t) => restoreBackupCommand(s, t, 'as-new'),
  [COMMANDS.restoreDatabase]: (s, t) => restoreBackupCommand(s, t, 'database'),
  [COMMANDS.pruneBackups]: pruneBackupsCommand,
  [COMMANDS.pruneAllBackups]: pruneAllBackupsCommand,
  [COMMANDS.rebuildBackupCatalog]: rebuildBackupCatalogCommand,
  [COMMANDS.verifyUnverifiedBackups]: verifyUnverifiedBackupsCommand,
  [COMMANDS.verifyAllBackups]: verifyAllBackupsCommand,
  [COMMANDS.openProfileYaml]: openProfileYamlCommand,
  [COMMANDS.revealDatabase]: revealDatabaseCommand,
  [COMMANDS.revealArchive]: revealArchiveCommand,
  [COMMANDS.copyArchivePath]: copyArchivePathCommand,
  [COMMANDS.showBackupManifest]: showBackupManifestCommand,
  [COMMANDS.showLog]: async (s) => s.log.show(),
  [COMMANDS.refresh]: async (s) => s.model.refreshAll(),
};

export function registerCommands(context: vscode.ExtensionContext, services: CommandServices): void {
  for (const [id, handler] of Object.entries(HANDLERS)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, guarded(services, id, (target) => handler(services, target))));
  }
}
