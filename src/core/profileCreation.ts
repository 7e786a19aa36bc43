import * as fs from 'node:fs';
import { requireNewProfileId } from './newProfileId';
import { appendAudit, auditingUnfinished } from './auditLog';
import { earlierBackupsNoteFor } from './backup/earlierProfile';
import { parseConfigValue } from './configValueParsing';
import { initialiseMissingDatabases, type InitialiseDatabases } from './profileDatabaseInit';
import { EnvProfilesError } from './errors';
import { readActiveState } from './activeState';
import type { ConfigValue, Profile, ProfileType } from './profileModel';
import { PROFILE_TYPES } from './profileModel';
import { invalidProfileError, newProfileDocument, parseProfileText, profileDocumentText, readAllProfileFiles, validProfilesOf } from './profileStore';
import { builtInTemplateFor, fillPlaceholders, findTemplate } from './profileTemplates';
import { profileIdProblem } from './safeNames';
import { workspaceConfigFor, type WorkspaceConfig } from './workspaceConfig';
import type { WorkspaceContext } from './workspaceContext';
import { requireInitialised } from './workspaceInit';
import { withWorkspaceLock } from './workspaceSession';
import { withNewProfileJournal } from './newProfileJournal';
import { refuseNewDatabaseAtOutput } from './outputCollisions';
import { namedFew } from './namedFew';
import { newProfileDataFolder } from './newDatabasePaths';
import { optionValuesError, type OptionOrigins } from './optionValueIssues';
import type { WorkspaceLayout } from './workspaceLayout';
import { missingDatabases } from './missingDatabases';
import { sharedDatabaseWarnings } from './pathOwners';

export interface CreateProfileRequest {
  id: string;
  type?: string;
  name?: string;
  template?: string;
  description?: string;
  /** Logical name -> path; defaults to the template's, then to the logical names the workspace already uses. */
  databases?: Record<string, string>;
  /** KEY -> value text (as typed after `--set`); overrides the template's configurations. */
  settings?: Record<string, string>;
  initialise?: InitialiseDatabases;
}

export interface CreateResult {
  profile: Profile;
  file: string;
  initialisedDatabases: string[];
  /** Worth telling the user (e.g. that backups of an earlier profile with this id exist). */
  notes: string[];
}

function parseType(text: string | undefined): ProfileType | undefined {
  if (text === undefined) return undefined;
  const type = PROFILE_TYPES.find((t) => t === text.toUpperCase());
  if (!type) throw new EnvProfilesError('USAGE', `"${text}" is not a profile type; use one of ${PROFILE_TYPES.join(', ')}.`, { kind: 'usage', field: 'type' });
  return type;
}

/**
 * The logical databases the workspace already uses (active profile first), placed under data/<id>/;
 * when there are none to take, why not, in words for the error.
 */
function defaultDatabases(context: WorkspaceContext, config: WorkspaceConfig, id: string): { databases: Record<string, string>; noneBecause?: string; note?: string } {
  const files = readAllProfileFiles(context.layout, config);
  const profiles = validProfilesOf(files);
  const active = readActiveState(context.layout).active;
  const model = profiles.find((p) => p.id === active) ?? profiles[0];
  const databases: Record<string, string> = {};
  const { folder, note } = newProfileDataFolder(context.layout, config, id);
  for (const logical of Object.keys(model?.databases ?? {})) databases[logical] = `${folder}/${logical}.sqlite3`;
  if (model) return { databases, note };
  const noneBecause =
    files.length === 0
      ? 'the workspace has no profile yet to take the logical names from'
      : files.length === 1
        ? `the workspace's one profile (${files[0].id}) does not load, so there are no logical names to take from it`
        : `none of the workspace's ${files.length} profiles loads, so there are no logical names to take from them`;
  return { databases, noneBecause: files.length === 0 ? noneBecause : `${noneBecause} ("envprofiles validate" says what is wrong)` };
}

/** Creates a profile from a template (built-in or the workspace's), with flags overriding it. */
export async function createProfile(context: WorkspaceContext, request: CreateProfileRequest): Promise<CreateResult> {
  requireInitialised(context.layout);
  return withWorkspaceLock(context, `create ${request.id}`, async () => {
    const idProblem = profileIdProblem(request.id);
    if (idProblem) throw new EnvProfilesError('PROFILE_INVALID', `Cannot create profile: ${idProblem}.`, { kind: 'usage', field: 'id', hint: 'Use at least 3 letters, digits, ".", "_" or "-".' });
    const config = workspaceConfigFor(context);
    const type = parseType(request.type);
    const template = request.template ? findTemplate(context.layout, request.template) : builtInTemplateFor(type ?? 'DEVELOPMENT');
    const configurations: Record<string, ConfigValue> = { ...template.configurations };
    for (const [key, value] of Object.entries(request.settings ?? {})) {
      // --set LOG_LEVEL=… overrides the template's log_level: they are the same variable.
      const existing = Object.keys(configurations).find((k) => k.toUpperCase() === key.toUpperCase());
      configurations[existing ?? key] = parseConfigValue(value);
    }
    const templateDatabases = Object.fromEntries(Object.entries(template.databases).map(([k, v]) => [k, fillPlaceholders(String(v), request.id)]));
    let databases = request.databases && Object.keys(request.databases).length > 0 ? request.databases : templateDatabases;
    // Databases that no option or template names: the workspace's logical names, in a folder of the new profile's.
    let taken: { names: string[]; note?: string } = { names: [] };
    if (Object.keys(databases).length === 0) {
      const defaults = defaultDatabases(context, config, request.id);
      databases = defaults.databases;
      taken = { names: Object.keys(defaults.databases), note: defaults.note };
      if (defaults.noneBecause !== undefined) {
        const from = template.source === 'built-in' ? `built-in template "${template.name}"` : `template "${template.name}" (${template.source})`;
        throw new EnvProfilesError('USAGE', `Profile "${request.id}" would have no databases: the ${from} names none, and ${defaults.noneBecause}.`, {
          kind: 'usage',
          field: 'databases',
          hint: `Pass at least one --db NAME=PATH (e.g. --db settings=data/${request.id}/settings.sqlite3).`,
        });
      }
    }
    const finalType = type ?? template.type;
    const draft: Profile = {
      id: request.id,
      name: request.name ?? (template.profileName ? fillPlaceholders(template.profileName, request.id) : request.id),
      type: finalType,
      createdAt: context.now().toISOString(),
      description: request.description ?? template.description,
      protected: finalType === 'PRODUCTION' || template.protected,
      databases,
      configurations,
      files: [],
      requiredTables: {},
      backupSchedule: template.backupSchedule,
    };
    const origins: OptionOrigins = {
      id: request.id,
      template: { name: template.name, source: template.source },
      databases: Object.keys(request.databases ?? {}),
      settings: Object.keys(request.settings ?? {}),
      name: request.name !== undefined,
      description: request.description !== undefined,
      takenDatabases: taken.names,
    };
    const created = await storeNewProfile(context, config, newProfileDocument(draft).toString({ lineWidth: 0 }), request.initialise ?? { kind: 'none' }, undefined, request.id, origins);
    return taken.note ? { ...created, notes: [taken.note, ...created.notes] } : created;
  });
}

/** Creates a profile from a YAML file in the profile format (the specification's template loads as is). */
export async function createProfileFromFile(context: WorkspaceContext, file: string, initialise: InitialiseDatabases = { kind: 'none' }): Promise<CreateResult> {
  requireInitialised(context.layout);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new EnvProfilesError('IO_ERROR', `Cannot read ${file}: ${(error as Error).message}`, { file, kind: 'usage' });
  }
  return withWorkspaceLock(context, `create from ${file}`, () => storeNewProfile(context, workspaceConfigFor(context), text, initialise, file));
}

/** Writes the new profile (and its databases, when asked); refused or failed, it leaves its line in the audit log. */
async function storeNewProfile(context: WorkspaceContext, config: WorkspaceConfig, text: string, initialise: InitialiseDatabases, sourceLabel?: string, requestedId?: string, origins?: OptionOrigins): Promise<CreateResult> {
  // Whose line it is: the id asked for, or the one the file gives once it is read.
  const creating: { id?: string } = { id: requestedId };
  return auditingUnfinished(context, 'create', () => ({ profile: creating.id, what: sourceLabel ? `from ${sourceLabel}` : undefined }), () => storeParsedProfile(context, config, text, initialise, creating, sourceLabel, origins));
}

async function storeParsedProfile(context: WorkspaceContext, config: WorkspaceConfig, text: string, initialise: InitialiseDatabases, creating: { id?: string }, sourceLabel?: string, origins?: OptionOrigins): Promise<CreateResult> {
  const { layout } = context;
  const parsed = parseProfileText(text, sourceLabel ?? 'new profile', layout, config);
  // Made from options, a problem is named by the option that gave the value (there is no file to name).
  if (!parsed.profile) throw origins ? optionValuesError(parsed.issues, origins) : invalidProfileError(parsed.issues);
  const profile = parsed.profile;
  creating.id = profile.id;
  // Every new profile says when it was made: that is what tells its backups from those of an earlier
  // profile with the same id (see earlierProfile). A file that gives a time keeps it.
  if (profile.createdAt === undefined) {
    profile.createdAt = context.now().toISOString();
    parsed.document.setIn(['profile', 'created_at'], profile.createdAt);
  }
  requireNewProfileId(layout, config, profile.id, 'Choose another id, or clone the existing profile with "envprofiles clone".');
  for (const written of Object.values(profile.databases)) refuseNewDatabaseAtOutput(layout, config, written, 'Give that database another path.');
  const toMake = initialise.kind === 'none' ? [] : missingDatabases(layout, profile.databases);
  const newFiles = toMake.map(({ path }) => layout.resolve(path));
  const { made: initialised, profileFile: file } = await withNewProfileJournal(context, { operation: 'create', source: sourceLabel ?? 'flags', target: profile.id, newFiles, profileText: profileDocumentText(parsed.document) }, (claim) =>
    initialiseMissingDatabases(context, config, toMake, initialise, claim));
  appendAudit(context, { event: 'create', profile: profile.id, outcome: 'ok', detail: initialised.length ? `initialised ${initialised.join(', ')}` : undefined });
  const earlier = earlierBackupsNoteFor(layout, config, profile, context.now());
  const missing = missingDatabasesNote(layout, profile);
  const shared = sharedDatabaseWarnings(context, profile).map((w) => w.message);
  return { profile, file, initialisedDatabases: initialised, notes: [...(earlier ? [earlier] : []), ...(missing ? [missing] : []), ...shared] };
}

/**
 * A new profile whose database files do not exist (none was asked to be initialised) can be neither
 * switched to nor backed up until they do: said at once (before: nothing, until the switch failed).
 */
function missingDatabasesNote(layout: WorkspaceLayout, profile: Profile): string | undefined {
  const missing = missingDatabases(layout, profile.databases).map(({ name, path }) => `${path} (${name})`);
  if (missing.length === 0) return undefined;
  const them = missing.length === 1 ? 'it does' : 'they do';
  const total = Object.keys(profile.databases).length;
  const which = missing.length === 1 ? missing[0] : `${missing.length === total ? `its ${total}` : `${missing.length} of its ${total}`} database files, ${namedFew(missing)},`;
  return `${which} ${missing.length === 1 ? 'does' : 'do'} not exist yet: switching to ${profile.id} and backing it up are refused until ${them} (your application can create ${missing.length === 1 ? 'it' : 'them'}, or "envprofiles init-db ${profile.id}" makes ${missing.length === 1 ? 'it' : 'them'} now: empty, or with another profile's tables with --schema-from <profile>)`;
}

