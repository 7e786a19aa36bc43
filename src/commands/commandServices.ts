import type * as vscode from 'vscode';
import type { TerminalEnvironment } from '../terminal/terminalEnvironment';
import type { ChildProcessRun } from './childOperation';
import type { WorkspaceModel } from '../workspaceModel';

/** What command handlers are given (built once in activate, passed in; no globals). */
export interface CommandServices {
  model: WorkspaceModel;
  log: vscode.LogOutputChannel;
  terminals: TerminalEnvironment;
  /** The last error message shown to the user (for the tests and the log). */
  lastError?: string;
  /** How the last operation run in a child process ran (for the tests and the log). */
  lastChildProcess?: ChildProcessRun;
}

/** Thrown when the user dismisses a picker or an input: the command ends silently. */
export class UserCancelled extends Error {
  constructor() {
    super('cancelled by the user');
  }
}

/**
 * Arguments a command accepts from scripts, keybindings and tests instead of a tree item or pickers
 * (`vscode.commands.executeCommand('envProfiles.switchProfile', { profileId, confirm })`).
 */
export interface CommandArguments {
  folder?: string;
  profileId?: string;
  backupId?: string;
  /** A backup archive's path (instead of `backupId`): one copied, kept off-site, or from another workspace. */
  archive?: string;
  database?: string;
  newId?: string;
  name?: string;
  type?: string;
  confirm?: string;
  data?: 'copy' | 'schema' | 'empty';
  /** Make Missing Databases: the profile whose schema they get (without it, `data: 'empty'` makes them empty). */
  schemaFrom?: string;
  /** Delete Profile: when no verified backup covers the profile, back up, verify and delete without asking. */
  backUpFirst?: boolean;
  /** Back Up: a damaged database is left out and its file kept in the archive as found (backup --keep-damaged). */
  keepDamaged?: boolean;
  /** Create Profile: its databases, logical name to path (as `--db NAME=PATH`); asked for when no profile has any yet. */
  databases?: Record<string, string>;
}
