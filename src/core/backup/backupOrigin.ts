import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { WorkspaceLayout } from '../workspaceLayout';

/**
 * Which workspace made a backup. A backups folder may be outside the workspace (another disk, a synced
 * folder), so two workspaces with the same profile id can share one catalog; the origin lets each tell
 * its own backups from the other's.
 */
export interface BackupOrigin {
  host: string;
  workspace: string;
}

export function currentOrigin(layout: WorkspaceLayout): BackupOrigin {
  return { host: os.hostname(), workspace: layout.root };
}

/** A well-formed origin from untrusted JSON (a manifest, a catalog), or undefined. */
export function originFrom(value: unknown): BackupOrigin | undefined {
  const origin = value as Partial<BackupOrigin> | undefined;
  return origin && typeof origin === 'object' && typeof origin.host === 'string' && typeof origin.workspace === 'string' ? { host: origin.host, workspace: origin.workspace } : undefined;
}

/**
 * The folder of the other workspace that made a backup, when it is another workspace on this machine
 * that still exists. A workspace that was moved or deleted since is not "another" one (its backups are
 * this one's now); backups made on another machine cannot be told apart from a renamed one, so they
 * are not either.
 */
export function otherLiveWorkspace(origin: BackupOrigin | undefined, layout: WorkspaceLayout): string | undefined {
  if (!origin || origin.host !== os.hostname() || path.resolve(origin.workspace) === path.resolve(layout.root)) return undefined;
  return fs.existsSync(path.join(origin.workspace, '.envprofiles')) ? origin.workspace : undefined;
}
