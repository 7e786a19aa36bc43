import * as fs from 'node:fs';
import * as path from 'node:path';
import { databaseNameProblem } from './safeNames';
import { readSqliteHeader } from './sqlite/sqliteHeader';
import type { WorkspaceLayout } from './workspaceLayout';

/** A SQLite database found in a workspace, with a logical name for it. */
export interface FoundDatabase {
  /** A usable logical name, from the file's name (`app` for `db/app.sqlite3`). */
  name: string;
  /** Relative to the workspace, with `/`. */
  path: string;
}

/** How far the search goes: a workspace's databases sit near its top, and init must answer at once. */
const MAX_DEPTH = 4;
const MAX_ENTRIES = 5000;
const MAX_FOUND = 50;
/** Folders that hold no database of the application's own. */
const SKIPPED_FOLDERS = new Set(['node_modules', '__pycache__', 'venv', 'dist', 'out', 'build', 'target']);

/**
 * The SQLite databases already in the workspace, known by their header rather than their name, for
 * init to suggest a first profile with. Regular files only: a symbolic link is an output a switch writes
 * or leads elsewhere, and a named pipe would make the read wait. Breadth first (the shallowest first). Hidden folders (`.git`, `.envprofiles`)
 * and dependency or build folders are not searched; the search stops after 5,000 entries.
 */
export function sqliteDatabasesIn(layout: WorkspaceLayout): FoundDatabase[] {
  const found: string[] = [];
  let seen = 0;
  const queue: { dir: string; depth: number }[] = [{ dir: layout.root, depth: 0 }];
  while (queue.length > 0 && seen < MAX_ENTRIES && found.length < MAX_FOUND) {
    const { dir, depth } = queue.shift() as { dir: string; depth: number };
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (++seen > MAX_ENTRIES || found.length >= MAX_FOUND) break;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (depth < MAX_DEPTH && !entry.name.startsWith('.') && !SKIPPED_FOLDERS.has(entry.name)) queue.push({ dir: full, depth: depth + 1 });
      } else if (entry.isFile() && isSqliteDatabase(full)) {
        found.push(full);
      }
    }
  }
  const names = new Set<string>();
  return found.map((file) => {
    const name = uniqueName(logicalNameFor(file), names);
    names.add(name);
    return { name, path: layout.relative(file).split(path.sep).join('/') };
  });
}

function isSqliteDatabase(file: string): boolean {
  try {
    // A journal or WAL beside a database has no such header; an empty file is no database yet.
    return fs.statSync(file).size >= 512 && readSqliteHeader(file) !== undefined;
  } catch {
    return false;
  }
}

/** `app` for `app.sqlite3`, `market_data` for `Market-Data.db`: letters, digits and `_`, not starting with a digit. */
function logicalNameFor(file: string): string {
  const stem = path.basename(file).replace(/(\.(sqlite3?|db3?|sdb|s3db))+$/i, '').replace(/\.[^.]*$/, '');
  let name = stem.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (name === '' || /^[0-9]/.test(name)) name = `db_${name}`.replace(/_$/, '');
  return databaseNameProblem(name) === undefined ? name : 'db';
}

function uniqueName(wanted: string, taken: ReadonlySet<string>): string {
  if (!taken.has(wanted)) return wanted;
  for (let n = 2; ; n++) if (!taken.has(`${wanted}_${n}`)) return `${wanted}_${n}`;
}
