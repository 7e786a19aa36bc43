import * as fs from 'node:fs';
import { appendAudit } from './auditLog';
import { writeFileAtomic } from './atomicFile';
import { EnvProfilesError } from './errors';
import { DEFAULT_CONFIG_TEXT } from './workspaceConfig';
import type { WorkspaceContext } from './workspaceContext';
import type { WorkspaceLayout } from './workspaceLayout';
import { makeFolders } from './makeFolders';

/** What must never be committed: machine state, journals, locks, backups, temporary files. */
export const STORE_GITIGNORE = `# Written by Environment Profiles: machine-local state, never committed.
state.json
audit.jsonl
lock
lock.*
journal/
backups/
env-backups/
backups-folder.json
*.envprofiles-tmp-*
`;

export interface InitResult {
  created: string[];
  alreadyInitialised: boolean;
}

/** Creates `.envprofiles/` with its folders, config.yaml and .gitignore. Existing files are left as they are. */
export function initialiseWorkspace(context: WorkspaceContext): InitResult {
  const { layout } = context;
  // A folder that does not exist yet is made (as git init makes one); a file is not a workspace.
  if (fs.existsSync(layout.root)) requireWorkspaceFolder(layout);
  const alreadyInitialised = fs.existsSync(layout.storeDir);
  const created: string[] = [];
  for (const dir of [layout.storeDir, layout.profilesDir, layout.templatesDir]) {
    if (!fs.existsSync(dir)) {
      makeFolders(dir);
      created.push(layout.relative(dir) + '/');
    }
  }
  for (const [file, content] of [[layout.configFile, DEFAULT_CONFIG_TEXT], [layout.gitignoreFile, STORE_GITIGNORE]] as const) {
    if (!fs.existsSync(file)) {
      writeFileAtomic(file, content);
      created.push(layout.relative(file));
    }
  }
  if (created.length > 0) appendAudit(context, { event: 'init', outcome: 'ok', detail: `created ${created.join(', ')}` });
  return { created, alreadyInitialised };
}

/**
 * Adds `entry` to `.envprofiles/.gitignore` when a file that is machine-local state is first written in
 * a workspace whose .gitignore predates it (the file is ours; the user's lines stay as they are).
 */
export function ignoreInStore(layout: WorkspaceLayout, entry: string): void {
  let text: string;
  try {
    text = fs.readFileSync(layout.gitignoreFile, 'utf8');
  } catch {
    return;
  }
  if (text.split(/\r?\n/).includes(entry)) return;
  writeFileAtomic(layout.gitignoreFile, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${entry}\n`);
}

/** Refuses to work on a folder that has no `.envprofiles/`. */
export function requireInitialised(layout: WorkspaceLayout, options: { searchedAbove?: boolean } = {}): void {
  requireWorkspaceFolder(layout);
  if (!fs.existsSync(layout.storeDir)) {
    throw new EnvProfilesError('NOT_INITIALISED', `${layout.root} has no .envprofiles/ folder${options.searchedAbove ? ', nor has any folder above it' : ''}.`, {
      hint: 'Run "envprofiles init" in the workspace folder (or pass --workspace DIR).',
    });
  }
}

/** The workspace must be a folder: a file, or nothing, there is said as such (before: "has no .envprofiles/ folder", or for init a bug). */
function requireWorkspaceFolder(layout: WorkspaceLayout): void {
  let isFolder: boolean;
  try {
    isFolder = fs.statSync(layout.root).isDirectory();
  } catch {
    throw new EnvProfilesError('NOT_INITIALISED', `The workspace folder ${layout.root} does not exist.`, { kind: 'usage', hint: 'Pass the folder of your workspace with --workspace DIR (or run the command in it).' });
  }
  if (!isFolder) throw new EnvProfilesError('NOT_INITIALISED', `${layout.root} is a file, not a workspace folder.`, { kind: 'usage', hint: 'Pass the folder of your workspace with --workspace DIR (or run the command in it).' });
}
