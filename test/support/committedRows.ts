import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { engine, tempDir } from './workspaces';

// What a database holds, read the way a backup must give it back, for tests that compare the two.

export const sha256Of = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Every row of every table of the database's committed state (a hot journal rolled back, in a copy). */
export async function rowsOf(file: string): Promise<string> {
  const journal = `${file}-journal`;
  if (fs.existsSync(journal) && fs.statSync(journal).size > 0) {
    const copy = path.join(tempDir('evolving-committed-'), 'copy.sqlite3');
    fs.copyFileSync(file, copy);
    fs.copyFileSync(journal, `${copy}-journal`);
    await execute(copy, 'SELECT count(*) FROM sqlite_master');
    return rowsOf(copy);
  }
  const connection = (await engine()).open(file, { readOnly: true });
  try {
    const tables: Record<string, unknown> = {};
    for (const { name } of connection.all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
      tables[String(name)] = connection.all(`SELECT * FROM "${String(name)}" ORDER BY rowid`);
    }
    return JSON.stringify(tables);
  } finally {
    connection.close();
  }
}

/** Runs `sql` on the database (created if it does not exist), in a connection of its own. */
export async function execute(file: string, sql: string): Promise<void> {
  const connection = (await engine()).open(file, { readOnly: false, create: true });
  try {
    connection.exec(sql);
  } finally {
    connection.close();
  }
}

/** Removes a database file and every file SQLite keeps beside it (as a user deleting the database does). */
export function removeDatabaseFiles(file: string): void {
  for (const side of ['', '-wal', '-shm', '-journal']) fs.rmSync(`${file}${side}`, { force: true });
}

/** The ids of the backups a profile's catalog lists (none when it has no catalog yet). */
export function listedBackupIds(backupsFolder: string, profileId: string): string[] {
  const catalog = path.join(backupsFolder, profileId, 'catalog.json');
  return fs.existsSync(catalog) ? (JSON.parse(fs.readFileSync(catalog, 'utf8')) as { backups: Array<{ id: string }> }).backups.map((b) => b.id) : [];
}
