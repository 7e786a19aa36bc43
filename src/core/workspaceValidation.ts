import { fullValidateProfile, quickValidateProfile, surveyWorkspace, type ValidationReport } from './databaseValidation';
import type { Issue } from './errors';
import { readAllProfileFiles } from './profileStore';
import type { WorkspaceConfig } from './workspaceConfig';
import { throwIfCancelled, type WorkspaceContext } from './workspaceContext';

/** One profile file's verdict: its validation report, or the problems that keep its file from loading. */
export interface ProfileVerdict {
  id: string;
  /** The profile file, relative to the workspace. */
  file: string;
  ok: boolean;
  report?: ValidationReport;
  /** Why the file does not load (YAML, a field): then there is no report. */
  fileIssues: Issue[];
}

/**
 * Validates every profile file of the workspace, in the order of their ids: a file that does not load
 * is a failed verdict with its problems, the others are validated (quick, or full) as `validate <id>`
 * does. The files are read once, and so are the database files two profiles share and each database's
 * schema (a full validation compares it with the other profiles').
 */
export async function validateEveryProfile(context: WorkspaceContext, config: WorkspaceConfig, level: 'quick' | 'full'): Promise<{ ok: boolean; profiles: ProfileVerdict[] }> {
  const files = readAllProfileFiles(context.layout, config);
  const survey = surveyWorkspace(context, config, files);
  const profiles: ProfileVerdict[] = [];
  for (const result of files) {
    throwIfCancelled(context);
    const file = context.layout.relative(result.file);
    if (!result.profile) {
      profiles.push({ id: result.id, file, ok: false, fileIssues: result.issues });
      continue;
    }
    context.progress?.(`Validating ${result.id}`);
    const report = level === 'quick' ? quickValidateProfile(context, config, result.profile, survey.sharedBy(result.profile)) : await fullValidateProfile(context, config, result.profile, survey);
    profiles.push({ id: result.id, file, ok: report.ok, report, fileIssues: [] });
  }
  return { ok: profiles.every((p) => p.ok), profiles };
}
