/** Why a `files:` entry that is not a file cannot be backed up, and what to do. */
export function notAFileProblem(written: string, state: 'folder' | 'not-a-file'): { message: string; hint: string } {
  return {
    message: `${written} (in files:) is ${state === 'folder' ? 'a folder' : 'not a regular file'}, and files: lists files`,
    hint: state === 'folder' ? `List the files in ${written} that belong to the environment instead of the folder.` : `Remove ${written} from files:, or list the file it stands for.`,
  };
}
