import { appendAudit, auditingUnfinished } from './auditLog';
import { createDatabase, type DatabaseSeed } from './databaseInitialisation';
import { BackupLayout } from './backup/backupLayout';
import { newestBackupHolding } from './backup/newestBackupHolding';
import { quickValidateProfile } from './databaseValidation';
import { EnvProfilesError } from './errors';
import { namedFew } from './namedFew';
import { withNewDatabasesJournal, type ClaimNewFile } from './newProfileJournal';
import { refuseNewDatabaseAtOutput } from './outputCollisions';
import { loadProfile } from './profileStore';
import { workspaceConfigFor, type WorkspaceConfig } from './workspaceConfig';
import type { WorkspaceContext } from './workspaceContext';
import { requireInitialised } from './workspaceInit';
import { withWorkspaceLock } from './workspaceSession';
import { missingDatabases, type MissingDatabase } from './missingDatabases';

/** How to bring missing databases into existence: not at all, empty, or with another profile's schema. */
export type InitialiseDatabases = { kind: 'none' } | { kind: 'empty' } | { kind: 'schema-from'; profile: string };

export interface DatabaseInitResult {
  profileId: string;
  /** Logical names of the databases made, in the profile's order. */
  made: string[];
  /** Logical names of those that existed already (left as they were). */
  alreadyThere: string[];
  /** The profile's databases (logical name → path as written), in its order. */
  databases: Record<string, string>;
  seed: 'empty' | 'schema';
  schemaFrom?: string;
  /** What quick validation still finds wrong after the databases were made (an empty database lacks the profile's required tables), if anything. */
  stillInvalid?: string;
  /** Worth telling: backups that hold data of a database just made empty (a lost database is restored, not made anew). */
  notes: string[];
}

/**
 * The note for databases made anew that the profile's backups hold: the data may be lost only from the
 * disk, and a restore of one database puts it back (after a safety backup of the new, empty one).
 */
function heldByBackupsNote(context: WorkspaceContext, config: WorkspaceConfig, profileId: string, made: string[]): string | undefined {
  const holding = newestBackupHolding(new BackupLayout(context.layout, config), profileId, made);
  if (!holding) return undefined;
  const { entry, held } = holding;
  return `backup ${entry.id} holds ${namedFew(held)} as ${held.length === 1 ? 'it was' : 'they were'} when it was taken; if ${held.length === 1 ? 'that database was' : 'those databases were'} lost rather than never made, restore ${held.length === 1 ? 'it' : 'each'} in place of the new one: envprofiles restore ${entry.id} --db ${held[0]}`;
}

/**
 * Makes a profile's `missing` databases (see missingDatabases; `claim`: see withNewProfileJournal),
 * empty or with the schema of another profile's database of the same logical name; returns their
 * logical names.
 */
export async function initialiseMissingDatabases(context: WorkspaceContext, config: WorkspaceConfig, missing: MissingDatabase[], initialise: InitialiseDatabases, claim: ClaimNewFile): Promise<string[]> {
  if (initialise.kind === 'none') return [];
  const schemaSource = initialise.kind === 'schema-from' ? loadProfile(context.layout, config, initialise.profile).profile : undefined;
  // Every source is checked before anything is made, so a profile lacking one leaves nothing half done.
  for (const { name: logical } of missing) {
    if (schemaSource && schemaSource.databases[logical] === undefined) {
      throw new EnvProfilesError('USAGE', `Profile "${schemaSource.id}" has no database "${logical}" to take a schema from; nothing was made.`, { kind: 'usage', hint: `Choose a profile with the same logical databases (${missing.map(({ name }) => name).join(', ')}), or make them empty.` });
    }
  }
  const done: string[] = [];
  for (const { name: logical, path: written } of missing) {
    const target = context.layout.resolve(written);
    const from = schemaSource?.databases[logical];
    const seed: DatabaseSeed = from === undefined ? { kind: 'empty' } : { kind: 'schema', from: context.layout.resolve(from), shown: from, profile: schemaSource?.id };
    context.progress?.(`Initialising ${logical} (${written})`);
    await createDatabase(context.engine, seed, target, written, claim);
    done.push(logical);
  }
  return done;
}

/**
 * Makes the missing databases of an existing profile (one created without --init-db, or whose
 * database was removed), under a journal: all of them or, after a failure or a kill, none. Databases
 * that exist are never touched.
 */
export async function initialiseProfileDatabases(context: WorkspaceContext, profileId: string, initialise: Exclude<InitialiseDatabases, { kind: 'none' }>): Promise<DatabaseInitResult> {
  requireInitialised(context.layout);
  return withWorkspaceLock(context, `init-db ${profileId}`, () =>
    auditingUnfinished(context, 'init-db', () => ({ profile: profileId }), async () => {
      const config = workspaceConfigFor(context);
      const { profile } = loadProfile(context.layout, config, profileId);
      // A misspelt source is said even when nothing is missing (it would be ignored, unnoticed).
      if (initialise.kind === 'schema-from') loadProfile(context.layout, config, initialise.profile);
      const seedFields = initialise.kind === 'schema-from' ? { seed: 'schema' as const, schemaFrom: initialise.profile } : { seed: 'empty' as const };
      const missing = missingDatabases(context.layout, profile.databases);
      const alreadyThere = Object.keys(profile.databases).filter((logical) => !missing.some(({ name }) => name === logical));
      if (missing.length === 0) return { profileId, made: [], alreadyThere, databases: profile.databases, ...seedFields, notes: [] };
      for (const { path: written } of missing) refuseNewDatabaseAtOutput(context.layout, config, written, `Give that database another path in the profile ("envprofiles show ${profileId}" names the file).`);
      const made = await withNewDatabasesJournal(context, profileId, missing.map(({ path }) => context.layout.resolve(path)), (claim) => initialiseMissingDatabases(context, config, missing, initialise, claim));
      appendAudit(context, { event: 'init-db', profile: profileId, outcome: 'ok', detail: `made ${made.join(', ')}${initialise.kind === 'schema-from' ? ` with the schema of ${initialise.profile}` : ' empty'}` });
      const held = heldByBackupsNote(context, config, profileId, made);
      // "It can be switched to now" only when it validates: required tables an empty database lacks keep a switch refused.
      const stillInvalid = quickValidateProfile(context, config, profile).problems.find((p) => p.severity === 'error')?.message;
      return { profileId, made, alreadyThere, databases: profile.databases, ...seedFields, ...(stillInvalid ? { stillInvalid } : {}), notes: held ? [held] : [] };
    }));
}
