import * as fs from 'node:fs';
import type { WorkspaceLayout } from './workspaceLayout';

/** A database of a profile whose file does not exist: its logical name and its path as written. */
export interface MissingDatabase {
  name: string;
  path: string;
}

/**
 * The logical databases (of a profile's `databases:`) whose files do not exist, in the profile's
 * order: a profile created without them, or one whose file was lost. Switch and backup refuse such a
 * profile; through the active profile's links the application would get a new, empty database.
 */
export function missingDatabases(layout: WorkspaceLayout, databases: Record<string, string>): MissingDatabase[] {
  return Object.entries(databases).filter(([, written]) => !fs.existsSync(layout.resolve(written))).map(([name, written]) => ({ name, path: written }));
}

/** The logical names of missingDatabases. */
export function missingDatabaseNames(layout: WorkspaceLayout, databases: Record<string, string>): string[] {
  return missingDatabases(layout, databases).map((database) => database.name);
}
