import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadWorkspaceConfig } from '../workspaceConfig';
import { WorkspaceLayout } from '../workspaceLayout';
import { BackupLayout } from './backupLayout';

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

function realPath(file: string): string {
  try {
    return fs.realpathSync.native(file);
  } catch {
    return path.resolve(file);
  }
}

/**
 * Where a backup came from when that is not this workspace (an archive restored by its path from
 * another workspace or machine, or a workspace that was moved since): "the workspace at X[ on host]".
 */
export function elsewhereText(layout: WorkspaceLayout, origin: BackupOrigin | undefined): string | undefined {
  if (!origin) return undefined;
  if (origin.host === os.hostname() && realPath(origin.workspace) === realPath(layout.root)) return undefined;
  return `the workspace at ${origin.workspace}${origin.host === os.hostname() ? '' : ` on ${origin.host}`}`;
}

/**
 * Finds, for a backup's origin, the other workspace that shares this backups folder: another workspace
 * on this machine that still exists and whose config.yaml puts its backups in this same folder. Not
 * another workspace: this one; one that was moved or deleted since (its backups are this one's now); a
 * copy of this workspace that carries its own copy of the folder; a backup made on another machine (it
 * cannot be told from a renamed one). Each workspace's config is read once per finder.
 */
export function sharingWorkspaceFinder(layout: WorkspaceLayout, backups: BackupLayout): (origin: BackupOrigin | undefined) => string | undefined {
  const here = realPath(backups.root);
  const thisWorkspace = realPath(layout.root);
  const verdicts = new Map<string, boolean>();
  const sharesThisFolder = (workspace: string): boolean => {
    if (realPath(workspace) === thisWorkspace || !fs.existsSync(path.join(workspace, '.envprofiles'))) return false;
    try {
      const theirs = new WorkspaceLayout(workspace);
      return realPath(new BackupLayout(theirs, loadWorkspaceConfig(theirs)).root) === here;
    } catch {
      return false;
    }
  };
  const host = os.hostname();
  return (origin) => {
    if (!origin || origin.host !== host) return undefined;
    if (!verdicts.has(origin.workspace)) verdicts.set(origin.workspace, sharesThisFolder(origin.workspace));
    return verdicts.get(origin.workspace) ? origin.workspace : undefined;
  };
}
