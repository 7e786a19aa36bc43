/** The reference application's three databases (see PRODUCT.md), as SQL. Foreign keys are declared. */
export const DEMO_SCHEMA: Record<'settings' | 'strategies' | 'market_data', string> = {
  settings: `
    CREATE TABLE tv_trading_variables (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, category TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE TABLE tv_variable_parameters (id INTEGER PRIMARY KEY, variable_id INTEGER NOT NULL REFERENCES tv_trading_variables(id), param TEXT NOT NULL, value TEXT NOT NULL);
    CREATE TABLE tv_comparison_groups (id INTEGER PRIMARY KEY, name TEXT NOT NULL, variable_ids TEXT NOT NULL);
    CREATE TABLE tv_help_texts (id INTEGER PRIMARY KEY, variable_id INTEGER NOT NULL REFERENCES tv_trading_variables(id), lang TEXT NOT NULL, body TEXT NOT NULL);
    CREATE TABLE api_credentials (id INTEGER PRIMARY KEY, exchange TEXT NOT NULL, key_id TEXT NOT NULL, secret_ref TEXT NOT NULL, mode TEXT NOT NULL);
  `,
  strategies: `
    CREATE TABLE strategy_profiles (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT, created_at TEXT NOT NULL);
    CREATE TABLE trading_conditions (id INTEGER PRIMARY KEY, strategy_id INTEGER NOT NULL REFERENCES strategy_profiles(id), expression TEXT NOT NULL, weight REAL NOT NULL);
    CREATE TABLE backtest_results (id INTEGER PRIMARY KEY, strategy_id INTEGER NOT NULL REFERENCES strategy_profiles(id), period_start TEXT NOT NULL, period_end TEXT NOT NULL, pnl REAL NOT NULL, trades INTEGER NOT NULL);
    CREATE TABLE performance_metrics (id INTEGER PRIMARY KEY, strategy_id INTEGER NOT NULL REFERENCES strategy_profiles(id), metric TEXT NOT NULL, value REAL NOT NULL, measured_at TEXT NOT NULL);
  `,
  market_data: `
    CREATE TABLE price_data (symbol TEXT NOT NULL, ts INTEGER NOT NULL, open REAL, high REAL, low REAL, close REAL, PRIMARY KEY (symbol, ts));
    CREATE TABLE volume_data (symbol TEXT NOT NULL, ts INTEGER NOT NULL, volume REAL NOT NULL, PRIMARY KEY (symbol, ts));
    CREATE TABLE indicator_cache (symbol TEXT NOT NULL, indicator TEXT NOT NULL, ts INTEGER NOT NULL, value REAL, PRIMARY KEY (symbol, indicator, ts));
    CREATE TABLE real_time_feeds (id INTEGER PRIMARY KEY, symbol TEXT NOT NULL, source TEXT NOT NULL, last_update TEXT NOT NULL, status TEXT NOT NULL);
  `,
};
