/** One `NAME=VALUE` item (`--db settings=data/dev/settings.sqlite3`, a database typed in VS Code). */
export interface Assignment {
  name: string;
  value: string;
  item: string;
}

/**
 * Reads `NAME=VALUE` items in order, up to the first that is none (`malformed`) or whose name an
 * earlier one gave, also in another case (`twice`): both become one variable, ENVPROFILE_DB_<NAME> or
 * the configuration's. Each adapter says these in its own words.
 */
export function readAssignments(items: readonly string[]): { assignments: Assignment[]; malformed?: string; twice?: { earlier: Assignment; item: Assignment } } {
  const assignments: Assignment[] = [];
  const given = new Map<string, Assignment>();
  for (const item of items) {
    const at = item.indexOf('=');
    if (at <= 0) return { assignments, malformed: item };
    const assignment = { name: item.slice(0, at), value: item.slice(at + 1), item };
    const earlier = given.get(assignment.name.toUpperCase());
    if (earlier !== undefined) return { assignments, twice: { earlier, item: assignment } };
    given.set(assignment.name.toUpperCase(), assignment);
    assignments.push(assignment);
  }
  return { assignments };
}
