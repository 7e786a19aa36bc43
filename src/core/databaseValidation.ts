import { inspectDatabase, runFullChecks, type DatabaseInspection, type SchemaShape } from './databaseInspection';
import type { Issue } from './errors';
import type { Profile } from './profileModel';
import { readAllProfileFiles, readProfileFile, validProfilesOf, type ProfileFileResult } from './profileStore';
import { compareSchemas, describeDifference, type SchemaDifference } from './schemaConsistency';
import type { WorkspaceConfig } from './workspaceConfig';
import type { WorkspaceContext } from './workspaceContext';
import { pathKind } from './pathKind';
import { missingFileReason, notAFileProblem } from './profileFiles';
import { outputAtDatabasePath } from './outputCollisions';
import { sharedDatabasesAmong, sharedDatabaseWarnings, type SharedDatabase } from './pathOwners';

export interface ValidationProblem {
  file: string;
  field?: string;
  severity: 'error' | 'warning';
  message: string;
}

/** A warning of a profile file as validate, switch and show say it: `protect: is not a profile key, …`. */
export function profileWarningText(warning: Issue): string {
  return `${warning.field?.replace(/^profile\./, '') ?? ''}: ${warning.message}`;
}

export interface ValidationReport {
  profile: string;
  level: 'quick' | 'full';
  ok: boolean;
  engine: string;
  databases: DatabaseInspection[];
  schemaDifferences: SchemaDifference[];
  problems: ValidationProblem[];
}

function inspectAll(context: WorkspaceContext, profile: Profile): DatabaseInspection[] {
  return Object.entries(profile.databases).map(([name, written]) => {
    context.progress?.(`Checking ${name} (${written})`);
    return inspectDatabase(context.engine, name, written, context.layout.resolve(written), Object.hasOwn(profile.requiredTables, name) ? profile.requiredTables[name] : []);
  });
}

function collectProblems(context: WorkspaceContext, config: WorkspaceConfig, profile: Profile, databases: DatabaseInspection[], sharedDatabases: readonly SharedDatabase[]): ValidationProblem[] {
  const file = context.layout.relative(context.layout.profileFile(profile.id));
  const problems: ValidationProblem[] = [];
  for (const db of databases) {
    for (const check of db.checks) {
      if (check.severity === 'error' || check.severity === 'warning') {
        problems.push({ file, field: `profile.databases.${db.name}`, severity: check.severity, message: check.detail });
      }
    }
  }
  // A database kept where a switch writes an output would be replaced by the next switch.
  for (const [name, written] of Object.entries(profile.databases)) {
    const output = outputAtDatabasePath(context.layout, config, written);
    if (output) problems.push({ file, field: `profile.databases.${name}`, severity: 'error', message: `${written} is where a switch writes ${output}, so every switch replaces it: give ${name} a path of its own` });
  }
  for (const shared of sharedDatabases) problems.push({ file, field: `profile.databases.${shared.logicalName}`, severity: 'warning', message: shared.message });
  // The file's warnings (a misspelt key), as its parse found them.
  for (const warning of readProfileFile(context.layout, config, profile.id).warnings ?? []) {
    problems.push({ file, field: warning.field, severity: 'warning', message: profileWarningText(warning) });
  }
  profile.files.forEach((written, index) => {
    const state = pathKind(context.layout.resolve(written));
    if (state === 'missing') problems.push({ file, field: `profile.files.${index}`, severity: 'warning', message: `${written} ${missingFileReason(written)}, so backups of the profile will not hold it` });
    else if (state !== 'file') {
      const { message, hint } = notAFileProblem(written, state);
      problems.push({ file, field: `profile.files.${index}`, severity: 'error', message: `${message}: ${hint}` });
    }
  });
  return problems;
}

/**
 * Quick validation: every database exists, is SQLite, opens, and its schema is readable and complete.
 * `sharedDatabases`: the profile's databases that others use too, when the caller knows them already
 * (sharedDatabasesAmong: validating each of many profiles would read every profile file each time).
 */
export function quickValidateProfile(context: WorkspaceContext, config: WorkspaceConfig, profile: Profile, sharedDatabases?: readonly SharedDatabase[]): ValidationReport {
  const databases = inspectAll(context, profile);
  const problems = collectProblems(context, config, profile, databases, sharedDatabases ?? sharedDatabaseWarnings(context, profile));
  return { profile: profile.id, level: 'quick', ok: !problems.some((p) => p.severity === 'error'), engine: context.engine.name, databases, schemaDifferences: [], problems };
}

/**
 * What a full validation compares a profile with: the workspace's valid profiles, and the schema of
 * each of their databases, each read once however many profiles are compared with it (validate --all
 * compared every profile with every other: 63 profiles read 11,000 schemas, 9 s).
 */
export interface WorkspaceSurvey {
  profiles: Profile[];
  schemaAt(logical: string, written: string): SchemaShape | undefined;
  /** The profile's databases that other profiles use too. */
  sharedBy(profile: Profile): readonly SharedDatabase[];
}

export function surveyWorkspace(context: WorkspaceContext, config: WorkspaceConfig, files: readonly ProfileFileResult[] = readAllProfileFiles(context.layout, config)): WorkspaceSurvey {
  const profiles = validProfilesOf(files);
  const schemas = new Map<string, SchemaShape | undefined>();
  let shared: Map<string, SharedDatabase[]> | undefined;
  return {
    profiles,
    sharedBy(profile) {
      // One of them is looked up in what was worked out for all at once; another (a profile not read from these files) on its own.
      if (!profiles.includes(profile)) return sharedDatabaseWarnings(context, profile, profiles);
      shared ??= sharedDatabasesAmong(context.layout, profiles);
      return shared.get(profile.id) ?? [];
    },
    schemaAt(logical, written) {
      const absolute = context.layout.resolve(written);
      if (!schemas.has(absolute)) schemas.set(absolute, inspectDatabase(context.engine, logical, written, absolute, []).schema);
      return schemas.get(absolute);
    },
  };
}

/**
 * Full validation: quick checks plus integrity_check, foreign_key_check, and schema consistency with
 * the same logical databases of the workspace's other profiles (differences are warnings).
 */
export async function fullValidateProfile(context: WorkspaceContext, config: WorkspaceConfig, profile: Profile, survey: WorkspaceSurvey = surveyWorkspace(context, config)): Promise<ValidationReport> {
  const databases = inspectAll(context, profile);
  for (const db of databases) {
    context.progress?.(`Checking ${db.name} (integrity_check, foreign_key_check)`);
    await runFullChecks(context.engine, db);
  }
  const problems = collectProblems(context, config, profile, databases, survey.sharedBy(profile));
  const schemaDifferences: SchemaDifference[] = [];
  const file = context.layout.relative(context.layout.profileFile(profile.id));
  for (const other of survey.profiles) {
    if (other.id === profile.id) continue;
    for (const db of databases) {
      const otherPath = other.databases[db.name];
      if (!db.schema || otherPath === undefined) continue;
      const theirs = survey.schemaAt(db.name, otherPath);
      if (!theirs) continue;
      const difference = compareSchemas(db.name, other.id, db.schema, theirs);
      if (difference) {
        schemaDifferences.push(difference);
        problems.push({ file, field: `profile.databases.${db.name}`, severity: 'warning', message: describeDifference(difference) });
      }
    }
  }
  return { profile: profile.id, level: 'full', ok: !problems.some((p) => p.severity === 'error'), engine: context.engine.name, databases, schemaDifferences, problems };
}
