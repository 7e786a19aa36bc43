import { EnvProfilesError } from './errors';
import { readAllProfileFiles } from './profileStore';
import { salvagedProfile } from './profileSalvage';
import { parseSqliteHeader } from './sqlite/sqliteHeader';
import type { OutputSnapshot, PlannedOutput } from './switchOutputs';
import type { WorkspaceConfig } from './workspaceConfig';
import type { WorkspaceContext } from './workspaceContext';
import type { WorkspaceLayout } from './workspaceLayout';

/**
 * A switch replaces each output path with its link or file; it must never replace what is not an
 * output: a regular file where a link goes, a database (one a profile names, or any SQLite file) where
 * the env file goes, or a path where a profile keeps a database (a link there would make that profile's
 * database another's). Throws OUTPUT_CONFLICT, naming the output and what is there, before anything is written.
 */
export function checkOutputsReplaceOnlyOutputs(context: WorkspaceContext, config: WorkspaceConfig, outputs: ReadonlyArray<PlannedOutput & { before: OutputSnapshot }>): void {
  const configFile = context.layout.relative(context.layout.configFile);
  const databases = databasePathsOfEveryProfile(context, config);
  for (const output of outputs) {
    if (output.role === 'state') continue;
    const field = output.role === 'env-file' ? 'outputs.env_file' : `outputs.links.${output.label}`;
    const made = output.role === 'env-file' ? 'the env file' : "a link to the active profile's database";
    const refuse = (what: string, hint: string): never => {
      throw new EnvProfilesError('OUTPUT_CONFLICT', `${output.label} is ${what}, but ${configFile} makes it ${made}: a switch would replace it.`, { file: configFile, field, hint: `${hint} Nothing was changed.` });
    };
    const owner = databases.get(output.path);
    if (owner !== undefined) refuse(owner, `Give ${field} in ${configFile} a path of its own (or move that database and point its profile at it), then switch again.`);
    if (output.before.kind !== 'file') continue;
    if (output.role === 'links') refuse('a regular file', `Move ${output.label} into a profile's folder (and point that profile at it), then switch again.`);
    if (parseSqliteHeader(Buffer.from(output.before.contentBase64, 'base64').subarray(0, 100))) refuse('a SQLite database', `Move the database away, or give ${field} in ${configFile} another path, then switch again.`);
  }
}

/** Where every profile of the workspace keeps each database (also one whose file does not validate, as far as its databases: list reads), in words. */
function databasePathsOfEveryProfile(context: WorkspaceContext, config: WorkspaceConfig): Map<string, string> {
  const { layout } = context;
  const owners = new Map<string, string>();
  for (const file of readAllProfileFiles(layout, config)) {
    const profile = file.profile ?? (file.document ? salvagedProfile(file.id, file.document, layout, config) : undefined);
    for (const [logical, written] of Object.entries(profile?.databases ?? {})) {
      if (!owners.has(layout.resolve(written))) owners.set(layout.resolve(written), `the ${logical} database of profile "${file.id}"`);
    }
  }
  return owners;
}

/** The output config.yaml puts at a database path of a profile, in words (its field named), or undefined when none does: every switch replaces what is there. */
export function outputAtDatabasePath(layout: WorkspaceLayout, config: WorkspaceConfig, written: string): string | undefined {
  const at = layout.resolve(written);
  const link = Object.entries(config.links).find(([linkPath]) => layout.resolve(linkPath) === at);
  if (link !== undefined) return `the link to the active profile's ${link[1]} (outputs.links in ${layout.relative(layout.configFile)})`;
  if (config.envFile !== undefined && layout.resolve(config.envFile) === at) return `the env file (outputs.env_file in ${layout.relative(layout.configFile)})`;
  return undefined;
}
