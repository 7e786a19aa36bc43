import * as path from 'node:path';
import { readActiveState, type ActiveState } from './activeState';
import { appendAudit, auditedAlready, auditingUnfinished } from './auditLog';
import { confirmationRequiredError, refuseMisdirectedConfirmation } from './misdirectedConfirmation';
import { replaceSymlinkAtomic, writeFileAtomic } from './atomicFile';
import { quickValidateProfile } from './databaseValidation';
import { EnvProfilesError, isEnvProfilesError, reworded } from './errors';
import { isGeneratedEnvFile } from './envFileFormat';
import { removeJournal, writeJournal, type SwitchJournal } from './operationJournal';
import { isProtected, type Profile } from './profileModel';
import { loadProfile, readAllProfileFiles, readProfileFile, validProfilesOf } from './profileStore';
import { sharedDatabaseWarnings } from './pathOwners';
import { backUpProfile } from './backup/backupCreation';
import { joinedNotes } from './joinedNotes';
import { rollBackSwitch } from './switchRollback';
import { captureOutput, envFileEditedSinceSwitch, planOutputs, type OutputSnapshot, type PlannedOutput } from './switchOutputs';
import { checkBusyGuard } from './busyGuard';
import { checkOutputsReplaceOnlyOutputs, refuseOversizedOutputs } from './outputCollisions';
import { workspaceConfigFor, type WorkspaceConfig } from './workspaceConfig';
import type { WorkspaceContext } from './workspaceContext';
import { withWorkspaceLock } from './workspaceSession';

import { SWITCH_JOURNAL } from './switchRollback';

export interface SwitchOptions {
  /** The id the user typed to confirm a protected profile; must equal the target id. */
  confirmedId?: string;
}

export interface SwitchResult {
  from: string | null;
  to: string;
  profile: Profile;
  outputs: string[];
  /** Where the env file the switch replaced was kept aside, when it was (see keepReplacedEnvFileAside). */
  envFileBackup?: string;
  /** Why it was: this tool did not write it, or it was edited after the last switch wrote it. */
  envFileBackupReason?: EnvFileBackupReason;
  /** The backup taken of the profile being left, when one was asked for. */
  beforeSwitchBackup?: string;
  /** What that backup says (a database file of the profile left that was gone, and so left out), one sentence each. */
  beforeSwitchNotes?: string[];
  /** The same in one line (as before beforeSwitchNotes). */
  beforeSwitchNote?: string;
  /** The warnings of the profile's validation (the switch is not refused for them), one sentence each. */
  warnings: string[];
  durationMs: number;
}

/**
 * Switches the active profile as a transaction: validate, check guards, journal, apply every output
 * atomically, commit. Any failure restores every output byte for byte; a killed process leaves the
 * journal, from which the next command rolls back (or finishes a committed switch).
 */
export async function switchProfile(context: WorkspaceContext, id: string, options: SwitchOptions = {}): Promise<SwitchResult> {
  // Refused or failed at any step before its journal (validation, the guard, an output conflict, the
  // backup of the profile left): in the audit log (before, only refusals up to the guard were).
  return withWorkspaceLock(context, `switch to ${id}`, () => auditingUnfinished(context, 'switch', () => ({ profile: id }), () => runSwitch(context, id, options)));
}

async function runSwitch(context: WorkspaceContext, id: string, options: SwitchOptions): Promise<SwitchResult> {
  const started = performance.now();
  const { layout } = context;
  const step = (name: string): void => context.onStep?.(name);
  const config = workspaceConfigFor(context);
  const { profile } = loadProfile(layout, config, id);
  const state = readActiveState(layout);
  const from = state.active;
  if (!isProtected(profile)) refuseMisdirectedConfirmation(options.confirmedId, id, 'this switch is to');

  // Every profile file, read once for the checks against the other profiles (shared databases, outputs at their paths).
  const profileFiles = readAllProfileFiles(layout, config);
  const report = quickValidateProfile(context, config, profile, sharedDatabaseWarnings(context, profile, validProfilesOf(profileFiles)));
  if (!report.ok) {
    // What refuses the switch comes first (the errors); warnings follow for the record.
    const ordered = [...report.problems.filter((p) => p.severity === 'error'), ...report.problems.filter((p) => p.severity !== 'error')];
    const errors = ordered.filter((p) => p.severity === 'error').length;
    throw new EnvProfilesError('VALIDATION_FAILED', `Profile "${id}" failed validation: ${ordered[0].message.replace(/\.$/, '')}${errors > 1 ? ` (and ${errors - 1} more)` : ''}.`, {
      hint: `Run "envprofiles validate ${id}" for the full report; nothing was changed.`,
      issues: ordered.map((p) => ({ file: p.file, field: p.field, message: p.message })),
    });
  }
  step('validated');
  checkBusyGuard(context, config, 'switch');
  if (isProtected(profile) && options.confirmedId !== profile.id) {
    throw confirmationRequiredError(`Profile "${id}" is ${profile.type === 'PRODUCTION' ? 'a PRODUCTION profile' : 'protected'}; switching to it needs confirmation.`, id, options.confirmedId, `Repeat with --confirm ${id} (typing the id is the confirmation).`);
  }
  step('guards-checked');

  const switchedAt = context.now().toISOString();
  const planned = planOutputs(layout, config, profile, switchedAt);
  const captured = (): Array<PlannedOutput & { before: OutputSnapshot }> => {
    refuseOversizedOutputs(context, planned);
    return planned.map((output) => ({ ...output, before: captureOutput(output.path, output.label) }));
  };
  let outputs = captured();
  checkOutputsReplaceOnlyOutputs(context, config, outputs, profileFiles);
  // Only a switch that nothing refuses backs up the profile it leaves; what is there after that backup
  // (it may take minutes) is what a rollback puts back.
  const { id: beforeSwitchBackup, notes: beforeSwitchNotes } = (await backUpProfileBeingLeft(context, config, from, id)) ?? {};
  const beforeSwitchNote = beforeSwitchNotes ? joinedNotes(beforeSwitchNotes) : undefined;
  if (beforeSwitchBackup !== undefined) {
    outputs = captured();
    checkOutputsReplaceOnlyOutputs(context, config, outputs);
  }
  const { file: envFileBackup, reason: envFileBackupReason } = keepReplacedEnvFileAside(context, outputs, state) ?? {};

  const journal: SwitchJournal = { operation: 'switch', phase: 'prepared', startedAt: switchedAt, from, to: id, outputs };
  writeJournal(layout, SWITCH_JOURNAL, journal);
  try {
    step('journal-written');
    for (const output of outputs) {
      applyOutput(output);
      step(`applied:${output.role}:${output.label}`);
    }
    writeJournal(layout, SWITCH_JOURNAL, { ...journal, phase: 'committed' });
  } catch (error) {
    rollBackSwitch(context, journal);
    appendAudit(context, { event: 'switch', profile: id, outcome: 'rolled-back', detail: (error as Error).message });
    throw auditedAlready(error);
  }
  // Past the commit point: an interruption from here on is finished, not rolled back, by the next command.
  step('committed');
  appendAudit(context, { event: 'switch', profile: id, outcome: 'ok', detail: from ? `from ${from}` : undefined });
  removeJournal(layout, SWITCH_JOURNAL);
  context.logger.info(from === id ? `Wrote the outputs of ${id} again (it was already the active profile).` : `Switched to ${id}${from ? ` from ${from}` : ''}.`);
  // What validation warned of (a database another profile shares, a misspelt key): the switch goes on, and says so.
  const warnings = report.problems.filter((p) => p.severity === 'warning').map((p) => p.message);
  return { from, to: id, profile, outputs: outputs.map((o) => o.label), envFileBackup, envFileBackupReason, beforeSwitchBackup, ...(beforeSwitchNotes?.length ? { beforeSwitchNotes } : {}), beforeSwitchNote, warnings, durationMs: performance.now() - started };
}

/** Backs up the profile being left when config.yaml (backups.before_switch) or that profile (backup_schedule.before_switch) asks. */
async function backUpProfileBeingLeft(context: WorkspaceContext, config: WorkspaceConfig, from: string | null, to: string): Promise<{ id: string; notes: string[] } | undefined> {
  if (!from || from === to) return undefined;
  const leaving = readProfileFile(context.layout, config, from).profile;
  if (!leaving) return undefined;
  if (!config.backups.beforeSwitch && leaving.backupSchedule?.before_switch !== true) return undefined;
  context.progress?.(`Backing up ${from} before switching away from it`);
  // A database file of the profile left that is gone has nothing to save, and must not keep the user
  // from switching away from a broken profile: it is left out (and named); a damaged one is kept as found.
  try {
    const result = await backUpProfile(context, config, leaving, 'auto', 'before-switch', { leaveOutMissing: true, keepDamaged: true });
    return { id: result.entry.id, notes: result.notes };
  } catch (error) {
    if (!isEnvProfilesError(error) || error.code === 'CANCELLED') throw error;
    // Say that it was the switch that stopped, why a backup was taken, and how to switch without one.
    const [setting, file] = config.backups.beforeSwitch ? ['backups.before_switch', context.layout.configFile] : ['backup_schedule.before_switch', context.layout.profileFile(from)];
    throw reworded(error, `The switch to ${to} was refused: ${setting} in ${context.layout.relative(file)} asks for a backup of ${from} first, and it could not be made. ${error.message}`, `${error.hint ? `${error.hint} ` : ''}To switch without that backup, set ${setting} to false.`);
  }
}

function applyOutput(output: PlannedOutput): void {
  if (output.after.kind === 'symlink') replaceSymlinkAtomic(output.path, output.after.target);
  else writeFileAtomic(output.path, output.after.content);
}

export type EnvFileBackupReason = 'not-written-by-us' | 'edited-since-switch';

/** Why the replaced env file was kept aside, in words: "the previous env file …". */
export const ENV_FILE_BACKUP_REASON_TEXT: Record<EnvFileBackupReason, string> = {
  'not-written-by-us': 'was not written by Environment Profiles',
  'edited-since-switch': 'had been edited since the last switch wrote it',
};

/**
 * Copies the env file aside before the switch replaces it when what it holds would be lost otherwise:
 * a file this tool did not write (before it is first replaced), or one a switch wrote that was edited
 * since (state.json records what that switch wrote; a secret added by hand was dropped without a trace).
 */
function keepReplacedEnvFileAside(context: WorkspaceContext, outputs: (PlannedOutput & { before: OutputSnapshot })[], state: ActiveState): { file: string; reason: EnvFileBackupReason } | undefined {
  const envOutput = outputs.find((o) => o.role === 'env-file');
  if (!envOutput || envOutput.before.kind !== 'file' || envOutput.after.kind !== 'file') return undefined;
  const content = Buffer.from(envOutput.before.contentBase64, 'base64');
  let reason: EnvFileBackupReason;
  if (!isGeneratedEnvFile(content.toString('utf8'))) reason = 'not-written-by-us';
  else if (envFileEditedSinceSwitch(state, envOutput.label, content) && !content.equals(Buffer.from(envOutput.after.content))) reason = 'edited-since-switch';
  else return undefined;
  const stamp = context.now().toISOString().replace(/[:.]/g, '-');
  const backup = path.join(context.layout.envBackupsDir, `${path.basename(envOutput.path)}.${stamp}`);
  writeFileAtomic(backup, content, envOutput.before.mode);
  context.logger.info(`The existing ${envOutput.label} ${ENV_FILE_BACKUP_REASON_TEXT[reason]}; it was saved to ${context.layout.relative(backup)}.`);
  return { file: context.layout.relative(backup), reason };
}
