import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SqliteConnection, SqliteEngine } from '../core/sqlite/sqliteEngine';
import { DEFAULT_CONFIG_TEXT } from '../core/workspaceConfig';
import { STORE_GITIGNORE } from '../core/workspaceInit';
import { DEMO_SCHEMA } from './demoSchema';
import { makeFolders } from '../core/makeFolders';

/** The specification's profile template, verbatim (Korean name included). */
export const SPEC_TEMPLATE = `# profile_template.yaml
profile:
  id: "dev_environment_001"
  name: "개발 환경"
  type: "DEVELOPMENT"
  created_at: "2025-08-08T20:00:00Z"
  databases:
    settings: "data/dev/settings.sqlite3"
    strategies: "data/dev/strategies.sqlite3"
    market_data: "data/dev/market_data.sqlite3"
  configurations:
    api_mode: "sandbox"
    log_level: "DEBUG"
    auto_backup: true
  backup_schedule:
    frequency: "DAILY"
    time: "02:00"
    retention_days: 30
`;

function profileYaml(id: string, name: string, type: string, folder: string, apiMode: string, logLevel: string, extra = ''): string {
  return `# ${name}
profile:
  id: "${id}"
  name: "${name}"
  type: "${type}"
  created_at: "2025-08-08T20:00:00Z"
${extra}  databases:
    settings: "data/${folder}/settings.sqlite3"
    strategies: "data/${folder}/strategies.sqlite3"
    market_data: "data/${folder}/market_data.sqlite3"
  configurations:
    api_mode: "${apiMode}"
    log_level: "${logLevel}"
    auto_backup: true
    max_position_usd: 2500
  schema:
    required_tables:
      settings: [tv_trading_variables, api_credentials]
      strategies: [strategy_profiles, trading_conditions]
      market_data: [price_data]
  backup_schedule:
    frequency: "DAILY"
    time: "02:00"
    retention_days: 30
`;
}

/** A small deterministic random generator, so the demo is the same every time. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 0x100000000;
  };
}

const SYMBOLS = ['BTC-USD', 'ETH-USD', 'SOL-USD', 'AAPL', 'MSFT', 'NVDA', 'EUR-USD', 'XAU-USD'];

function fillSettings(db: SqliteConnection, mode: string): void {
  const variables = [
    ['max_drawdown_pct', 'risk', '12.5'], ['position_size_usd', 'trading', '2500'], ['stop_loss_pct', 'risk', '3'],
    ['take_profit_pct', 'trading', '6'], ['rsi_period', 'indicators', '14'], ['ema_fast', 'indicators', '12'],
    ['ema_slow', 'indicators', '26'], ['log_level', 'logging', 'INFO'], ['api_timeout_ms', 'api', '5000'], ['heartbeat_s', 'system', '30'],
  ];
  variables.forEach(([name, category, value], i) => {
    db.all('INSERT INTO tv_trading_variables (id, name, category, value, updated_at) VALUES (?, ?, ?, ?, ?)', i + 1, name, category, value, '2025-08-01T09:00:00Z');
    db.all('INSERT INTO tv_variable_parameters (variable_id, param, value) VALUES (?, ?, ?)', i + 1, 'min', '0');
    db.all('INSERT INTO tv_variable_parameters (variable_id, param, value) VALUES (?, ?, ?)', i + 1, 'max', '100');
    db.all('INSERT INTO tv_help_texts (variable_id, lang, body) VALUES (?, ?, ?)', i + 1, 'en', `How ${name} affects the strategy.`);
    db.all('INSERT INTO tv_help_texts (variable_id, lang, body) VALUES (?, ?, ?)', i + 1, 'ko', `${name} 설정 도움말`);
  });
  db.all('INSERT INTO tv_comparison_groups (name, variable_ids) VALUES (?, ?)', 'risk', '1,3');
  db.all('INSERT INTO tv_comparison_groups (name, variable_ids) VALUES (?, ?)', 'momentum', '5,6,7');
  db.all('INSERT INTO api_credentials (exchange, key_id, secret_ref, mode) VALUES (?, ?, ?, ?)', 'demo-exchange', `key-${mode}`, `vault://trading/${mode}`, mode);
}

function fillStrategies(db: SqliteConnection, random: () => number): void {
  const names = ['mean_reversion', 'trend_following', 'breakout', 'pairs_trading'];
  names.forEach((name, i) => {
    const id = i + 1;
    db.all('INSERT INTO strategy_profiles (id, name, description, created_at) VALUES (?, ?, ?, ?)', id, name, `${name.replace('_', ' ')} strategy`, '2025-07-01T00:00:00Z');
    db.all('INSERT INTO trading_conditions (strategy_id, expression, weight) VALUES (?, ?, ?)', id, 'rsi(14) < 30', 0.6);
    db.all('INSERT INTO trading_conditions (strategy_id, expression, weight) VALUES (?, ?, ?)', id, 'ema(12) > ema(26)', 0.4);
    for (let month = 1; month <= 12; month++) {
      const start = `2024-${String(month).padStart(2, '0')}-01`;
      db.all('INSERT INTO backtest_results (strategy_id, period_start, period_end, pnl, trades) VALUES (?, ?, ?, ?, ?)', id, start, `${start}T23:59:59Z`, Math.round((random() - 0.4) * 100000) / 100, Math.floor(random() * 200));
      db.all('INSERT INTO performance_metrics (strategy_id, metric, value, measured_at) VALUES (?, ?, ?, ?)', id, 'sharpe', Math.round(random() * 300) / 100, start);
    }
  });
}

/** Price, volume and indicator rows: `rowsPerSymbol` one-minute bars for each symbol. */
export function fillMarketData(db: SqliteConnection, random: () => number, rowsPerSymbol: number, startTs = 1_722_470_400): void {
  for (const symbol of SYMBOLS) {
    let price = 50 + random() * 1000;
    for (let i = 0; i < rowsPerSymbol; i++) {
      const ts = startTs + i * 60;
      const open = price;
      price = Math.max(1, price * (1 + (random() - 0.5) * 0.01));
      db.all('INSERT INTO price_data VALUES (?, ?, ?, ?, ?, ?)', symbol, ts, open, Math.max(open, price) * 1.001, Math.min(open, price) * 0.999, price);
      db.all('INSERT INTO volume_data VALUES (?, ?, ?)', symbol, ts, Math.round(random() * 1e6) / 100);
      if (i % 5 === 0) db.all('INSERT INTO indicator_cache VALUES (?, ?, ?, ?)', symbol, 'rsi14', ts, Math.round(random() * 10000) / 100);
    }
    db.all('INSERT INTO real_time_feeds (symbol, source, last_update, status) VALUES (?, ?, ?, ?)', symbol, 'websocket', '2025-08-08T19:59:00Z', 'connected');
  }
}

/** Creates one database in WAL mode with the reference schema, filled by `fill`. */
export function createReferenceDatabase(engine: SqliteEngine, file: string, schema: string, fill: (db: SqliteConnection) => void): void {
  makeFolders(path.dirname(file));
  const db = engine.open(file, { readOnly: false, create: true });
  try {
    if (engine.name === 'node:sqlite') db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA foreign_keys = ON; PRAGMA user_version = 3;');
    db.exec('BEGIN');
    db.exec(schema);
    fill(db);
    db.exec('COMMIT');
  } finally {
    db.close();
  }
}

export interface DemoOptions {
  /** One-minute bars per symbol in market_data (8 symbols). */
  marketRows?: number;
}

/**
 * Writes a demo workspace like the reference application's: three SQLite databases per environment
 * (development, testing, production) in WAL mode with realistic rows, three profiles (the development
 * one is the specification's template verbatim), config.yaml with links and a busy guard.
 */
export function createDemoWorkspace(engine: SqliteEngine, root: string, options: DemoOptions = {}): void {
  const store = path.join(root, '.envprofiles');
  makeFolders(path.join(store, 'profiles'));
  makeFolders(path.join(store, 'templates'));
  const environments = [
    { folder: 'dev', mode: 'sandbox', seed: 1, rows: options.marketRows ?? 500 },
    { folder: 'test', mode: 'sandbox', seed: 2, rows: options.marketRows ?? 500 },
    { folder: 'prod', mode: 'live', seed: 3, rows: (options.marketRows ?? 500) * 4 },
  ];
  for (const env of environments) {
    const random = seededRandom(env.seed);
    const dir = path.join(root, 'data', env.folder);
    createReferenceDatabase(engine, path.join(dir, 'settings.sqlite3'), DEMO_SCHEMA.settings, (db) => fillSettings(db, env.mode));
    createReferenceDatabase(engine, path.join(dir, 'strategies.sqlite3'), DEMO_SCHEMA.strategies, (db) => fillStrategies(db, random));
    createReferenceDatabase(engine, path.join(dir, 'market_data.sqlite3'), DEMO_SCHEMA.market_data, (db) => fillMarketData(db, random, env.rows));
  }
  fs.writeFileSync(path.join(store, 'profiles', 'dev_environment_001.yaml'), SPEC_TEMPLATE);
  fs.writeFileSync(path.join(store, 'profiles', 'test_environment_001.yaml'), profileYaml('test_environment_001', '테스트 환경', 'TESTING', 'test', 'sandbox', 'INFO'));
  fs.writeFileSync(path.join(store, 'profiles', 'prod_environment_001.yaml'), profileYaml('prod_environment_001', '운영 환경', 'PRODUCTION', 'prod', 'live', 'INFO', '  description: "Live trading. Protected: switching needs confirmation."\n'));
  const config = DEFAULT_CONFIG_TEXT.replace(
    '  links: {}',
    '  links:\n    data/settings.sqlite3: settings\n    data/strategies.sqlite3: strategies\n    data/market_data.sqlite3: market_data',
  ).replace('  lock_file: null', '  lock_file: data/app.lock');
  fs.writeFileSync(path.join(store, 'config.yaml'), config);
  fs.writeFileSync(path.join(store, '.gitignore'), STORE_GITIGNORE);
}
