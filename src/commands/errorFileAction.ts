import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EnvProfilesError } from '../core/errors';
import type { FolderModel } from '../folderModel';

/** The file an error names, as a button on the error that opens it where the problem is. */
export interface ErrorFileAction {
  label: string;
  open: () => Thenable<unknown>;
}

/** Larger files are not opened from an error: what the errors name for editing is a few kilobytes. */
const LARGEST_OPENED = 4 * 1024 * 1024;

/**
 * A text file (a profile's YAML, config.yaml, an env file) that the error names and that exists, in
 * exactly one of `folders` when its path is relative (the core names files relative to the workspace
 * folder). A database, an archive or a folder is no file to edit: none is offered for those.
 */
export function errorFileAction(error: EnvProfilesError, folders: readonly FolderModel[]): ErrorFileAction | undefined {
  if (!error.file) return undefined;
  const candidates = path.isAbsolute(error.file) ? [error.file] : folders.map((folder) => path.join(folder.folder.uri.fsPath, error.file as string));
  const found = candidates.filter(isSmallTextFile);
  if (found.length !== 1) return undefined;
  const position = new vscode.Position(Math.max(0, (error.line ?? 1) - 1), Math.max(0, (error.column ?? 1) - 1));
  return {
    label: `Open ${path.basename(found[0])}`,
    open: () => vscode.window.showTextDocument(vscode.Uri.file(found[0]), { selection: new vscode.Range(position, position) }),
  };
}

/** A regular file small enough to edit, without a NUL byte in its first 8 KiB (SQLite files and ZIP archives have many). */
function isSmallTextFile(file: string): boolean {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile() || stat.size > LARGEST_OPENED) return false;
    const fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(Math.min(stat.size, 8192));
      const read = fs.readSync(fd, head, 0, head.length, 0);
      return !head.subarray(0, read).includes(0);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}
