import * as fs from 'node:fs';
import * as path from 'node:path';
import { STORE_FOLDER } from './storeFolder';

/**
 * The workspace a command run in `start` means, as git finds its repository: `start` itself when it
 * holds `.envprofiles/`, else the nearest folder above it that does (a command run in `data/dev/`
 * acts on the workspace it is in, instead of saying that `data/dev/` has no `.envprofiles/`).
 * Undefined when no folder up to the root holds one.
 */
export function enclosingWorkspace(start: string): string | undefined {
  let folder = path.resolve(start);
  for (;;) {
    if (isFolder(path.join(folder, STORE_FOLDER))) return folder;
    const parent = path.dirname(folder);
    if (parent === folder) return undefined;
    folder = parent;
  }
}

function isFolder(candidate: string): boolean {
  try {
    return fs.statSync(candidate).isDirectory();
  } catch {
    return false;
  }
}
