import * as fs from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { EnvProfilesError } from './errors';
import { readAllProfileFiles, type ProfileFileResult } from './profileStore';
import { salvagedProfile } from './profileSalvage';
import { parseSqliteHeader } from './sqlite/sqliteHeader';
import { LARGEST_REPLACED_OUTPUT_BYTES, type OutputSnapshot, type PlannedOutput } from './switchOutputs';
import { formatSize } from './diskSpace';
import { readConfigText, type WorkspaceConfig } from './workspaceConfig';
import { positionOf } from './yamlPositions';
import type { WorkspaceContext } from './workspaceContext';
import type { WorkspaceLayout } from './workspaceLayout';

/**
 * A switch replaces each output path with its link or file; it must never replace what is not an
 * output: a regular file where a link goes, a database (one a profile names, or any SQLite file) where
 * the env file goes, or a path where a profile keeps a database (a link there would make that profile's
 * database another's). Throws OUTPUT_CONFLICT, naming the output and what is there, before anything is written.
 */
export function checkOutputsReplaceOnlyOutputs(context: WorkspaceContext, config: WorkspaceConfig, outputs: ReadonlyArray<PlannedOutput & { before: OutputSnapshot }>, profileFiles?: readonly ProfileFileResult[]): void {
  const databases = databasePathsOfEveryProfile(context, config, profileFiles);
  for (const output of outputs) {
    if (output.role === 'state') continue;
    const { refuse, field, configFile } = refusalFor(context, output);
    const owner = databases.get(output.path);
    if (owner !== undefined) refuse(owner, `Give ${field} in ${configFile} a path of its own (or move that database and point its profile at it), then switch again.`);
    if (output.before.kind !== 'file') continue;
    if (output.role === 'links') refuse(REGULAR_FILE, regularFileAtLinkHint(output));
    const sqliteFile = sqliteFileKind(Buffer.from(output.before.contentBase64, 'base64'));
    if (sqliteFile) refuse(sqliteFile, `Move it away, or give ${field} in ${configFile} another path, then switch again.`);
  }
}

/**
 * Refuses, before any output is read to be kept for a rollback, a file at an output path that is larger
 * than a switch replaces (LARGEST_REPLACED_OUTPUT_BYTES): it is no output (a database, a log, an archive).
 */
export function refuseOversizedOutputs(context: WorkspaceContext, outputs: readonly PlannedOutput[]): void {
  for (const output of outputs) {
    if (output.role === 'state') continue;
    let size: number;
    try {
      const stat = fs.lstatSync(output.path);
      if (!stat.isFile()) continue;
      size = stat.size;
    } catch {
      continue; // Absent, or not to be looked at: capturing it says why.
    }
    if (size <= LARGEST_REPLACED_OUTPUT_BYTES) continue;
    const { refuse, field, configFile } = refusalFor(context, output);
    if (output.role === 'links') refuse(`${REGULAR_FILE} (${formatSize(size)})`, regularFileAtLinkHint(output));
    refuse(`a file of ${formatSize(size)}, too large to be an env file`, `Move it away, or give ${field} in ${configFile} another path, then switch again.`);
  }
}

const REGULAR_FILE = 'a regular file';

function regularFileAtLinkHint(output: PlannedOutput): string {
  return `Move ${output.label} into a profile's folder (and point that profile at it), then switch again.`;
}

/** How a switch refuses to replace what is at `output`: OUTPUT_CONFLICT at the output's setting in config.yaml. */
function refusalFor(context: WorkspaceContext, output: PlannedOutput): { refuse: (what: string, hint: string) => never; field: string; configFile: string } {
  const configFile = context.layout.relative(context.layout.configFile);
  const field = output.role === 'env-file' ? 'outputs.env_file' : `outputs.links.${output.label}`;
  const made = output.role === 'env-file' ? 'the env file' : "a link to the active profile's database";
  const refuse = (what: string, hint: string): never => {
    // At the setting in config.yaml, so that VS Code opens the file there.
    const at = configPosition(context.layout, output.role === 'env-file' ? ['outputs', 'env_file'] : ['outputs', 'links', output.label]);
    throw new EnvProfilesError('OUTPUT_CONFLICT', `${output.label} is ${what}, but ${configFile} makes it ${made}: a switch would replace it.`, { file: configFile, field, ...at, hint: `${hint} Nothing was changed.` });
  };
  return { refuse, field, configFile };
}

/**
 * Where every profile of the workspace keeps each database (also one whose file does not validate, as
 * far as its databases: list reads), in words; from `profileFiles` when the caller has read them.
 */
function databasePathsOfEveryProfile(context: WorkspaceContext, config: WorkspaceConfig, profileFiles?: readonly ProfileFileResult[]): Map<string, string> {
  const { layout } = context;
  const owners = new Map<string, string>();
  for (const file of profileFiles ?? readAllProfileFiles(layout, config)) {
    const profile = file.profile ?? (file.document ? salvagedProfile(file.id, file.document, layout, config) : undefined);
    for (const [logical, written] of Object.entries(profile?.databases ?? {})) {
      const database = layout.resolve(written);
      const whose = `the ${logical} database of profile "${file.id}"`;
      // Its side files too: an output written over its -wal would lose the transactions committed there.
      for (const [at, what] of [[database, whose], [`${database}-wal`, `the write-ahead log of ${whose}`], [`${database}-journal`, `the rollback journal of ${whose}`], [`${database}-shm`, `the shared-memory file of ${whose}`]]) {
        if (!owners.has(at)) owners.set(at, what);
      }
    }
  }
  return owners;
}

/** The output config.yaml puts at a database path of a profile, in words (its field named), or undefined when none does: every switch replaces what is there. */
export function outputAtDatabasePath(layout: WorkspaceLayout, config: WorkspaceConfig, written: string): string | undefined {
  const at = layout.resolve(written);
  const link = linkInWordsAt(layout, config, at);
  if (link !== undefined) return link;
  if (config.envFile !== undefined && layout.resolve(config.envFile) === at) return `the env file (outputs.env_file in ${layout.relative(layout.configFile)})`;
  return undefined;
}

/** The link config.yaml puts at the absolute path `at`, in words (its field named), or undefined when none does. */
function linkInWordsAt(layout: WorkspaceLayout, config: WorkspaceConfig, at: string): string | undefined {
  const link = Object.entries(config.links).find(([linkPath]) => layout.resolve(linkPath) === at);
  return link === undefined ? undefined : `the link to the active profile's ${link[1]} (outputs.links in ${layout.relative(layout.configFile)})`;
}

/**
 * The link a switch writes at `written`, a database path of a profile, when a link is there now, in
 * words (`output`: its field named; `leadsTo`: where it leads), else undefined. What is read or written
 * through it is then whichever profile's database was active, not that profile's own. (A regular file
 * there is the profile's own database: it is backed up and restored as such, while every switch refuses
 * to replace it with the link.)
 */
export function outputLinkAtDatabasePath(layout: WorkspaceLayout, config: WorkspaceConfig, written: string): { output: string; leadsTo: string } | undefined {
  const at = layout.resolve(written);
  const output = linkInWordsAt(layout, config, at);
  if (output === undefined || pathKindOf(at) !== 'symlink') return undefined;
  let leadsTo: string;
  try {
    leadsTo = layout.relative(fs.realpathSync(at));
  } catch {
    leadsTo = `${fs.readlinkSync(at)} (which does not exist)`;
  }
  return { output, leadsTo };
}

/**
 * Refusal to read or write `written`, a database of profile `profileId`, through the link a switch wrote
 * there (see outputLinkAtDatabasePath), or undefined. `doing`: "backed up", "restored", "cloned"; `again`: what to run after.
 */
export function databaseAtOutputLinkError(layout: WorkspaceLayout, config: WorkspaceConfig, profileId: string, logical: string, written: string, doing: string, again: string): EnvProfilesError | undefined {
  const link = outputLinkAtDatabasePath(layout, config, written);
  if (!link) return undefined;
  const profileFile = layout.relative(layout.profileFile(profileId));
  return new EnvProfilesError('PROFILE_INVALID', `${written} (database "${logical}" of ${profileId}) is where a switch writes ${link.output}, and that link is there: it leads to ${link.leadsTo}, not a database of ${profileId}'s own, so it cannot be ${doing}; nothing was changed.`, {
    file: profileFile,
    field: `profile.databases.${logical}`,
    hint: `Give ${logical} a path of its own in ${profileFile} ("envprofiles validate ${profileId}" says the same), then ${again}.`,
  });
}

/** Whether `file` is a symbolic link, anything else, or nothing that can be looked at (absent, or a path through a file). */
function pathKindOf(file: string): 'symlink' | 'other' | 'none' {
  try {
    return fs.lstatSync(file).isSymbolicLink() ? 'symlink' : 'other';
  } catch {
    return 'none';
  }
}

/** What SQLite file `bytes` are, by their header (a database, a write-ahead log, a rollback journal), or undefined when none. */
function sqliteFileKind(bytes: Buffer): string | undefined {
  if (parseSqliteHeader(bytes.subarray(0, 100))) return 'a SQLite database';
  const walMagic = bytes.length >= 32 ? bytes.readUInt32BE(0) : 0;
  if (walMagic === 0x377f0682 || walMagic === 0x377f0683) return "a SQLite database's write-ahead log";
  if (bytes.length >= 28 && bytes.subarray(0, 8).equals(JOURNAL_MAGIC)) return "a SQLite database's rollback journal";
  return undefined;
}

/** The first 8 bytes of a SQLite rollback journal that holds pages to roll back. */
const JOURNAL_MAGIC = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);

/** Refuses a new profile's database at `written` (created, cloned, restored as a new profile) when a switch writes an output there. */
export function refuseNewDatabaseAtOutput(layout: WorkspaceLayout, config: WorkspaceConfig, written: string, hint: string): void {
  const output = outputAtDatabasePath(layout, config, written);
  if (output) throw new EnvProfilesError('OUTPUT_CONFLICT', `${written} is where a switch writes ${output}: a database there would be replaced by the next switch. Nothing was changed.`, { file: written, hint });
}

/** Where a setting is in config.yaml (its line and column), as far as the file reads. */
function configPosition(layout: WorkspaceLayout, fieldPath: string[]): { line?: number; column?: number } {
  try {
    const text = readConfigText(layout);
    if (text === undefined) return {};
    const lineCounter = new LineCounter();
    return positionOf(parseDocument(text, { lineCounter }), lineCounter, fieldPath);
  } catch {
    return {};
  }
}
