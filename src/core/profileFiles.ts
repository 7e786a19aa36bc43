import * as fs from 'node:fs';

/**
 * What a path of a profile's `files:` list is on disk: a file (backed up with the profile), missing
 * (nothing to back up: a backup says so), or a folder or other non-file, which `files:` cannot hold.
 */
export type ListedFileState = 'file' | 'missing' | 'folder' | 'not-a-file';

export function listedFileState(absolute: string): ListedFileState {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw error;
  }
  return stat.isFile() ? 'file' : stat.isDirectory() ? 'folder' : 'not-a-file';
}

/** Why a `files:` entry that is not a file cannot be backed up, and what to do. */
export function notAFileProblem(written: string, state: 'folder' | 'not-a-file'): { message: string; hint: string } {
  return {
    message: `${written} (in files:) is ${state === 'folder' ? 'a folder' : 'not a regular file'}, and files: lists files`,
    hint: state === 'folder' ? `List the files in ${written} that belong to the environment instead of the folder.` : `Remove ${written} from files:, or list the file it stands for.`,
  };
}
