import * as path from 'node:path';

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
