import * as vscode from 'vscode';
import { pruneAllProfiles, type AllProfilesPruneResult } from '../core/backup/allProfilesPrune';
import type { ProfileFailure } from '../core/backup/profileFailure';
import { pruneVerificationText } from '../core/backup/pruneVerification';
import { reasonsText } from '../core/backup/retentionPolicy';
import { formatSize } from '../core/diskSpace';
import type { FolderModel } from '../folderModel';
import { requireTrust, withOperationProgress } from './commandRunner';
import { UserCancelled, type CommandServices } from './commandServices';
import { argumentsOf } from './commandTargets';
import { counted } from '../core/counted';

/** Every profile's prune decisions in every initialised folder (a dry run, or the prune itself). */
async function pruneEveryFolder(services: CommandServices, dryRun: boolean): Promise<{ folder: FolderModel; result: AllProfilesPruneResult }[]> {
  const outcomes: { folder: FolderModel; result: AllProfilesPruneResult }[] = [];
  for (const folder of services.model.initialised()) {
    const title = dryRun ? `Deciding what to prune in ${folder.name}` : `Pruning the backups of every profile in ${folder.name}`;
    outcomes.push({ folder, result: await withOperationProgress(folder, title, (context) => pruneAllProfiles(context, dryRun)) });
  }
  return outcomes;
}

function logFailures(services: CommandServices, failures: ProfileFailure[]): void {
  for (const f of failures) services.log.error(`prune ${f.profileId}: cannot be pruned, all its backups are kept: ${f.message}${f.hint ? ` ${f.hint}` : ''}`);
}

/**
 * Prunes every profile's backups by its own keep rules (deleted profiles' too), in every folder: the
 * decisions go to the log, a modal says how many backups of which profiles go and which profiles cannot
 * be pruned (they keep all their backups), then the prune runs on confirmation. Returns the deleted ids.
 */
export async function pruneAllBackupsCommand(services: CommandServices, target: unknown): Promise<string[]> {
  requireTrust('pruning');
  const dry = await pruneEveryFolder(services, true);
  // With several folders, a profile is named with its folder (two folders may have the same id).
  const shown = (folder: FolderModel, id: string): string => (dry.length > 1 ? `${folder.name}: ${id}` : id);
  const results = dry.flatMap(({ folder, result }) => result.results.map((r) => ({ ...r, shown: shown(folder, r.profileId) })));
  const failures = dry.flatMap(({ folder, result }) => result.failures.map((f) => ({ ...f, profileId: shown(folder, f.profileId) })));
  for (const r of results) {
    for (const note of r.notes) services.log.warn(`prune ${r.shown}: ${note}`);
    for (const d of r.decisions) services.log.info(`prune ${r.shown}: ${d.action} ${d.id} — ${reasonsText(d.reasons)}`);
    for (const note of r.verifyFirst) services.log.info(`prune ${r.shown}: ${note}`);
  }
  const unverified = results.filter((r) => r.verifyFirst.length > 0).map((r) => r.shown);
  logFailures(services, failures);
  const doomed = results.map((r) => ({ profileId: r.shown, count: r.decisions.filter((d) => d.action === 'delete').length, of: r.decisions.length, bytes: r.freedBytes })).filter((p) => p.count > 0);
  const total = doomed.reduce((sum, p) => sum + p.count, 0);
  const cannot = failures.length > 0 ? `${failures.length === 1 ? '1 profile cannot be pruned and keeps all its backups' : `${failures.length} profiles cannot be pruned and keep all their backups`}: ${failures.map((f) => `${f.profileId} (${f.message})`).join('; ')}` : '';
  if (total === 0) {
    const message = `Nothing to prune: the keep rules of ${counted(results.length, 'profile')} keep every backup.`;
    if (failures.length > 0) void vscode.window.showWarningMessage(`${message} ${cannot}. See the log.`, 'Show Log').then((c) => c && services.log.show());
    else void vscode.window.showInformationMessage(message);
    return [];
  }
  if (!argumentsOf(target).confirm) {
    const bytes = formatSize(doomed.reduce((sum, p) => sum + p.bytes, 0));
    const detail = [
      ...doomed.map((p) => `${p.profileId}: ${p.count} of ${p.of} (${formatSize(p.bytes)})`),
      '',
      'The newest backup of each profile, its newest verified one and every backup a kept one depends on are never deleted. Every decision and its rule is in the log.',
      ...(unverified.length > 0 ? ['', `No backup of ${unverified.join(', ')} was ever verified: the prune verifies them first, newest first, until one passes, and keeps it (if none passes, that profile keeps all its backups).`] : []),
      ...(cannot ? ['', `${cannot}.`] : []),
    ].join('\n');
    const button = `Delete ${counted(total, 'Backup')}`;
    const answer = await vscode.window.showWarningMessage(`Delete ${counted(total, 'backup')} of ${counted(doomed.length, 'profile')} (${bytes}) that ${doomed.length === 1 ? 'its' : 'their'} keep rules no longer keep?`, { modal: true, detail }, button, 'Show Log');
    if (answer === 'Show Log') services.log.show();
    if (answer !== button) throw new UserCancelled();
  }
  const done = await pruneEveryFolder(services, false);
  const deleted = done.flatMap(({ result }) => result.results.flatMap((r) => r.deleted));
  for (const { folder, result } of done) {
    for (const r of result.results) for (const v of r.verifiedFirst) services.log.info(`prune ${shown(folder, r.profileId)}: verified before pruning: ${pruneVerificationText(v)}`);
  }
  const freed = formatSize(done.flatMap(({ result }) => result.results).reduce((sum, r) => sum + r.freedBytes, 0));
  const stillFailing = done.flatMap(({ folder, result }) => result.failures.map((f) => ({ ...f, profileId: shown(folder, f.profileId) })));
  logFailures(services, stillFailing);
  const message = `Pruned ${counted(deleted.length, 'backup')}, freed ${freed}.`;
  if (stillFailing.length > 0) void vscode.window.showWarningMessage(`${message} ${stillFailing.length === 1 ? '1 profile could not be pruned and keeps all its backups' : `${stillFailing.length} profiles could not be pruned and keep all their backups`} (see the log).`, 'Show Log').then((c) => c && services.log.show());
  else void vscode.window.showInformationMessage(message);
  return deleted;
}
