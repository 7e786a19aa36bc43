import type { SchemaShape } from './databaseInspection';

/** How one profile's logical database differs from the same logical database in another profile. */
export interface SchemaDifference {
  database: string;
  otherProfile: string;
  missingTables: string[];
  extraTables: string[];
  /** Tables present in both whose columns differ: table -> description. */
  columnDifferences: Record<string, string>;
}

/** Compares `mine` against `theirs` (same logical database, another profile). Empty when consistent. */
export function compareSchemas(database: string, otherProfile: string, mine: SchemaShape, theirs: SchemaShape): SchemaDifference | undefined {
  const missingTables = Object.keys(theirs).filter((t) => !(t in mine)).sort();
  const extraTables = Object.keys(mine).filter((t) => !(t in theirs)).sort();
  const columnDifferences: Record<string, string> = {};
  for (const table of Object.keys(mine)) {
    if (!(table in theirs)) continue;
    const missing = theirs[table].filter((c) => !mine[table].includes(c));
    const extra = mine[table].filter((c) => !theirs[table].includes(c));
    const parts = [missing.length ? `missing columns ${missing.join(', ')}` : '', extra.length ? `extra columns ${extra.join(', ')}` : ''].filter(Boolean);
    if (parts.length) columnDifferences[table] = parts.join('; ');
  }
  if (missingTables.length === 0 && extraTables.length === 0 && Object.keys(columnDifferences).length === 0) return undefined;
  return { database, otherProfile, missingTables, extraTables, columnDifferences };
}

export function describeDifference(difference: SchemaDifference): string {
  const parts: string[] = [];
  if (difference.missingTables.length) parts.push(`lacks ${difference.missingTables.join(', ')}`);
  if (difference.extraTables.length) parts.push(`has extra ${difference.extraTables.join(', ')}`);
  for (const [table, text] of Object.entries(difference.columnDifferences)) parts.push(`${table}: ${text}`);
  return `database "${difference.database}" differs from profile "${difference.otherProfile}": ${parts.join('; ')}`;
}
