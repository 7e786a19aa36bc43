import * as vscode from 'vscode';
import { counted } from '../core/counted';
import { issueSentence } from '../core/errors';
import { workspaceConfigFor } from '../core/workspaceConfig';
import { validateEveryProfile } from '../core/workspaceValidation';
import { withOperationProgress } from './commandRunner';
import type { CommandServices } from './commandServices';

/** What Validate All Profiles found of one profile. */
export interface ProfileValidationOutcome {
  folder: string;
  profile: string;
  ok: boolean;
  /** Its first error, or why its file does not load. */
  firstProblem?: string;
  warnings: number;
}

/**
 * Full validation of every profile of every folder (as `envprofiles validate --all --full`): integrity,
 * foreign keys, and each database's schema against the other profiles'. Every problem goes to the
 * log; a message says how many are valid and names the others with their first problem. The reports
 * replace the tree's quick ones, as Validate Profile does.
 */
export async function validateAllProfilesCommand(services: CommandServices): Promise<ProfileValidationOutcome[]> {
  const outcomes: ProfileValidationOutcome[] = [];
  for (const folder of services.model.initialised()) {
    const { profiles } = await withOperationProgress(folder, `Full validation of every profile in ${folder.name}`, (context) => validateEveryProfile(context, workspaceConfigFor(context), 'full'));
    for (const verdict of profiles) {
      if (verdict.report) folder.rememberValidation(verdict.report);
      const problems = verdict.report?.problems ?? [];
      const errors = [...verdict.fileIssues.map(issueSentence), ...problems.filter((p) => p.severity === 'error').map((p) => p.message)];
      services.log[verdict.ok ? 'info' : 'error'](`full validation of ${verdict.id} in ${folder.name}: ${verdict.ok ? 'valid' : verdict.report ? 'NOT valid' : 'NOT valid: its file does not load'}`);
      for (const error of errors) services.log.error(`  ${error}`);
      for (const problem of problems.filter((p) => p.severity === 'warning')) services.log.warn(`  ${problem.message}`);
      outcomes.push({ folder: folder.name, profile: verdict.id, ok: verdict.ok, firstProblem: errors[0], warnings: problems.length - problems.filter((p) => p.severity === 'error').length });
    }
  }
  const failed = outcomes.filter((o) => !o.ok);
  const warnings = outcomes.reduce((sum, o) => sum + o.warnings, 0);
  const warned = warnings > 0 ? `, ${counted(warnings, 'warning')}: see the log` : '';
  if (outcomes.length === 0) void vscode.window.showInformationMessage('No profiles to validate yet.');
  else if (failed.length === 0) void vscode.window.showInformationMessage(`All ${counted(outcomes.length, 'profile')} ${outcomes.length === 1 ? 'is' : 'are'} valid (full${warned}).`);
  else {
    const named = failed.slice(0, 3).map((o) => `${o.profile} (${o.firstProblem ?? 'not valid'})`).join('; ');
    const more = failed.length > 3 ? `; and ${failed.length - 3} more` : '';
    void vscode.window.showErrorMessage(`${failed.length} of ${counted(outcomes.length, 'profile')} ${failed.length === 1 ? 'is' : 'are'} not valid: ${named}${more}. See the log.`, 'Show Log').then((choice) => choice && services.log.show());
  }
  return outcomes;
}
