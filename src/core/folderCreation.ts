import * as fs from 'node:fs';
import * as path from 'node:path';
import { EnvProfilesError } from './errors';
import { typedSystemError } from './systemErrors';

/**
 * Creates `dir` and its parents, and says why it could not: Node's recursive mkdir reports a read-only
 * or unwritable parent as ENOENT ("no such file or directory"), which would send the user looking for
 * the wrong problem. `purpose` says what the folder is for ("the backups of dev").
 */
export function createFolder(dir: string, purpose: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    let existing = path.resolve(dir);
    while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
    try {
      fs.accessSync(existing, fs.constants.W_OK);
    } catch (denied) {
      const readOnly = (denied as NodeJS.ErrnoException).code === 'EROFS';
      throw new EnvProfilesError('PERMISSION_DENIED', `Cannot create ${dir} (${purpose}): ${existing} ${readOnly ? 'is on a read-only file system' : 'is not writable'}.`, {
        file: dir,
        cause: error,
        hint: readOnly ? 'Use a folder on a writable disk, then run it again.' : `Check the owner and permissions of ${existing}, then run it again.`,
      });
    }
    throw typedSystemError(error) ?? error;
  }
}
