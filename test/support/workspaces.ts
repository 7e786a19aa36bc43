import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadSqliteEngine } from '../../src/core/sqlite/loadEngine';
import type { EngineName, SqliteEngine } from '../../src/core/sqlite/sqliteEngine';
import { createWorkspaceContext, type WorkspaceContext } from '../../src/core/workspaceContext';
import { createDemoWorkspace } from '../../src/demo/demoWorkspace';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

const created: string[] = [];

/** A fresh temporary folder, removed after the test run. */
export function tempDir(prefix = 'envprofiles-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** A folder beside `root` (a workspace moved, or a copy of it), removed after the test run like `root`. */
export function besideDir(root: string, suffix: string): string {
  const dir = `${root}-${suffix}`;
  created.push(dir);
  return dir;
}

after(() => {
  if (process.env.KEEP_TEST_DIRS) return;
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
});

const engines = new Map<string, Promise<SqliteEngine>>();
/** The engine the tests use: node:sqlite, or sql.js when ENVPROFILES_SQLITE_ENGINE says so (as the CLI they start does). */
export function engine(name: EngineName = process.env.ENVPROFILES_SQLITE_ENGINE === 'sql.js' ? 'sql.js' : 'node:sqlite'): Promise<SqliteEngine> {
  if (!engines.has(name)) engines.set(name, loadSqliteEngine(name));
  return engines.get(name) as Promise<SqliteEngine>;
}

/**
 * Waits past the clock tick of the last write. Linux stamps a file's time from a clock that moves once a
 * tick (up to 10 ms behind the real time), so delete takes a change as up to 10 ms later than its stamp:
 * a backup meant to cover a change just made is taken after this (see `lastChange` in profileDeletion).
 */
export function pastLastWrite(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

/** Lets the workspace's profiles use `folders` outside it (config.yaml's allowed_directories, empty in a new workspace). */
export function allowFolders(root: string, ...folders: string[]): void {
  const file = path.join(root, '.envprofiles/config.yaml');
  const text = fs.readFileSync(file, 'utf8');
  if (!text.includes('allowed_directories: []')) throw new Error(`${file} already allows folders`);
  fs.writeFileSync(file, text.replace('allowed_directories: []', `allowed_directories: ${JSON.stringify(folders)}`));
}

/** A demo workspace (three profiles over real WAL databases) in a fresh folder. */
export async function demoWorkspace(marketRows = 50): Promise<{ root: string; context: WorkspaceContext }> {
  const root = tempDir();
  const sqlite = await engine();
  createDemoWorkspace(sqlite, root, { marketRows });
  return { root, context: createWorkspaceContext(root, sqlite) };
}

/** An initialised workspace with no profiles. */
export async function emptyWorkspace(): Promise<{ root: string; context: WorkspaceContext }> {
  const root = tempDir();
  fs.mkdirSync(path.join(root, '.envprofiles', 'profiles'), { recursive: true });
  return { root, context: createWorkspaceContext(root, await engine()) };
}

/**
 * Every file, link and its content (or link target) under `root`, for byte-for-byte comparisons; but the
 * audit log, which is evidence, not state: an operation refused or failed changes nothing, and says so there.
 */
export function snapshotTree(root: string, skip: (rel: string) => boolean = () => false): Record<string, string> {
  const result: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of fs.readdirSync(dir)) {
      const full = path.join(dir, name);
      const rel = path.relative(root, full);
      if (skip(rel) || full.endsWith(`${path.sep}.envprofiles${path.sep}audit.jsonl`)) continue;
      const stat = fs.lstatSync(full);
      if (stat.isSymbolicLink()) result[rel] = `link -> ${fs.readlinkSync(full)}`;
      else if (stat.isDirectory()) walk(full);
      else result[rel] = `${(stat.mode & 0o777).toString(8)} ${fs.readFileSync(full).toString('base64')}`;
    }
  };
  walk(root);
  return result;
}

/** Files whose names mark them as this tool's temporary files. */
export function temporaryFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of fs.readdirSync(dir)) {
      const full = path.join(dir, name);
      if (name.includes('.envprofiles-tmp-')) found.push(path.relative(root, full));
      const stat = fs.lstatSync(full);
      if (stat.isDirectory()) walk(full);
    }
  };
  walk(root);
  return found;
}

/** Compares two tree snapshots and names the paths that differ (a plain deepEqual would print megabytes of base64). */
export function assertSameTree(after: Record<string, string>, before: Record<string, string>, message: string): void {
  const paths = new Set([...Object.keys(before), ...Object.keys(after)]);
  const differing = [...paths].filter((p) => before[p] !== after[p]).map((p) => `${p} (${p in before ? (p in after ? 'changed' : 'removed') : 'added'})`);
  if (differing.length > 0) throw new Error(`${message}: ${differing.join(', ')}`);
}

/** Lists `files` under `files:` in the profile file of `profileId` (the demo profiles have none). */
export function listFilesInProfile(root: string, profileId: string, files: string[]): void {
  const profileFile = path.join(root, `.envprofiles/profiles/${profileId}.yaml`);
  fs.writeFileSync(profileFile, fs.readFileSync(profileFile, 'utf8').replace('  configurations:', `  files:\n${files.map((file) => `    - ${file}\n`).join('')}  configurations:`));
}
