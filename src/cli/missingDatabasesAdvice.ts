import { BackupLayout } from '../core/backup/backupLayout';
import { newestBackupHolding } from '../core/backup/newestBackupHolding';
import { namedFew } from '../core/namedFew';
import { workspaceConfigFor } from '../core/workspaceConfig';
import type { WorkspaceContext } from '../core/workspaceContext';

/**
 * How to get back a profile's databases whose files are gone (`status`, `validate`): from the newest
 * backup that holds them, and those no backup holds made anew (or the path fixed). One sentence each.
 */
export function missingDatabasesAdvice(context: WorkspaceContext, profileId: string, names: string[]): string[] {
  const holding = newestBackupHolding(new BackupLayout(context.layout, workspaceConfigFor(context)), profileId, names);
  const advice: string[] = [];
  if (holding) advice.push(`Restore ${holding.held.length === 1 ? 'it' : 'them'} from the newest backup that holds ${holding.held.length === 1 ? 'it' : 'them'}: ${holding.held.map((name) => `envprofiles restore ${holding.entry.id} --db ${name}`).join('; ')}`);
  const notHeld = names.filter((name) => !holding?.held.includes(name));
  if (notHeld.length > 0) advice.push(`No backup holds ${holding ? namedFew(notHeld) : notHeld.length === 1 ? 'it' : 'them'}: make ${notHeld.length === 1 ? 'it' : 'them'} anew (envprofiles init-db ${profileId} [--schema-from <profile>]), or fix the path in the profile.`);
  return advice;
}
