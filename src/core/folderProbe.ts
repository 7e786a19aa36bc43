import * as fs from 'node:fs';
import * as path from 'node:path';

/** The folder itself, or its nearest ancestor that exists (where a new folder would be made). */
export function nearestExisting(dir: string): string {
  let existing = path.resolve(dir);
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  return existing;
}

/** Why this process cannot write into `folder` (or where it would be made), or undefined when it can. */
export function writeRefusal(folder: string): { existing: string; readOnly: boolean; error: unknown } | undefined {
  const existing = nearestExisting(folder);
  try {
    fs.accessSync(existing, fs.constants.W_OK);
    return undefined;
  } catch (error) {
    return { existing, readOnly: (error as NodeJS.ErrnoException).code === 'EROFS', error };
  }
}
