import * as fs from 'node:fs';
import { requireNewProfileId } from './newProfileId';
import * as path from 'node:path';
import { appendAudit, auditingUnfinished } from './auditLog';
import { databasePathsIn, newProfileDataFolder } from './newDatabasePaths';
import { databaseAtOutputLinkError, refuseNewDatabaseAtOutput } from './outputCollisions';
import { earlierBackupsNoteFor } from './backup/earlierProfile';
import { isOutOfSpace, outOfSpaceError, requireFreeSpace } from './diskSpace';
import { requireWritableFolders } from './folderAccess';
import { createDatabase, type DatabaseSeed } from './databaseInitialisation';
import { EnvProfilesError } from './errors';
import { withNewProfileJournal } from './newProfileJournal';
import { PROFILE_TYPES, type Profile, type ProfileType } from './profileModel';
import { invalidProfileError, loadProfile, parseProfileText, profileDocumentText, profileFileIds } from './profileStore';
import { backupsFolderRole } from './profileValidation';
import { checkProfilePath } from './pathSafety';
import { profileIdProblem, profileNameProblem } from './safeNames';
import { workspaceConfigFor } from './workspaceConfig';
import { throwIfCancelled, type WorkspaceContext } from './workspaceContext';
import { requireInitialised } from './workspaceInit';
import { withWorkspaceLock } from './workspaceSession';
import { namedFew } from './namedFew';

export type CloneData = 'copy' | 'schema' | 'empty';

export interface CloneRequest {
  source: string;
  id: string;
  name?: string;
  type?: string;
  data?: CloneData;
  /** Folder for the new databases, relative to the workspace; default `data/<id>`. */
  dataDir?: string;
}

export interface CloneResult {
  profile: Profile;
  file: string;
  databases: Record<string, string>;
  durationMs: number;
  /** Worth telling the user (e.g. that backups of an earlier profile with this id exist). */
  notes: string[];
}

/**
 * Clones a profile: new id, name and type; its databases copied consistently (SQLite backup API) into
 * the new profile's own folder, or created schema-only or empty. The profile file is written last;
 * a journal lets the next command remove a half-made clone.
 */
export async function cloneProfile(context: WorkspaceContext, request: CloneRequest): Promise<CloneResult> {
  requireInitialised(context.layout);
  return withWorkspaceLock(context, `clone ${request.source} into ${request.id}`, () => auditingUnfinished(context, 'clone', () => ({ profile: request.id }), () => runClone(context, request)));
}

async function runClone(context: WorkspaceContext, request: CloneRequest): Promise<CloneResult> {
  const started = performance.now();
  const { layout } = context;
  const step = (name: string): void => context.onStep?.(name);
  const idProblem = profileIdProblem(request.id);
  if (idProblem) throw new EnvProfilesError('PROFILE_INVALID', `Cannot clone into "${request.id}": ${idProblem}.`, { kind: 'usage', field: 'id' });
  let type: ProfileType | undefined;
  if (request.type !== undefined) {
    type = PROFILE_TYPES.find((t) => t === request.type?.toUpperCase());
    if (!type) throw new EnvProfilesError('USAGE', `"${request.type}" is not a profile type; use one of ${PROFILE_TYPES.join(', ')}.`, { kind: 'usage', field: 'type' });
  }
  // Judged here, before the new profile is built: its error named a file that was never written.
  const nameProblem = request.name === undefined ? undefined : profileNameProblem(request.name);
  if (nameProblem) throw new EnvProfilesError('USAGE', `Cannot clone into "${request.id}": --name: ${nameProblem}. Nothing was written.`, { kind: 'usage', field: 'name' });
  const config = workspaceConfigFor(context);
  const { profile: source, document: sourceDocument } = loadProfile(layout, config, request.source);
  const profileFile = layout.profileFile(request.id);
  requireNewProfileId(layout, config, request.id, 'Choose another id.');
  if (request.dataDir !== undefined) {
    // Judged here, before the new profile is built: its paths' errors named a file that was never
    // written (cloned_two.yaml:8) and said to fix it.
    const verdict = checkProfilePath(layout.root, request.dataDir, config.allowedDirectories);
    if (!verdict.ok) {
      throw new EnvProfilesError('USAGE', `--data-dir ${request.dataDir} cannot hold the clone's databases: ${verdict.reason.replace(/^"[^"]*" /, 'it ')}. Nothing was written.`, {
        kind: 'usage',
        field: 'data-dir',
        // Only a folder outside the workspace is made usable by allowed_directories (not one in .envprofiles, nor a bad name).
        hint: verdict.outside ? `Choose a folder inside the workspace, or add it to allowed_directories in ${layout.relative(layout.configFile)}.` : 'Choose another folder inside the workspace (data/<new-id>/ is the default).',
      });
    }
    const role = backupsFolderRole(verdict.real, layout.resolve(config.backups.directory), profileFileIds(layout), request.id);
    if (role) {
      throw new EnvProfilesError('USAGE', `--data-dir ${request.dataDir} cannot hold the clone's databases: it is ${role}, where this tool keeps the archives and their catalogs. Nothing was written.`, {
        kind: 'usage',
        field: 'data-dir',
        hint: `Choose another folder, or leave --data-dir out: the databases then go to ${newProfileDataFolder(layout, config, request.id).folder}/.`,
      });
    }
  }
  const defaultFolder = request.dataDir === undefined ? newProfileDataFolder(layout, config, request.id) : undefined;
  const databases = databasePathsIn(request.dataDir ?? defaultFolder?.folder ?? '', source.databases);

  // The new profile document: the source's (comments and unknown keys kept) with the new identity.
  const document = sourceDocument.clone();
  document.setIn(['profile', 'id'], request.id);
  document.setIn(['profile', 'name'], request.name ?? `${source.name} (copy)`);
  if (type) document.setIn(['profile', 'type'], type);
  if (type && type !== source.type && type !== 'PRODUCTION') document.deleteIn(['profile', 'protected']);
  document.setIn(['profile', 'created_at'], context.now().toISOString());
  document.setIn(['profile', 'cloned_from'], source.id);
  for (const [logical, written] of Object.entries(databases)) document.setIn(['profile', 'databases', logical], written);
  const parsed = parseProfileText(document.toString({ lineWidth: 0 }), layout.relative(profileFile), layout, config, request.id);
  if (!parsed.profile) throw invalidProfileError(parsed.issues);

  for (const written of Object.values(databases)) {
    if (fs.existsSync(layout.resolve(written))) {
      throw new EnvProfilesError('TARGET_EXISTS', `${written} already exists; cloning would overwrite it.`, { kind: 'refused', file: written, hint: 'Choose another id or pass --data-dir with an empty folder.' });
    }
    refuseNewDatabaseAtOutput(layout, config, written, 'Pass --data-dir with another folder.');
  }
  const data = request.data ?? 'copy';
  // Through the link a switch wrote at a database path of the source, it is the active profile's database: not the source's to copy.
  if (data !== 'empty') {
    for (const [logical, written] of Object.entries(source.databases)) {
      const atOutput = databaseAtOutputLinkError(layout, config, source.id, logical, written, 'cloned', 'clone again');
      if (atOutput) throw atOutput;
    }
  }
  const operation = `Cloning ${source.id} into ${request.id}`;
  const folders = [...new Set(Object.values(databases).map((written) => path.dirname(layout.resolve(written))))];
  requireWritableFolders(operation, folders);
  if (data === 'copy') {
    requireFreeSpace(operation, Object.entries(databases).map(([logical, written]) => {
      const from = layout.resolve(source.databases[logical]);
      return { folder: path.dirname(layout.resolve(written)), bytes: fs.existsSync(from) ? fs.statSync(from).size : 0, what: `the copy of ${logical}` };
    }));
  }
  try {
    await withNewProfileJournal(context, { operation: 'clone', source: source.id, target: request.id, newFiles: Object.values(databases).map((w) => layout.resolve(w)), profileText: profileDocumentText(parsed.document) }, async (claim) => {
      for (const [logical, written] of Object.entries(databases)) {
        throwIfCancelled(context);
        const from = layout.resolve(source.databases[logical]);
        const seed: DatabaseSeed = data === 'empty' ? { kind: 'empty' } : { kind: data, from, shown: source.databases[logical], profile: source.id };
        context.progress?.(`${data === 'copy' ? 'Copying' : 'Creating'} ${logical} -> ${written}`);
        const { rolledBackJournal } = await createDatabase(context.engine, seed, layout.resolve(written), written, claim);
        if (rolledBackJournal) context.logger.warn(`${source.databases[logical]} had the journal of an unfinished transaction (a program stopped in the middle of writing); it was rolled back to the last committed state before the copy, as SQLite does on the next open.`);
        step(`database:${logical}`);
      }
    });
  } catch (error) {
    if (isOutOfSpace(error)) throw outOfSpaceError(operation, folders, error, `The copies made so far were removed and no profile ${request.id} was created.`);
    throw error;
  }
  appendAudit(context, { event: 'clone', profile: request.id, outcome: 'ok', detail: `from ${source.id} (${data})` });
  const earlier = earlierBackupsNoteFor(layout, config, parsed.profile, context.now());
  // The files: list is copied as it is: the clone's environment uses the same files, which is often
  // meant, but a restore of either profile then puts its copy of them back for both.
  const shared = parsed.profile.files.length > 0 ? `files: ${namedFew(parsed.profile.files, 5)} ${parsed.profile.files.length === 1 ? 'is' : 'are'} shared with ${source.id}: restoring a backup of either profile puts its copy back for both; to keep them apart, give ${request.id} its own copies and change its files: list` : undefined;
  return { profile: parsed.profile, file: profileFile, databases, durationMs: performance.now() - started, notes: [defaultFolder?.note, earlier, shared].filter((n): n is string => n !== undefined) };
}
