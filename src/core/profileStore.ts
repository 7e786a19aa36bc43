import * as fs from 'node:fs';
import * as path from 'node:path';
import { Document, LineCounter, parseDocument } from 'yaml';
import { writeNewFileDurably } from './atomicFile';
import { EnvProfilesError, issueSentence, type Issue } from './errors';
import { nonFileInWords, pathKind } from './pathKind';
import type { LoadedProfile, Profile } from './profileModel';
import { validateProfileDocument } from './profileValidation';
import { profileIdProblem } from './safeNames';
import type { WorkspaceConfig } from './workspaceConfig';
import type { WorkspaceLayout } from './workspaceLayout';
import { syntaxIssues } from './yamlPositions';
import { likelyMeant } from './nearMiss';
import { makeFolders } from './makeFolders';
import { backupGivenForProfile } from './backup/backupGivenForProfile';

/** The outcome of reading one profile file: the profile when valid, its problems otherwise. */
export interface ProfileFileResult {
  id: string;
  file: string;
  profile?: Profile;
  issues: Issue[];
  /** Problems that leave the profile usable (an unknown backup_schedule key), with their positions. */
  warnings?: Issue[];
  document?: Document;
  /** Where each of the document's nodes is, by line (for positions of later findings). */
  lineCounter?: LineCounter;
}

/** Parses and validates profile YAML text. `fileLabel` is what messages call the file. */
export function parseProfileText(
  text: string,
  fileLabel: string,
  layout: WorkspaceLayout,
  config: WorkspaceConfig,
  expectedId?: string,
  profileIds: readonly string[] = profileFileIds(layout),
): { profile?: Profile; issues: Issue[]; warnings?: Issue[]; document: Document; lineCounter: LineCounter } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, keepSourceTokens: false });
  if (document.errors.length > 0) return { issues: syntaxIssues(fileLabel, document.errors, text, lineCounter), document, lineCounter };
  const { profile, issues, warnings } = validateProfileDocument(document, lineCounter, fileLabel, {
    workspaceRoot: layout.root,
    allowedDirectories: config.allowedDirectories,
    expectedId,
    outputs: [...(config.envFile ? [{ written: config.envFile, setting: 'outputs.env_file' }] : []), ...Object.keys(config.links).map((written) => ({ written, setting: 'outputs.links' }))],
    backupsFolder: layout.resolve(config.backups.directory),
    profileIds,
  });
  return { profile, issues, warnings, document, lineCounter };
}

/** The id of every `profiles/*.yaml` in the workspace (valid or not), sorted. */
export function profileFileIds(layout: WorkspaceLayout): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(layout.profilesDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.filter((name) => name.endsWith('.yaml') && !name.startsWith('.')).sort().map((name) => name.slice(0, -'.yaml'.length));
}

/** Reads every `profiles/*.yaml` in the workspace, valid or not, sorted by id. */
/** The profiles of `results` that loaded (a file with errors has none). */
export function validProfilesOf(results: readonly ProfileFileResult[]): Profile[] {
  return results.flatMap((r) => (r.profile ? [r.profile] : []));
}

export function readAllProfileFiles(layout: WorkspaceLayout, config: WorkspaceConfig): ProfileFileResult[] {
  // The folder is listed once, for the files to read and for each file's check of its id against the others.
  const ids = profileFileIds(layout);
  return ids.map((id) => readProfileFile(layout, config, id, ids));
}

export function readProfileFile(layout: WorkspaceLayout, config: WorkspaceConfig, id: string, profileIds?: readonly string[]): ProfileFileResult {
  const file = layout.profileFile(id);
  const label = layout.relative(file);
  let text: string;
  try {
    // A named pipe there would make every listing wait for a writer, for ever; a folder is no file either.
    const kind = pathKind(file);
    if (kind === 'folder' || kind === 'not-a-file') return { id, file, issues: [{ file: label, message: `is ${nonFileInWords(kind)}, not a profile file; move it out of ${layout.relative(layout.profilesDir)}` }] };
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    return { id, file, issues: [{ file: label, message: `cannot be read: ${(error as Error).message}` }] };
  }
  const { profile, issues, warnings, document, lineCounter } = parseProfileText(text, label, layout, config, id, profileIds);
  return { id, file, profile, issues, warnings, document, lineCounter };
}

/** "No profile <id>", with the id it most likely misspells and the known ones. */
export function profileNotFoundError(layout: WorkspaceLayout, config: WorkspaceConfig, id: string): EnvProfilesError {
  const backup = backupGivenForProfile(id);
  if (backup) return new EnvProfilesError('PROFILE_NOT_FOUND', `No profile "${id}": ${backup.problem}.`, { kind: 'usage', hint: backup.hint });
  const known = readAllProfileFiles(layout, config).map((r) => r.id);
  const meant = profileOfFileName(layout, id) ?? likelyMeant(id, known);
  return new EnvProfilesError('PROFILE_NOT_FOUND', `No profile "${id}" in ${layout.relative(layout.profilesDir)}.`, {
    file: profileIdProblem(id) ? undefined : layout.relative(layout.profileFile(id)),
    hint: known.length > 0 ? `${meant ? `Did you mean ${meant}? ` : ''}Known profiles: ${known.join(', ')}.` : 'Create one with "envprofiles create <id>".',
  });
}

/** The profile whose file `given` names (`dev.yaml`, `.envprofiles/profiles/dev.yaml`, as a shell completes it), if any. */
function profileOfFileName(layout: WorkspaceLayout, given: string): string | undefined {
  const stem = path.basename(given).replace(/\.ya?ml$/i, '');
  return stem !== given && !profileIdProblem(stem) && fs.existsSync(layout.profileFile(stem)) ? stem : undefined;
}

/** Loads one valid profile or throws a typed error naming the file and field. */
export function loadProfile(layout: WorkspaceLayout, config: WorkspaceConfig, id: string): LoadedProfile & { document: Document; warnings: Issue[] } {
  const idProblem = profileIdProblem(id);
  if (idProblem && !backupGivenForProfile(id) && !profileOfFileName(layout, id)) throw new EnvProfilesError('PROFILE_NOT_FOUND', `No profile "${id}": ${idProblem}.`, { kind: 'usage', hint: 'Run "envprofiles list" to see the profiles.' });
  const file = idProblem ? undefined : layout.profileFile(id);
  if (!file || !fs.existsSync(file)) throw profileNotFoundError(layout, config, id);
  const result = readProfileFile(layout, config, id);
  if (!result.profile || !result.document) throw invalidProfileError(result.issues);
  return { profile: result.profile, file, document: result.document, warnings: result.warnings ?? [] };
}

export function invalidProfileError(issues: Issue[], hint = 'Fix the profile file and run the command again; nothing was changed.'): EnvProfilesError {
  const first = issues[0];
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  const code = first.message.startsWith('YAML syntax error') ? 'YAML_SYNTAX' : 'PROFILE_INVALID';
  return new EnvProfilesError(code, `${issueSentence(first)}${more}`, {
    file: first.file,
    field: first.field,
    line: first.line,
    column: first.column,
    issues,
    hint,
  });
}

/** Builds the YAML document of a new profile, in the layout of the specification's template. */
export function newProfileDocument(profile: Profile): Document {
  const body: Record<string, unknown> = {
    id: profile.id,
    name: profile.name,
    type: profile.type,
    created_at: profile.createdAt ?? new Date().toISOString(),
  };
  if (profile.description) body.description = profile.description;
  if (profile.protected && profile.type !== 'PRODUCTION') body.protected = true;
  body.databases = { ...profile.databases };
  body.configurations = { ...profile.configurations };
  if (profile.files.length > 0) body.files = [...profile.files];
  if (Object.keys(profile.requiredTables).length > 0) body.schema = { required_tables: profile.requiredTables };
  if (profile.backupSchedule) body.backup_schedule = profile.backupSchedule;
  const document = new Document({ profile: body });
  document.commentBefore = ` Environment profile "${profile.id}" (Environment Profiles)`;
  return document;
}

/**
 * Writes the file of a new profile (`text`, see profileDocumentText) and fsyncs it. It never replaces a
 * file: PROFILE_EXISTS when the profile's file is there, or appears while it is written (before, one made
 * in that moment was replaced). `beforeCommit` runs right before the file takes its name.
 */
export function writeNewProfileFile(layout: WorkspaceLayout, id: string, text: string, beforeCommit?: () => void): string {
  const file = layout.profileFile(id);
  const exists = (when: string): EnvProfilesError => new EnvProfilesError('PROFILE_EXISTS', `Profile "${id}" already exists (${layout.relative(file)})${when}.`, {
    kind: 'refused',
    file: layout.relative(file),
    hint: 'Choose another id, or delete the existing profile first.',
  });
  if (fs.existsSync(file)) throw exists('');
  makeFolders(path.dirname(file));
  if (!writeNewFileDurably(file, text, beforeCommit)) throw exists(': it was made by something else while this profile was being written, and was left as it is');
  return file;
}

/** The text of a profile file for `document`. */
export function profileDocumentText(document: Document): string {
  return document.toString({ lineWidth: 0 });
}
