import type { CliCommand } from './cliCommand';
import { cloneCommand } from './commands/cloneCommand';
import { createCommand } from './commands/createCommand';
import { initDbCommand } from './commands/initDbCommand';
import { initCommand } from './commands/initCommand';
import { listCommand } from './commands/listCommand';
import { showCommand } from './commands/showCommand';
import { statusCommand } from './commands/statusCommand';
import { switchCommand } from './commands/switchCommand';
import { validateCommand } from './commands/validateCommand';
import { backupCommand } from './commands/backupCommand';
import { backupsCommand } from './commands/backupsCommand';
import { verifyCommand } from './commands/verifyCommand';
import { restoreCommand } from './commands/restoreCommand';
import { pruneCommand } from './commands/pruneCommand';
import { deleteCommand } from './commands/deleteCommand';

/** Every CLI command, in the order `--help` lists them. */
export const COMMANDS: readonly CliCommand[] = [initCommand, createCommand, initDbCommand, cloneCommand, listCommand, showCommand, statusCommand, validateCommand, switchCommand, backupCommand, backupsCommand, verifyCommand, restoreCommand, pruneCommand, deleteCommand];
