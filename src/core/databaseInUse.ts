import { EnvProfilesError } from './errors';
import { holdersByFile, type FileHolder } from './openFileHolders';
import { BUSY_TIMEOUT_MS, type SqliteEngine } from './sqlite/sqliteEngine';
import { readSqliteHeader } from './sqlite/sqliteHeader';
import { namedFew } from './namedFew';
import { DATABASE_FILE_SUFFIXES } from './sqlite/companionFiles';

/** A database that an operation is about to replace or delete. */
export interface DatabaseInPlace {
  logicalName: string;
  /** Absolute path. */
  file: string;
  /** As the profile writes it (shown to the user). */
  written: string;
}

/** A database seen open elsewhere, and by whom (empty when only SQLite's locks said so). */
export interface HeldDatabase {
  database: DatabaseInPlace;
  holders: FileHolder[];
}

/**
 * How long a database may be seen open before it counts as in use. A reader that opens it, reads and
 * closes (VS Code's tree validating the profile when the restore's safety backup changes the catalog,
 * a script, a monitoring probe) is gone within a few milliseconds, and refusing because of it sent the
 * user to look for an application that was not running (2 restores in 60 beside such a reader). An
 * application keeps its connection: it is still there at every look.
 */
export const BRIEF_OPEN_MS = 1500;
const LOOK_AGAIN_MS = 100;

/**
 * The first of `databases` that another program has open, looked at again every 100 ms while one is
 * (up to BRIEF_OPEN_MS); undefined as soon as a look finds none. A program that keeps its connection
 * while its file is replaced or deleted goes on reading and writing the old file, which no longer has
 * a name: everything it writes from then on is lost, and it does not notice. Two ways of seeing it are
 * combined: SQLite's locks (every connection to a WAL database; any open transaction), and on Linux
 * the open files of every process this user can see (which also finds an idle connection to a
 * rollback-journal database, and names the program).
 */
export function heldDatabase(engine: SqliteEngine, databases: DatabaseInPlace[]): Promise<HeldDatabase | undefined> {
  return stillSeenAfterBriefOpen(() => heldNow(engine, databases));
}

/**
 * The first of `databases` whose files, under the names in `filesOf` (set aside by a restore or a
 * delete), another program has open (its open files; Linux), looked at again as heldDatabase does.
 */
export function heldUnderOtherNames(databases: DatabaseInPlace[], filesOf: string[][]): Promise<HeldDatabase | undefined> {
  return stillSeenAfterBriefOpen(() => {
    const holders = holdersByFile(filesOf);
    const i = holders?.findIndex((group) => group.length > 0) ?? -1;
    return holders && i >= 0 ? { database: databases[i], holders: holders[i] } : undefined;
  });
}

/**
 * What `look` finds, looked at again every 100 ms while it finds something, up to BRIEF_OPEN_MS;
 * undefined as soon as a look finds nothing (a program that had a file open for a moment).
 */
async function stillSeenAfterBriefOpen<T>(look: () => T | undefined): Promise<T | undefined> {
  const until = Date.now() + BRIEF_OPEN_MS;
  for (;;) {
    const seen = look();
    if (seen === undefined || Date.now() >= until) return seen;
    await new Promise((resolve) => setTimeout(resolve, LOOK_AGAIN_MS));
  }
}

function heldNow(engine: SqliteEngine, databases: DatabaseInPlace[]): HeldDatabase | undefined {
  const holdersOf = holdersByFile(databases.map((database) => DATABASE_FILE_SUFFIXES.map((suffix) => `${database.file}${suffix}`)));
  for (const [i, database] of databases.entries()) {
    const holders = holdersOf?.[i] ?? [];
    if (holders.length > 0 || engine.isOpenElsewhere(database.file) === true) return { database, holders };
  }
  return undefined;
}

/** Refuses `operation` (e.g. "restoring over it") when `held` names a database still open elsewhere. */
export function refuseIfHeld(held: HeldDatabase | undefined, operation: string): void {
  if (!held) return;
  const { database, holders } = held;
  throw new EnvProfilesError('DATABASE_IN_USE', `${database.logicalName} (${database.written}) is open in ${holdersText(holders)}, so ${operation} was refused; nothing was changed.`, {
    kind: 'refused',
    file: database.written,
    hint: 'Stop the application (or close whatever has the database open) and try again. A program that keeps a database open while its file is replaced goes on writing to the old file, and those writes are lost.',
  });
}

/** Refuses `operation` while another program keeps one of the databases open (see heldDatabase). */
export async function refuseIfDatabasesInUse(engine: SqliteEngine, databases: DatabaseInPlace[], operation: string): Promise<void> {
  refuseIfHeld(await heldDatabase(engine, databases), operation);
}

/**
 * What a DatabaseLockedError means to the user: which program kept `file` locked (`shown` is how the
 * message names it), and that nothing of `operation` was done.
 */
export function lockedDatabaseError(shown: string, file: string, operation: string): EnvProfilesError {
  const holders = holdersByFile([DATABASE_FILE_SUFFIXES.map((suffix) => `${file}${suffix}`)])?.[0] ?? [];
  // In WAL mode no writer keeps readers out: only a connection in exclusive locking mode does, for as
  // long as it is open (the hint for rollback-journal mode, "switch to WAL", was no help there).
  if (isWalDatabase(file)) {
    return new EnvProfilesError('DATABASE_LOCKED', `${shown} is locked by ${holdersText(holders)}, which kept readers out for more than ${BUSY_TIMEOUT_MS / 1000} s. The database is in WAL mode, where writers never keep readers out, so that program most likely opened it in exclusive locking mode (PRAGMA locking_mode = EXCLUSIVE), which keeps every other connection out for as long as it has the database open; so ${operation} could not read it. Nothing was changed.`, {
      file: shown,
      hint: 'Stop that program (or have it open the database in normal locking mode), then try again.',
    });
  }
  return new EnvProfilesError('DATABASE_LOCKED', `${shown} is locked by ${holdersText(holders)}, which kept readers out for more than ${BUSY_TIMEOUT_MS / 1000} s (a write transaction not yet committed), so ${operation} could not read it; nothing was changed.`, {
    file: shown,
    hint: 'Try again once that program has committed. In rollback-journal mode a writer keeps every reader waiting until it commits; in WAL mode (PRAGMA journal_mode = WAL) readers, backups among them, never wait for a writer.',
  });
}

function holdersText(holders: FileHolder[]): string {
  if (holders.length === 0) return 'another connection (SQLite reports it locked)';
  return `another program: ${namedFew(holders.map((h) => `${h.command} (pid ${h.pid})`))}`;
}

/** Whether the file's header says WAL mode (read and write versions 2); false when it cannot be read. */
function isWalDatabase(file: string): boolean {
  try {
    const header = readSqliteHeader(file);
    return header?.readVersion === 2 && header.writeVersion === 2;
  } catch {
    return false;
  }
}
