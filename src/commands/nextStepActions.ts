import type { NextStep } from '../core/errors';
import { COMMANDS, type CommandId } from './commandIds';

/** An error's next step as this extension takes it: a button on the error, and the command it runs. */
export interface NextStepAction {
  label: string;
  command: CommandId;
  args: { profileId: string; keepDamaged?: boolean };
}

/**
 * The command that takes `step` (the core's hint names the CLI's command line, which a VS Code user
 * may not have on the PATH). Each of these asks before it changes anything, or only adds a backup.
 */
export function nextStepAction(step: NextStep): NextStepAction {
  switch (step.action) {
    case 'rebuild-catalog':
      return { label: 'Rebuild Backup Catalog…', command: COMMANDS.rebuildBackupCatalog, args: { profileId: step.profileId } };
    case 'backup':
      return { label: `Back Up ${step.profileId} (Full)`, command: COMMANDS.backupFull, args: { profileId: step.profileId } };
    case 'backup-keeping-damaged':
      return { label: `Back Up ${step.profileId}, Keeping the Damaged File`, command: COMMANDS.backupFull, args: { profileId: step.profileId, keepDamaged: true } };
    case 'validate-full':
      return { label: `Validate ${step.profileId} (Full)`, command: COMMANDS.validateProfileFull, args: { profileId: step.profileId } };
  }
}
