import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderActiveState } from './activeState';
import { EnvProfilesError } from './errors';
import { renderEnvFile } from './envFileFormat';
import type { Profile } from './profileModel';
import type { WorkspaceConfig } from './workspaceConfig';
import type { WorkspaceLayout } from './workspaceLayout';

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
    const written = profile.databases[logical];
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

/** Records what is at `target` now. A directory in the way is a conflict the user must resolve. */
export function captureOutput(target: string, label: string): OutputSnapshot {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    throw error;
  }
  if (stat.isSymbolicLink()) return { kind: 'symlink', target: fs.readlinkSync(target) };
  if (stat.isFile()) return { kind: 'file', contentBase64: fs.readFileSync(target).toString('base64'), mode: stat.mode & 0o777 };
  throw new EnvProfilesError('OUTPUT_CONFLICT', `${label} is a directory, where the switch must write a file.`, { file: label, hint: 'Move it away or change the output path in .envprofiles/config.yaml.' });
}

/** True when what is on disk at the output already equals what the switch would write. */
export function outputMatches(output: PlannedOutput): boolean {
  const now = captureOutput(output.path, output.label);
  if (output.after.kind === 'symlink') return now.kind === 'symlink' && now.target === output.after.target;
  return now.kind === 'file' && Buffer.from(now.contentBase64, 'base64').toString('utf8') === output.after.content;
}
