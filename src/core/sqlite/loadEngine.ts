import { NodeSqliteEngine, loadNodeSqlite } from './nodeSqliteEngine';
import { SqlJsEngine, loadSqlJs } from './sqlJsEngine';
import type { EngineName, SqliteEngine } from './sqliteEngine';

/**
 * Picks the engine: `node:sqlite` when the runtime has it, sql.js otherwise. The environment variable
 * ENVPROFILES_SQLITE_ENGINE (node:sqlite | sql.js) forces one, for tests and for users who need to.
 */
export async function loadSqliteEngine(preferred?: EngineName): Promise<SqliteEngine> {
  const wanted = preferred ?? (process.env.ENVPROFILES_SQLITE_ENGINE as EngineName | undefined);
  if (wanted !== 'sql.js') {
    const nodeSqlite = loadNodeSqlite();
    if (nodeSqlite) return new NodeSqliteEngine(nodeSqlite);
    if (wanted === 'node:sqlite') throw new Error(`node:sqlite is not available in Node ${process.version} (it needs 22.13 or newer)`);
  }
  return new SqlJsEngine(await loadSqlJs());
}
