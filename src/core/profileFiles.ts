/** Why a `files:` entry that is not a file cannot be backed up, and what to do. */
export function notAFileProblem(written: string, state: 'folder' | 'not-a-file'): { message: string; hint: string } {
  return {
    message: `${written} (in files:) is ${state === 'folder' ? 'a folder' : 'not a regular file'}, and files: lists files`,
    hint: state === 'folder' ? `List the files in ${written} that belong to the environment instead of the folder.` : `Remove ${written} from files:, or list the file it stands for.`,
  };
}

/**
 * Why a path of `files:` that is not there is not backed up, and, when it looks like a pattern
 * (`config/*.ini`), that patterns are not expanded: before, it was only "does not exist", which read as
 * if no file matched.
 */
export function missingFileReason(written: string): string {
  return /[*?[\]{}]/.test(written) ? `does not exist (files: takes paths, not patterns: * ? [ ] { } are not expanded; list each file)` : 'does not exist';
}
