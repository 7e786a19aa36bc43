import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderActiveState, type ActiveState } from './activeState';
import { EnvProfilesError } from './errors';
import { renderEnvFile } from './envFileFormat';
import type { Profile } from './profileModel';
import type { WorkspaceConfig } from './workspaceConfig';
import type { WorkspaceLayout } from './workspaceLayout';
import { nonFileInWords } from './pathKind';
import { namedFew } from './namedFew';
import { formatSize } from './diskSpace';
import { STORE_FOLDER } from './storeFolder';

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
  let envFileSha256: string | undefined;
  if (config.envFile) {
    const content = renderEnvFile(profile, layout);
    envFileSha256 = envFileHash(content);
    outputs.push({ role: 'env-file', path: layout.resolve(config.envFile), label: config.envFile, after: { kind: 'file', content } });
  }
  const state = { active: profile.id, switchedAt, envFile: config.envFile, ...(envFileSha256 === undefined ? {} : { envFileSha256 }) };
  outputs.push({ role: 'state', path: layout.stateFile, label: layout.relative(layout.stateFile), after: { kind: 'file', content: renderActiveState(state) } });
  return outputs;
}

/** The SHA-256 of an env file's content, as state.json records it (see ActiveState.envFileSha256). */
export function envFileHash(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * True when the env file at `label` holding `content` is not what the last switch wrote there (state.json
 * records its SHA-256): it was edited since. Unknown (false) when no switch recorded one.
 */
export function envFileEditedSinceSwitch(state: ActiveState, label: string, content: string | Buffer): boolean {
  return state.envFile === label && state.envFileSha256 !== undefined && envFileHash(content) !== state.envFileSha256;
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
 * not): which link points elsewhere, which variables of the env file differ and how. `now` is what is
 * at its path (captureOutput); `state` says what the last switch wrote (an env file edited since is said
 * so, with what a switch does with those edits). `root` is the workspace folder: database paths of the
 * env file outside it mean the folder was moved or copied.
 */
export function outputDrift(output: PlannedOutput, root: string, now: OutputSnapshot, state: ActiveState): string | undefined {
  const { label, after } = output;
  if (after.kind === 'symlink') {
    if (now.kind === 'symlink') return now.target === after.target ? undefined : `${label} points at ${now.target}, not at ${after.target}`;
    return now.kind === 'absent' ? `${label} is missing (it should be a link to ${after.target})` : `${label} is a file, not a link to ${after.target}`;
  }
  if (now.kind === 'absent') return `${label} is missing`;
  if (now.kind === 'symlink') return `${label} is a link to ${now.target}, not the file a switch writes`;
  const bytes = Buffer.from(now.contentBase64, 'base64');
  const text = bytes.toString('utf8');
  if (text === after.content) return undefined;
  const edited = envFileEditedSinceSwitch(state, label, bytes) ? ` (edited since the last switch wrote it: a switch replaces it, and keeps a copy in ${STORE_FOLDER}/env-backups/ first)` : '';
  const [have, want] = [envLines(text), envLines(after.content)];
  const keys = [...new Set([...have.keys(), ...want.keys()])];
  const onlyInFile = keys.filter((key) => !want.has(key));
  const lacking = keys.filter((key) => !have.has(key));
  const otherValue = keys.filter((key) => have.has(key) && want.has(key) && have.get(key) !== want.get(key));
  if (onlyInFile.length + lacking.length + otherValue.length === 0) return `${label} differs from what a switch writes (in its comments or layout)${edited}`;
  const how = [
    ...(otherValue.length ? [`has other values for ${namedFew(otherValue, 5)}`] : []),
    ...(onlyInFile.length ? [`sets ${namedFew(onlyInFile, 5)}, which the profile does not`] : []),
    ...(lacking.length ? [`lacks ${namedFew(lacking, 5)}`] : []),
  ];
  const elsewhere = [...have.entries()].some(([key, line]) => key.startsWith('ENVPROFILE_DB_') && want.has(key) && !line.includes(`${root}${path.sep}`));
  return `${label} ${how.join('; ')}${elsewhere ? ` (its database paths are outside ${root}: was the workspace folder moved or copied?)` : ''}${edited}`;
}

