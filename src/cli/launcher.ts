// The `envprofiles` command. It loads the CLI bundle with a V8 code cache of its own, made at the end
// of a run: that cache holds the bytecode of every function the run compiled. Node's compile cache
// (used when ours is off or fails) is made when the file is compiled, so it holds only the few
// functions compiled up front; all the others (most of the bundle: YAML, ZIP, backup) were compiled
// again on first call in every command. Measured with a warm cache: `status` 75 → 63 ms (median of
// 25 runs, 2026-11-23). The commands that stream database images do without it (DATA_COMMANDS).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as nodeModule from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { rebuildsDatabases, restartWithSmallYoungGeneration } from './youngGenerationRestart';
import { makeFolders } from '../core/makeFolders';

const BUNDLE = path.join(__dirname, 'cli-main.js');

/**
 * Commands that stream archives of database images load the bundle the usual way, with Node's compile cache: run
 * from a script compiled with ours, the same work held more memory at its peak (measured 2026-12-01:
 * a full backup of 1 GiB 118 against 96–101 MB, its verify 160 against 135–139 MB, a verify of 100 MB
 * 120–134 against 112–114 MB), while ours saved them no time worth it (an incremental backup of 100 MB,
 * medians of 8: 265 against 270 ms). The short commands keep it (`status` 48 against 53 ms); so does
 * `clone`, which holds no more with it (67 against 64 MB for 1 GiB).
 */
const DATA_COMMANDS = new Set(['backup', 'verify', 'restore']);

/**
 * One cache per command (each compiles different functions) and per bundle, Node and platform, in the
 * user's own cache folder: a cache is code this process runs, so it must not sit where another user
 * could plant one (unlike a shared /tmp).
 */
function cacheFolder(): string | undefined {
  if (process.env.ENVPROFILES_CODE_CACHE === 'off' || process.env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const base = process.env.XDG_CACHE_HOME || (os.homedir() ? path.join(os.homedir(), '.cache') : undefined);
  return base ? path.join(base, 'envprofiles', 'code-cache') : undefined;
}

function commandWord(argv: string[]): string {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--workspace') i++;
    else if (!argv[i].startsWith('-')) return /^[a-z][a-z-]{0,30}$/.test(argv[i]) ? argv[i] : 'other';
  }
  return 'none';
}

/**
 * A cache file is the SHA-256 of the bytecode, then the bytecode. V8 checks that a cache fits its
 * version, flags and source, but not (in release builds) that its bytes are intact: a damaged file
 * must not become code that runs, so it is checked here and otherwise ignored (and then replaced).
 */
const DIGEST_BYTES = 32;

function readCache(file: string): Buffer | undefined {
  let content: Buffer;
  try {
    content = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const data = content.subarray(DIGEST_BYTES);
  return content.length > DIGEST_BYTES && createHash('sha256').update(data).digest().equals(content.subarray(0, DIGEST_BYTES)) ? data : undefined;
}

/** Writes the cache whole (temporary file, rename) and removes the caches of other bundles (older versions). */
function writeCache(folder: string, file: string, data: Buffer, bundleKey: string): void {
  try {
    makeFolders(folder, 0o700);
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, Buffer.concat([createHash('sha256').update(data).digest(), data]), { mode: 0o600 });
    fs.renameSync(temp, file);
    // Caches of other bundles, and temporary files of runs killed while writing.
    for (const name of fs.readdirSync(folder)) if (!name.includes(bundleKey) || name.endsWith('.tmp')) fs.rmSync(path.join(folder, name), { force: true });
  } catch {
    // A cache is only an optimisation: the next run compiles as usual.
  }
}

function launch(): void {
  const command = commandWord(process.argv.slice(2));
  if (rebuildsDatabases(command, process.argv.slice(2))) restartWithSmallYoungGeneration(__filename);
  const folder = DATA_COMMANDS.has(command) ? undefined : cacheFolder();
  const source = folder ? fs.readFileSync(BUNDLE, 'utf8') : undefined;
  if (!folder || source === undefined) {
    (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
    require('./cli-main.js');
    return;
  }
  const bundleKey = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const file = path.join(folder, `${command}-${bundleKey}-node${process.versions.node}-v8${process.versions.v8}-${process.arch}.v8cache`);
  const cached = readCache(file);
  const script = new vm.Script(nodeModule.wrap(source), { filename: BUNDLE, cachedData: cached });
  if (!cached || script.cachedDataRejected) process.once('exit', () => writeCache(folder, file, script.createCachedData(), bundleKey));
  const bundleModule = new nodeModule.Module(BUNDLE, module);
  bundleModule.filename = BUNDLE;
  const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  run.call(bundleModule.exports, bundleModule.exports, nodeModule.createRequire(BUNDLE), bundleModule, BUNDLE, __dirname);
}

launch();
