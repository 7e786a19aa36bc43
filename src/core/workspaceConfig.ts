import { MAX_CHAIN } from './backup/archiveLimits';
import * as fs from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { EnvProfilesError, formatIssue, type Issue } from './errors';
import { fileInTheWay } from './folderAccess';
import { unknownKeyMessage } from './nearMiss';
import { nonFileInWords, pathKind } from './pathKind';
import { checkProfilePath } from './pathSafety';
import { isEnvironmentVariableName } from './safeNames';
import type { WorkspaceLayout } from './workspaceLayout';
import { keyPositionOf, plainData, positionOf, syntaxIssues } from './yamlPositions';
import { writtenAsText } from './quotedScalar';
import { yamlValueInWords } from './untrustedValues';

/** Workspace settings from `.envprofiles/config.yaml`. */
export interface WorkspaceConfig {
  /** The generated env file, relative to the workspace; `undefined` when disabled (`env_file: false`). */
  envFile?: string;
  /** Canonical path (relative) -> logical database name: a symlink that follows the active profile. */
  links: Record<string, string>;
  /** The busy guard: while this file exists the application is live and switching is refused. */
  guardFile?: string;
  /** Directories outside the workspace that profiles may point into. */
  allowedDirectories: string[];
  backups: BackupSettings;
}

export const COMPRESSION_SETTINGS = ['store', 'fast', 'best'] as const;
export type CompressionSetting = (typeof COMPRESSION_SETTINGS)[number];

/** The `backups:` section: where archives go and how they are made. */
export interface BackupSettings {
  /** Folder of the archives, relative to the workspace or absolute (may be outside the workspace). */
  directory: string;
  compression: CompressionSetting;
  /** Incremental backups after a full one before the next backup is full again. */
  maxChain: number;
  /** Back up the profile being left before every switch (a profile can also ask: backup_schedule.before_switch). */
  beforeSwitch: boolean;
}

export const DEFAULT_CONFIG_TEXT = `# Environment Profiles workspace settings
outputs:
  # The env file written on every switch (set to false to write none).
  env_file: .env
  # Symlinks that always point at the active profile's databases, e.g.
  #   data/settings.sqlite3: settings
  links: {}
guard:
  # While this file exists the application is live: switching and restoring are refused.
  lock_file: null
# Directories outside the workspace folder that profiles may use (absolute or relative).
allowed_directories: []
backups:
  # Where backup archives go (may be outside the workspace, e.g. another disk).
  directory: .envprofiles/backups
  # store | fast | best
  compression: fast
  # Incremental backups after a full one before the next is full again.
  max_chain: 7
  # Back up the profile being left before every switch.
  before_switch: false
`;

export function defaultConfig(): WorkspaceConfig {
  return { envFile: '.env', links: {}, allowedDirectories: [], backups: { directory: '.envprofiles/backups', compression: 'fast', maxChain: 7, beforeSwitch: false } };
}

/**
 * config.yaml's text; undefined when there is none. Something there that is not a file is refused: a
 * folder was "a bug" (EISDIR), and a named pipe made every command wait for ever.
 */
export function readConfigText(layout: WorkspaceLayout): string | undefined {
  const kind = pathKind(layout.configFile);
  if (kind === 'missing') return undefined;
  if (kind !== 'file') {
    throw new EnvProfilesError('CONFIG_INVALID', `${layout.relative(layout.configFile)} is ${nonFileInWords(kind)}, not a file.`, { file: layout.configFile, hint: `Move it away; "envprofiles init" then writes a config.yaml with the defaults.` });
  }
  try {
    return fs.readFileSync(layout.configFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Reads and validates config.yaml; a missing file means the defaults. */
export function loadWorkspaceConfig(layout: WorkspaceLayout): WorkspaceConfig {
  const text = readConfigText(layout);
  if (text === undefined) return defaultConfig();
  const { config, issues } = parseWorkspaceConfig(text, layout);
  if (!config) {
    throw new EnvProfilesError('CONFIG_INVALID', formatIssue(issues[0]), {
      file: layout.configFile,
      field: issues[0].field,
      line: issues[0].line,
      column: issues[0].column,
      issues,
      hint: 'Fix the file and run the command again; nothing was changed.',
    });
  }
  return config;
}

/** The keys config.yaml has, by section (null: a section that is not a mapping). */
const CONFIG_KEYS: Record<string, string[] | null> = {
  outputs: ['env_file', 'links'],
  guard: ['lock_file'],
  allowed_directories: null,
  backups: ['directory', 'compression', 'max_chain', 'before_switch'],
};

/**
 * Keys config.yaml does not have: kept and ignored (a later version may know them), but warned about,
 * because a misspelt `backups:` would silently put the backups back into the workspace.
 */
function unknownConfigKeys(raw: Record<string, unknown>): { fieldPath: string[]; message: string }[] {
  const found: { fieldPath: string[]; message: string }[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in CONFIG_KEYS)) {
      found.push({ fieldPath: [key], message: unknownKeyMessage(key, 'a config.yaml section', Object.keys(CONFIG_KEYS)) });
      continue;
    }
    const known = CONFIG_KEYS[key];
    if (!known || typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    for (const inner of Object.keys(value)) {
      if (!known.includes(inner)) found.push({ fieldPath: [key, inner], message: unknownKeyMessage(inner, `a key of ${key}`, known) });
    }
  }
  return found;
}

/** The warnings of config.yaml (keys it does not have), with their positions; none when it is missing or does not parse. */
export function workspaceConfigWarnings(layout: WorkspaceLayout): Issue[] {
  let text: string | undefined;
  try {
    text = readConfigText(layout);
  } catch {
    return [];
  }
  return text === undefined ? [] : (parseWorkspaceConfig(text, layout).warnings ?? []);
}

/** No file system takes a path with a NUL character (Node refuses it before asking). */
const NUL_IN_PATH = 'contains a NUL character, which no path can hold';

export function parseWorkspaceConfig(text: string, layout: WorkspaceLayout): { config?: WorkspaceConfig; issues: Issue[]; warnings?: Issue[] } {
  const file = layout.relative(layout.configFile);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) return { issues: syntaxIssues(file, doc.errors, text, lineCounter) };
  const issues: Issue[] = [];
  const report = (fieldPath: string[], message: string): void => {
    issues.push({ file, field: fieldPath.join('.'), message, ...positionOf(doc, lineCounter, fieldPath) });
  };
  const plain = plainData(doc, lineCounter, file);
  if ('issue' in plain) return { issues: [plain.issue] };
  const raw = (plain.data ?? {}) as Record<string, unknown>;
  const config = defaultConfig();
  if (typeof raw !== 'object' || Array.isArray(raw)) return { issues: [{ file, message: `must be a YAML mapping of settings (outputs:, guard:, backups:, …), but it holds ${yamlValueInWords(raw)}` }] };

  /** Each output's path (resolved) to the output, in words. */
  const outputAt = new Map<string, string>();
  const outputs = (raw.outputs ?? {}) as Record<string, unknown>;
  if (typeof outputs !== 'object' || Array.isArray(outputs)) report(['outputs'], 'must be a mapping');
  else {
    if (outputs.env_file === false || outputs.env_file === null) config.envFile = undefined;
    else if (outputs.env_file !== undefined) {
      if (typeof outputs.env_file !== 'string') report(['outputs', 'env_file'], 'must be a file path or false');
      else {
        const verdict = checkProfilePath(layout.root, outputs.env_file, []);
        if (!verdict.ok) report(['outputs', 'env_file'], `${verdict.reason}; the env file must be inside the workspace`);
        else config.envFile = outputs.env_file;
      }
    }
    const links = outputs.links ?? {};
    if (typeof links !== 'object' || links === null || Array.isArray(links)) report(['outputs', 'links'], 'must map a path to a database name');
    else {
      for (const [linkPath, logical] of Object.entries(links)) {
        const verdict = checkProfilePath(layout.root, linkPath, [], { ownLocation: true });
        if (!verdict.ok) report(['outputs', 'links', linkPath], `${verdict.reason}; links must be inside the workspace`);
        else if (layout.relative(verdict.absolute).startsWith('.envprofiles')) report(['outputs', 'links', linkPath], 'cannot be inside .envprofiles/');
        else if (typeof logical !== 'string' || !isEnvironmentVariableName(logical)) report(['outputs', 'links', linkPath], 'must name a logical database (e.g. settings)');
        else config.links[linkPath] = logical;
      }
    }
    // Two outputs at one path would each replace the other on every switch.
    for (const linkPath of Object.keys(config.links)) {
      const earlier = outputAt.get(layout.resolve(linkPath));
      if (earlier !== undefined) report(['outputs', 'links', linkPath], `is the same path as ${earlier}; each link needs a path of its own`);
      else outputAt.set(layout.resolve(linkPath), `the link ${linkPath}`);
    }
    const linkAtEnvFile = config.envFile === undefined ? undefined : outputAt.get(layout.resolve(config.envFile));
    if (linkAtEnvFile !== undefined) report(['outputs', 'env_file'], `is also the path of ${linkAtEnvFile} in outputs.links; the env file and each link need a path of their own`);
    else if (config.envFile !== undefined) outputAt.set(layout.resolve(config.envFile), 'outputs.env_file');
  }

  const guard = (raw.guard ?? {}) as Record<string, unknown>;
  if (typeof guard !== 'object' || Array.isArray(guard)) report(['guard'], 'must be a mapping');
  else if (guard.lock_file !== undefined && guard.lock_file !== null) {
    if (typeof guard.lock_file !== 'string' || guard.lock_file.trim() === '') report(['guard', 'lock_file'], 'must be a file path');
    else if (guard.lock_file.includes('\0')) report(['guard', 'lock_file'], NUL_IN_PATH);
    else {
      config.guardFile = guard.lock_file;
      // A lock file at an output's path exists after the first switch, and would then refuse every switch.
      const output = outputAt.get(layout.resolve(guard.lock_file));
      if (output !== undefined) report(['guard', 'lock_file'], `is the path of ${output === 'outputs.env_file' ? output : `${output} in outputs.links`}, which every switch writes; the guard would then refuse every switch. Give the application's lock file its own path`);
    }
  }

  const allowed = raw.allowed_directories ?? [];
  const withNul = Array.isArray(allowed) ? allowed.findIndex((d) => typeof d === 'string' && d.includes('\0')) : -1;
  if (!Array.isArray(allowed) || allowed.some((d) => typeof d !== 'string')) report(['allowed_directories'], 'must be a list of directory paths');
  else if (withNul >= 0) report(['allowed_directories', String(withNul)], NUL_IN_PATH);
  else config.allowedDirectories = allowed as string[];

  const backups = (raw.backups ?? {}) as Record<string, unknown>;
  if (typeof backups !== 'object' || backups === null || Array.isArray(backups)) report(['backups'], 'must be a mapping');
  else {
    if (backups.directory !== undefined) {
      if (typeof backups.directory !== 'string' || backups.directory.trim() === '') report(['backups', 'directory'], 'must be a folder path');
      else if (backups.directory.includes('\0')) report(['backups', 'directory'], NUL_IN_PATH);
      else {
        const file = fileInTheWay(layout.resolve(backups.directory));
        const own = layout.backupsFolderProblem(layout.resolve(backups.directory));
        if (file) report(['backups', 'directory'], `${file} is a file, not a folder; choose a folder for the backups`);
        else if (own) report(['backups', 'directory'], own);
        else config.backups.directory = backups.directory;
      }
    }
    if (backups.compression !== undefined) {
      // In any case, as a profile's type: FAST is fast.
      const chosen = COMPRESSION_SETTINGS.find((c) => typeof backups.compression === 'string' && c === backups.compression.toLowerCase());
      if (chosen === undefined) report(['backups', 'compression'], `must be store, fast or best, but it is ${yamlValueInWords(backups.compression)}`);
      else config.backups.compression = chosen;
    }
    if (backups.max_chain !== undefined) {
      if (!Number.isInteger(backups.max_chain) || (backups.max_chain as number) < 0 || (backups.max_chain as number) > MAX_CHAIN) report(['backups', 'max_chain'], `must be a whole number from 0 to ${MAX_CHAIN}${writtenAsText(backups.max_chain, 'number')}`);
      else config.backups.maxChain = backups.max_chain as number;
    }
    if (backups.before_switch !== undefined) {
      if (typeof backups.before_switch !== 'boolean') report(['backups', 'before_switch'], `must be true or false${writtenAsText(backups.before_switch, 'boolean')}`);
      else config.backups.beforeSwitch = backups.before_switch;
    }
  }

  const warnings = unknownConfigKeys(raw).map(({ fieldPath, message }) => ({ file, field: fieldPath.join('.'), message, ...keyPositionOf(doc, lineCounter, fieldPath) }));
  return issues.length > 0 ? { issues, warnings } : { config, issues, warnings };
}

/** The settings an operation uses: config.yaml, adjusted by the adapter's overrides. */
export function workspaceConfigFor(context: { layout: WorkspaceLayout; configOverrides?: (config: WorkspaceConfig) => WorkspaceConfig }): WorkspaceConfig {
  const config = loadWorkspaceConfig(context.layout);
  return context.configOverrides ? context.configOverrides(config) : config;
}
