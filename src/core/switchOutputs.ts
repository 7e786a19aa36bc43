import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderActiveState } from './activeState';
import { EnvProfilesError } from './errors';
import { renderEnvFile } from './envFileFormat';
import type { Profile } from './profileModel';
import type { WorkspaceConfig } from './workspaceConfig';
import type { WorkspaceLayout } from './workspaceLayout';
import { nonFileInWords } from './pathKind';
import { namedFew } from './namedFew';
import { formatSize } from './diskSpace';

/** What a switch writes: a file with content, or a symlink with a target. */
export type OutputContent = { kind: 'file'; content: string } | { kind: 'symlink'; target: string };

/** What was at an output path before: restored byte for byte on rollback. */
export type OutputSnapshot =
  | { kind: 'absent' }
  | { kind: 'file'; contentBase64: string; mode: number }
  | { kind: 'symlink'; target: string };

export interface PlannedOutput {
  role: 'links' | 'env-file' | 'state';
  path: string;
  label: string;
  after: OutputContent;
}

/** The outputs that make `profile` the active one, in the order a switch applies them (state last). */
export function planOutputs(layout: WorkspaceLayout, config: WorkspaceConfig, profile: Profile, switchedAt: string): PlannedOutput[] {
  const outputs: PlannedOutput[] = [];
  for (const [linkPath, logical] of Object.entries(config.links)) {
    // Own keys only: a link may name what is no database ("toString" is on every object).
    const written = Object.hasOwn(profile.databases, logical) ? profile.databases[logical] : undefined;
    if (written === undefined) {
      throw new EnvProfilesError('OUTPUT_CONFLICT', `Profile "${profile.id}" has no database "${logical}", which .envprofiles/config.yaml links at ${linkPath}.`, {
        file: '.envprofiles/config.yaml',
        field: `outputs.links.${linkPath}`,
        hint: `Add a "${logical}" database to the profile, or remove the link from config.yaml.`,
      });
    }
    const absolute = layout.resolve(linkPath);
    outputs.push({ role: 'links', path: absolute, label: linkPath, after: { kind: 'symlink', target: path.relative(path.dirname(absolute), layout.resolve(written)) } });
  }
  if (config.envFile) {
    outputs.push({ role: 'env-file', path: layout.resolve(config.envFile), label: config.envFile, after: { kind: 'file', content: renderEnvFile(profile, layout) } });
  }
  const state = { active: profile.id, switchedAt, envFile: config.envFile };
  outputs.push({ role: 'state', path: layout.stateFile, label: layout.relative(layout.stateFile), after: { kind: 'file', content: renderActiveState(state) } });
  return outputs;
}

/**
 * The largest file a switch replaces at an output path: it keeps what it replaces in its journal (to put
 * it back on rollback), and an env file is a few lines. A larger one is no output (a database, a log).
 */
export const LARGEST_REPLACED_OUTPUT_BYTES = 1024 * 1024;

/** Records what is at `target` now. A directory in the way, or a file too large to be an output, is a conflict the user must resolve. */
export function captureOutput(target: string, label: string): OutputSnapshot {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    throw error;
  }
  if (stat.isSymbolicLink()) return { kind: 'symlink', target: fs.readlinkSync(target) };
  if (stat.isFile() && stat.size > LARGEST_REPLACED_OUTPUT_BYTES) {
    throw new EnvProfilesError('OUTPUT_CONFLICT', `${label} is a file of ${formatSize(stat.size)}, too large to be an output a switch writes (a switch replaces files of up to ${formatSize(LARGEST_REPLACED_OUTPUT_BYTES)} there).`, { file: label, hint: 'Move it away or change the output path in .envprofiles/config.yaml.' });
  }
  if (stat.isFile()) return { kind: 'file', contentBase64: fs.readFileSync(target).toString('base64'), mode: stat.mode & 0o777 };
  throw new EnvProfilesError('OUTPUT_CONFLICT', `${label} is ${nonFileInWords(stat.isDirectory() ? 'folder' : 'not-a-file')}, where the switch must write a file.`, { file: label, hint: 'Move it away or change the output path in .envprofiles/config.yaml.' });
}

/** The variable each `KEY=value` line of an env file sets, to its line. */
function envLines(text: string): Map<string, string> {
  const lines = new Map<string, string>();
  for (const line of text.split('\n')) {
    const key = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(line)?.[1];
    if (key) lines.set(key, line);
  }
  return lines;
}

/**
 * How the output on disk differs from what the switch would write, in words (undefined when it does
 * not): which link points elsewhere, which variables of the env file differ. `now` is what is at its
 * path (captureOutput). `root` is the workspace folder: database paths of the env file outside it mean
 * the folder was moved or copied.
 */
export function outputDrift(output: PlannedOutput, root: string, now: OutputSnapshot): string | undefined {
  const { label, after } = output;
  if (after.kind === 'symlink') {
    if (now.kind === 'symlink') return now.target === after.target ? undefined : `${label} points at ${now.target}, not at ${after.target}`;
    return now.kind === 'absent' ? `${label} is missing (it should be a link to ${after.target})` : `${label} is a file, not a link to ${after.target}`;
  }
  if (now.kind === 'absent') return `${label} is missing`;
  if (now.kind === 'symlink') return `${label} is a link to ${now.target}, not the file a switch writes`;
  const text = Buffer.from(now.contentBase64, 'base64').toString('utf8');
  if (text === after.content) return undefined;
  const [have, want] = [envLines(text), envLines(after.content)];
  const differing = [...new Set([...have.keys(), ...want.keys()])].filter((key) => have.get(key) !== want.get(key));
  if (differing.length === 0) return `${label} differs from what a switch writes (in its comments or layout)`;
  const shown = namedFew(differing, 5);
  const elsewhere = [...have.entries()].some(([key, line]) => key.startsWith('ENVPROFILE_DB_') && want.has(key) && !line.includes(`${root}${path.sep}`));
  return `${label} differs in ${shown}${elsewhere ? ` (its database paths are outside ${root}: was the workspace folder moved or copied?)` : ''}`;
}

