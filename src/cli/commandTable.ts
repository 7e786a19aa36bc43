import type { CliCommand } from './cliCommand';
import { cloneCommand } from './commands/cloneCommand';
import { createCommand } from './commands/createCommand';
import { initCommand } from './commands/initCommand';
import { listCommand } from './commands/listCommand';
import { showCommand } from './commands/showCommand';
import { statusCommand } from './commands/statusCommand';
import { switchCommand } from './commands/switchCommand';
import { validateCommand } from './commands/validateCommand';

/** Every CLI command, in the order `--help` lists them. */
export const COMMANDS: readonly CliCommand[] = [initCommand, createCommand, cloneCommand, listCommand, showCommand, statusCommand, validateCommand, switchCommand];
