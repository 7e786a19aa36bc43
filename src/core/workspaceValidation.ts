import { fullValidateProfile, quickValidateProfile, type ValidationReport } from './databaseValidation';
import type { Issue } from './errors';
import { sharedDatabasesAmong } from './pathOwners';
import { readAllProfileFiles, validProfilesOf } from './profileStore';
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
 * does. The files are read once, and the database files two profiles share are worked out once.
 */
export async function validateEveryProfile(context: WorkspaceContext, config: WorkspaceConfig, level: 'quick' | 'full'): Promise<{ ok: boolean; profiles: ProfileVerdict[] }> {
  const files = readAllProfileFiles(context.layout, config);
  const shared = level === 'quick' ? sharedDatabasesAmong(context.layout, validProfilesOf(files)) : undefined;
  const profiles: ProfileVerdict[] = [];
  for (const result of files) {
    throwIfCancelled(context);
    const file = context.layout.relative(result.file);
    if (!result.profile) {
      profiles.push({ id: result.id, file, ok: false, fileIssues: result.issues });
      continue;
    }
    context.progress?.(`Validating ${result.id}`);
    const report = shared ? quickValidateProfile(context, config, result.profile, shared.get(result.id) ?? []) : await fullValidateProfile(context, config, result.profile);
    profiles.push({ id: result.id, file, ok: report.ok, report, fileIssues: [] });
  }
  return { ok: profiles.every((p) => p.ok), profiles };
}
