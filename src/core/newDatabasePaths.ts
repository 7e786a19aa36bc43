import * as path from 'node:path';
import { realLocation } from './pathSafety';
import type { WorkspaceConfig } from './workspaceConfig';
import type { WorkspaceLayout } from './workspaceLayout';

/**
 * Paths for a new profile's databases in one folder (a clone's, a backup restored as a new profile):
 * each keeps its file name, made unique within the folder, since two databases may have the same file
 * name in different folders (`data/x/app.sqlite3`, `data/y/app.sqlite3`): the second becomes
 * `<folder>/<logical>-app.sqlite3`. Before, a restore as a new profile gave both one path, and failed.
 */
export function databasePathsIn(folder: string, databases: Record<string, string>): Record<string, string> {
  const used = new Set<string>();
  const result: Record<string, string> = {};
  for (const [logical, written] of Object.entries(databases)) {
    const name = path.basename(written);
    let base = used.has(name) ? `${logical}-${name}` : name;
    for (let n = 2; used.has(base); n++) base = `${logical}-${n}-${name}`;
    used.add(base);
    result[logical] = `${folder.replace(/\/+$/, '')}/${base}`;
  }
  return result;
}

/**
 * The folder a new profile's databases go to when no one names it (a clone without --data-dir, a
 * restore as a new profile, a created profile that takes another's logical names): `data/<id>`, unless
 * that is where the profile's backups go (backups.directory "data"), where its databases would make it
 * invalid after its first backup: then `data/<id>-databases`, and `note` says why.
 */
export function newProfileDataFolder(layout: WorkspaceLayout, config: WorkspaceConfig, id: string): { folder: string; note?: string } {
  const usual = `data/${id}`;
  const backupsOfProfile = path.join(realLocation(layout.resolve(config.backups.directory)), id);
  if (realLocation(layout.resolve(usual)) !== backupsOfProfile) return { folder: usual };
  const folder = `${usual}-databases`;
  return { folder, note: `${id}'s databases go to ${folder}/, not ${usual}/: that is where its backups go (backups.directory "${config.backups.directory}" in .envprofiles/config.yaml, then a folder per profile id)` };
}
