import { fullValidateProfile, quickValidateProfile, type ValidationProblem } from '../../core/databaseValidation';
import { EnvProfilesError, issueSentence } from '../../core/errors';
import { validateEveryProfile } from '../../core/workspaceValidation';
import type { WorkspaceContext } from '../../core/workspaceContext';
import { loadProfile } from '../../core/profileStore';
import { workspaceConfigFor, type WorkspaceConfig } from '../../core/workspaceConfig';
import type { CliCommand, CommandOutput } from '../cliCommand';
import { missingDatabasesAdvice } from '../missingDatabasesAdvice';
import { counted } from '../../core/counted';
import { missingDatabases } from '../../core/missingDatabases';

const MARK = { ok: 'ok  ', info: 'info', warning: 'WARN', error: 'FAIL' } as const;

export const validateCommand: CliCommand = {
  name: 'validate',
  summary: 'Validate a profile: quick (files, header, schema) or --full (integrity, foreign keys, schema consistency)',
  usage: 'envprofiles validate <id> [--full]\n       envprofiles validate --all [--full]',
  details: [
    'Exit code 0 when valid, 1 when any check fails. Schema differences with other profiles are warnings.',
    '--all validates every profile file of the workspace (one that does not load fails with its problems), one line per profile and a line per problem and warning under it; exit 1 when any is not valid. "validate <id>" then shows one profile\'s every check.',
  ],
  options: { full: { type: 'boolean' }, all: { type: 'boolean' } },
  positionals: [0, 1],
  async run({ context, positionals, options }) {
    const config = workspaceConfigFor(context);
    if (options.all === true) {
      if (positionals.length > 0) throw new EnvProfilesError('USAGE', '--all validates every profile; do not name one too.', { kind: 'usage', hint: 'envprofiles validate --all, or envprofiles validate <id> for one profile.' });
      return validateEvery(context, config, options.full === true ? 'full' : 'quick');
    }
    if (positionals.length === 0) throw new EnvProfilesError('USAGE', 'validate needs a profile id, or --all.', { kind: 'usage', hint: 'Example: envprofiles validate prod_environment_001 --full (or --all for every profile).' });
    const { profile } = loadProfile(context.layout, config, positionals[0]);
    const report = options.full ? await fullValidateProfile(context, config, profile) : quickValidateProfile(context, config, profile);
    const text = [`${report.level === 'full' ? 'Full' : 'Quick'} validation of ${profile.id} (${report.engine}):`];
    for (const db of report.databases) {
      text.push(`  ${db.name} (${db.path})`);
      for (const check of db.checks) text.push(`    ${MARK[check.severity]} ${check.check}: ${check.detail}`);
    }
    // Errors of a database are its checks' lines above; the others (its files: list) are listed here.
    for (const problem of report.problems.filter((p) => p.severity === 'error' && !p.field?.startsWith('profile.databases.'))) text.push(`  FAIL ${problem.message}`);
    for (const problem of report.problems.filter((p) => p.severity === 'warning')) text.push(`  WARN ${problem.message}`);
    text.push(report.ok ? `${profile.id} is valid.` : `${profile.id} is NOT valid: ${counted(report.problems.filter((p) => p.severity === 'error').length, 'problem')}.`);
    const missing = missingDatabases(context.layout, profile.databases);
    if (missing.length > 0) {
      const them = missing.length === 1 ? `${missing[0].path} is missing` : `${missing.length} database files are missing`;
      text.push(`next: ${them}. ${missingDatabasesAdvice(context, profile.id, missing.map((db) => db.name)).join(' ')}`);
    }
    return { json: report, text, exitCode: report.ok ? 0 : 1 };
  },
};

/** validate --all: a line per profile, its errors and warnings under it, and a count. */
async function validateEvery(context: WorkspaceContext, config: WorkspaceConfig, level: 'quick' | 'full'): Promise<CommandOutput> {
  const { ok, profiles } = await validateEveryProfile(context, config, level);
  if (profiles.length === 0) return { json: { ok, level, profiles }, text: [`${context.layout.relative(context.layout.profilesDir)} has no profile files to validate. Create one: envprofiles create <id> --db NAME=PATH.`] };
  const text = [`${level === 'full' ? 'Full' : 'Quick'} validation of ${counted(profiles.length, 'profile')} (${context.engine.name}):`];
  for (const verdict of profiles) {
    const errors = verdict.report?.problems.filter((p) => p.severity === 'error') ?? [];
    const warnings = verdict.report?.problems.filter((p) => p.severity === 'warning') ?? [];
    const warned = warnings.length > 0 ? `, ${counted(warnings.length, 'warning')}` : '';
    text.push(verdict.ok ? `  ${verdict.id}: valid${warned}` : verdict.report ? `  ${verdict.id}: NOT valid, ${counted(errors.length, 'problem')}${warned}` : `  ${verdict.id}: NOT valid: its file does not load`);
    // Each in the words "validate <id>" has for it alone.
    for (const issue of verdict.fileIssues) text.push(`    FAIL ${issueSentence(issue)}`);
    for (const problem of errors) text.push(`    FAIL ${problemText(problem)}`);
    for (const problem of warnings) text.push(`    WARN ${problemText(problem)}`);
  }
  const valid = profiles.filter((p) => p.ok).length;
  text.push(ok ? `All ${counted(profiles.length, 'profile')} ${profiles.length === 1 ? 'is' : 'are'} valid.` : `${valid} of ${counted(profiles.length, 'profile')} ${valid === 1 ? 'is' : 'are'} valid. "envprofiles validate <id>" shows one profile's every check.`);
  return { json: { ok, level, profiles }, text, exitCode: ok ? 0 : 1 };
}

/** A problem of a database named by its logical name (its check alone may not say which database it is). */
function problemText(problem: ValidationProblem): string {
  const database = /^profile\.databases\.(.+)$/.exec(problem.field ?? '')?.[1];
  const named = database === undefined || problem.message.startsWith(`${database}:`) || problem.message.startsWith(`database "${database}"`);
  return named ? problem.message : `${database}: ${problem.message}`;
}
