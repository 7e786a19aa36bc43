import { fullValidateProfile, quickValidateProfile } from '../../core/databaseValidation';
import { loadProfile } from '../../core/profileStore';
import { workspaceConfigFor } from '../../core/workspaceConfig';
import type { CliCommand } from '../cliCommand';
import { missingDatabasesAdvice } from '../missingDatabasesAdvice';
import { counted } from '../../core/counted';
import { missingDatabases } from '../../core/missingDatabases';

const MARK = { ok: 'ok  ', info: 'info', warning: 'WARN', error: 'FAIL' } as const;

export const validateCommand: CliCommand = {
  name: 'validate',
  summary: 'Validate a profile: quick (files, header, schema) or --full (integrity, foreign keys, schema consistency)',
  usage: 'envprofiles validate <id> [--full]',
  details: ['Exit code 0 when valid, 1 when any check fails. Schema differences with other profiles are warnings.'],
  options: { full: { type: 'boolean' } },
  positionals: [1, 1],
  async run({ context, positionals, options }) {
    const config = workspaceConfigFor(context);
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
