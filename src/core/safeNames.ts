/** Names reserved by Windows for devices; a profile id becomes a file name, so these are refused everywhere. */
const RESERVED_FILE_NAMES = new Set([
  'con', 'prn', 'aux', 'nul',
  'com1', 'com2', 'com3', 'com4', 'com5', 'com6', 'com7', 'com8', 'com9',
  'lpt1', 'lpt2', 'lpt3', 'lpt4', 'lpt5', 'lpt6', 'lpt7', 'lpt8', 'lpt9',
]);

/** Returns why `id` is not a safe profile id, or undefined when it is. */
export function profileIdProblem(id: string): string | undefined {
  if (id.length < 3) return `"${id}" is too short: a profile id needs at least 3 characters`;
  if (id.length > 64) return `"${id}" is too long: at most 64 characters`;
  if (id.includes('/') || id.includes('\\')) return `"${id}" contains a path separator`;
  if (id.includes('..')) return `"${id}" contains ".."`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) {
    return `"${id}" may only use letters, digits, ".", "_" and "-", and must start with a letter or digit`;
  }
  if (id.endsWith('.')) return `"${id}" ends with "."`;
  if (RESERVED_FILE_NAMES.has(id.split('.')[0].toLowerCase())) return `"${id}" is a reserved device name on Windows`;
  return undefined;
}

/**
 * Returns why `name` cannot be a profile's display name, or undefined when it can: it is shown on one
 * line (lists, the tree, the status bar, pickers), and a line break split the row of `list` in two.
 */
export function profileNameProblem(name: string): string | undefined {
  // JSON.stringify leaves U+0085, U+2028 and U+2029 as they are; they break a line too, so they are escaped as well.
  if (/[\u0000-\u001f\u007f\u0085\u2028\u2029]/.test(name)) return `${JSON.stringify(name).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)} (in JSON notation) holds a line break or another control character: a name is shown on one line (lists, the status bar); write it on one line (a description may have several)`;
  return undefined;
}

/** Environment variable names: what POSIX shells and dotenv parsers accept. */
export function isEnvironmentVariableName(key: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key);
}

/** The longest logical database name, as long as a profile id may be. */
const MAX_DATABASE_NAME = 64;

/**
 * Returns why `name` is not a logical database name, or undefined when it is. It becomes
 * ENVPROFILE_DB_<NAME> and names the database's files in a backup (its snapshot, plus SQLite's
 * -journal: a long one failed every backup), so a profile and a backup's manifest hold it to this rule.
 */
export function databaseNameProblem(name: string): string | undefined {
  if (!isEnvironmentVariableName(name)) return `"${name}" is not a usable database name: use letters, digits and "_" (it becomes ENVPROFILE_DB_${name.toUpperCase()})`;
  // Every JavaScript object already has these: "__proto__" was silently left out of every backup, and
  // "toString" made a switch fail with an internal error. The name is only the profile's key for the file.
  if (name in Object.prototype) return `"${name}" is a name every JavaScript object already has, so it cannot name a database: choose another (the file keeps its name; only the profile's key changes)`;
  if (name.length > MAX_DATABASE_NAME) return `"${name.slice(0, 20)}…" is ${name.length} characters long: a database name may have at most ${MAX_DATABASE_NAME}`;
  return undefined;
}
