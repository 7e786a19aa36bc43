import { createBackup } from '../../src/core/backup/backupCreation';
import { pruneBackups } from '../../src/core/backup/backupPruning';
import { restoreBackup } from '../../src/core/backup/backupRestore';
import { verifyBackup } from '../../src/core/backup/backupVerification';
import { isEnvProfilesError } from '../../src/core/errors';
import { backUpAllProfiles } from '../../src/core/backup/allProfilesBackup';
import { cloneProfile } from '../../src/core/profileClone';
import { deleteProfile } from '../../src/core/profileDeletion';
import { switchProfile } from '../../src/core/switchTransaction';
import type { WorkspaceContext } from '../../src/core/workspaceContext';
import { runCli } from './cliRunner';

/**
 * The backup commands as a test drives them, each either in this process (the core, as the extension
 * calls it) or through the built CLI (`--json`), answering alike: a refusal is thrown as a `Refusal`
 * (a typed error with its code), anything else (a crash, a CLI run without a typed answer) as an Error.
 */

export class Refusal extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** The refusal `error` is, if it is one (typed, with a code): undefined for a crash. */
export function refusalOf(error: unknown): Refusal | undefined {
  if (error instanceof Refusal) return error;
  if (isEnvProfilesError(error)) return new Refusal(error.code, error.message);
  return undefined;
}

export interface MadeBackup { id: string; kind: string; chainLength: number; leftOut: string[] }

export interface BackupCommands {
  readonly how: 'core' | 'cli';
  backup(profileId: string, kind: 'auto' | 'full' | 'incremental', options: { leaveOutMissing: boolean; keepDamaged: boolean }): Promise<MadeBackup>;
  verify(id: string): Promise<{ ok: boolean; detail: string }>;
  restore(id: string, options?: { asNew?: string; database?: string; confirm?: string }): Promise<{ safetyBackup?: string; notes: string[] }>;
  prune(profileId: string): Promise<string[]>;
  deleteWithData(profileId: string): Promise<string | undefined>;
  delete(profileId: string, options: { deleteData: boolean; confirm?: string }): Promise<string | undefined>;
  switchTo(profileId: string, confirm?: string): Promise<MadeSwitch>;
  /** `backup --all`: the backups made, and the profiles that failed. */
  backupAll(): Promise<{ made: Array<MadeBackup & { profileId: string }>; failed: string[] }>;
  /** Clones with a copy of the data: the new profile's databases, by name. */
  clone(source: string, id: string): Promise<Record<string, string>>;
}

export interface MadeSwitch { from: string | null; envFileBackup?: string; envFileBackupReason?: string; beforeSwitchBackup?: string }

async function typed<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw refusalOf(error) ?? error;
  }
}

export function inProcess(context: WorkspaceContext): BackupCommands {
  return {
    how: 'core',
    backup: (profileId, kind, options) => typed(async () => {
      const made = await createBackup(context, { profileId, kind, ...options });
      return { id: made.entry.id, kind: made.entry.kind, chainLength: made.entry.chain.length, leftOut: (made.leftOut ?? []).map((d) => d.logicalName) };
    }),
    verify: (id) => typed(async () => {
      const result = await verifyBackup(context, id);
      return { ok: result.ok, detail: JSON.stringify(result.problems) };
    }),
    restore: (id, { confirm, ...options } = {}) => typed(async () => {
      const result = await restoreBackup(context, { reference: id, ...options, confirmedId: confirm });
      return { safetyBackup: result.safetyBackup, notes: result.notes };
    }),
    prune: (profileId) => typed(async () => (await pruneBackups(context, profileId, false)).deleted),
    deleteWithData: (profileId) => typed(async () => (await deleteProfile(context, { id: profileId, deleteData: true })).coveredBy),
    delete: (profileId, options) => typed(async () => (await deleteProfile(context, { id: profileId, deleteData: options.deleteData, confirmedId: options.confirm })).coveredBy),
    switchTo: (profileId, confirm) => typed(async () => {
      const result = await switchProfile(context, profileId, { confirmedId: confirm });
      return { from: result.from, envFileBackup: result.envFileBackup, envFileBackupReason: result.envFileBackupReason, beforeSwitchBackup: result.beforeSwitchBackup };
    }),
    backupAll: () => typed(async () => {
      const result = await backUpAllProfiles(context, 'auto', 'all');
      return {
        made: result.results.map((made) => ({ profileId: made.entry.profileId, id: made.entry.id, kind: made.entry.kind, chainLength: made.entry.chain.length, leftOut: (made.leftOut ?? []).map((d) => d.logicalName) })),
        failed: result.failures.map((failure) => failure.profileId),
      };
    }),
    clone: (source, id) => typed(async () => (await cloneProfile(context, { source, id, data: 'copy' })).databases),
  };
}

export function throughCli(root: string): BackupCommands {
  const run = (args: string[]): any => {
    const done = runCli([...args, '--json'], { cwd: root });
    if (done.json?.ok === true) return done.json.result;
    if (done.json?.ok === false && typeof done.json.error?.code === 'string') throw new Refusal(done.json.error.code, done.json.error.message);
    throw new Error(`envprofiles ${args.join(' ')} ended with ${done.status} and no typed answer: ${done.stdout}\n${done.stderr}`);
  };
  return {
    how: 'cli',
    backup: async (profileId, kind, options) => {
      const made = run(['backup', profileId, ...(kind === 'auto' ? [] : [`--${kind}`]), ...(options.leaveOutMissing ? ['--skip-missing'] : []), ...(options.keepDamaged ? ['--keep-damaged'] : [])]);
      return { id: made.id, kind: made.kind, chainLength: made.chain.length, leftOut: made.leftOut ?? [] };
    },
    verify: async (id) => {
      // A failed verify exits 1 with its findings as the result, not as a refusal.
      const done = runCli(['verify', id, '--json'], { cwd: root });
      if (done.json?.ok === true || (done.json?.result && typeof done.json.result.ok === 'boolean')) return { ok: done.json.result.ok === true, detail: JSON.stringify(done.json.result.problems) };
      if (done.json?.ok === false && typeof done.json.error?.code === 'string') throw new Refusal(done.json.error.code, done.json.error.message);
      throw new Error(`envprofiles verify ${id} ended with ${done.status} and no typed answer: ${done.stdout}\n${done.stderr}`);
    },
    restore: async (id, options = {}) => {
      const result = run(['restore', id, ...(options.asNew ? ['--as-new', options.asNew] : []), ...(options.database ? ['--db', options.database] : []), ...(options.confirm ? ['--confirm', options.confirm] : [])]);
      return { safetyBackup: result.safetyBackup, notes: result.notes ?? [] };
    },
    prune: async (profileId) => run(['prune', profileId]).deleted,
    deleteWithData: async (profileId) => run(['delete', profileId, '--delete-data']).coveredBy,
    delete: async (profileId, options) => run(['delete', profileId, ...(options.deleteData ? ['--delete-data'] : []), ...(options.confirm ? ['--confirm', options.confirm] : [])]).coveredBy,
    switchTo: async (profileId, confirm) => {
      const result = run(['switch', profileId, ...(confirm ? ['--confirm', confirm] : [])]);
      return { from: result.from, envFileBackup: result.envFileBackup, envFileBackupReason: result.envFileBackupReason, beforeSwitchBackup: result.beforeSwitchBackup };
    },
    backupAll: async () => {
      // Exit 1 when a profile failed or was saved without every database: the result says which.
      const done = runCli(['backup', '--all', '--json'], { cwd: root });
      const result = done.json?.result;
      if (!Array.isArray(result?.backups)) throw new Error(`envprofiles backup --all ended with ${done.status} and no typed answer: ${done.stdout}\n${done.stderr}`);
      return {
        made: result.backups.map((made: any) => ({ profileId: made.profileId, id: made.id, kind: made.kind, chainLength: made.chain.length, leftOut: (made.leftOut ?? []).map((d: { logicalName: string }) => d.logicalName) })),
        failed: result.failures.map((failure: { profileId: string }) => failure.profileId),
      };
    },
    clone: async (source, id) => run(['clone', source, id, '--data', 'copy']).databases,
  };
}
