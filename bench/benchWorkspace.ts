// The benchmarks' shared ground: where the repository and the CLI are, how a ratio is printed, the
// generated workspace of one large database that the backup benchmarks run on, and the sync before
// every timed run.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSqliteEngine } from '../src/core/sqlite/loadEngine';
import { DEFAULT_CONFIG_TEXT } from '../src/core/workspaceConfig';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

/** A figure against its peer, as the tables print it (`digits` after the point). */
export const ratio = (ours: number, peer: number, digits = 2): string => `${(ours / peer).toFixed(digits)}×`;

/**
 * Writes out every dirty page before a timed run: otherwise a run pays for the write-back of what the
 * step before it left (`zip` does not fsync its 425 MB at 1 GiB, the update leaves its checkpoint), and
 * which run pays depends on the order of the steps. Measured at 1 GiB: an incremental right after
 * `zip -1` and the update took 4.25 s (median of 5) in one run of the bench, 2.5 s after a `sync`.
 */
export function settleDisk(): void {
  spawnSync('sync');
}

/** A workspace with one profile, `bench`, over one database of `sizeMb` (built once into `.bench/`, then reused). */
export async function buildBackupWorkspace(sizeMb: number): Promise<string> {
  const dir = path.join(ROOT, '.bench', `backup-${sizeMb}mb`);
  const marker = path.join(dir, '.ready');
  if (fs.existsSync(marker)) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, '.envprofiles/profiles'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  process.stderr.write(`building a ${sizeMb} MB database in ${dir} …\n`);
  const engine = await loadSqliteEngine();
  const file = path.join(dir, 'data/market_data.sqlite3');
  const db = engine.open(file, { readOnly: false, create: true });
  db.exec('PRAGMA journal_mode = WAL');
  // One-minute bars with the indicator values the application caches beside them (a JSON text of ~600 bytes).
  db.exec('CREATE TABLE price_data (id INTEGER PRIMARY KEY, symbol TEXT NOT NULL, ts INTEGER NOT NULL, open REAL, high REAL, low REAL, close REAL, volume INTEGER, indicators TEXT)');
  const indicator = (name: string) => `'"${name}":' || printf('%.6f', (abs(random()) % 100000000) / 1000000.0)`;
  const names = ['rsi14', 'rsi28', 'ema12', 'ema26', 'ema50', 'ema200', 'sma20', 'sma50', 'macd', 'macd_signal', 'macd_hist', 'bb_upper', 'bb_mid', 'bb_lower', 'atr14', 'adx14', 'cci20', 'stoch_k', 'stoch_d', 'obv', 'vwap', 'mfi14', 'roc10', 'willr14', 'kama', 'tema', 'trix', 'ultosc', 'aroon_up', 'aroon_down'];
  const json = `'{' || ${names.map(indicator).join(" || ',' || ")} || '}'`;
  let batch = 0;
  while (fs.statSync(file).size < sizeMb * 1048576) {
    db.exec(`BEGIN; WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000)
      INSERT INTO price_data (symbol, ts, open, high, low, close, volume, indicators)
      SELECT 'SYM' || ((${batch} * 20000 + i) % 400), 1722470400 + (${batch} * 20000 + i) * 60, 100 + (i % 997) / 10.0, 101 + (i % 991) / 10.0, 99 + (i % 983) / 10.0,
             100 + (abs(random()) % 10000) / 100.0, abs(random()) % 1000000, ${json} FROM s; COMMIT;`);
    batch++;
  }
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
  fs.writeFileSync(path.join(dir, '.envprofiles/config.yaml'), DEFAULT_CONFIG_TEXT);
  fs.writeFileSync(path.join(dir, '.envprofiles/profiles/bench.yaml'), 'profile:\n  id: bench\n  name: Bench\n  type: TESTING\n  databases:\n    market_data: data/market_data.sqlite3\n');
  fs.writeFileSync(marker, '');
  return dir;
}

