import * as path from 'node:path';
import { TEMP_MARKER } from './atomicFile';
import { isBackupId } from './backup/backupLayout';
import type { OperationJournal } from './operationJournal';
import { realLocation } from './pathSafety';
import { DATABASE_FILE_SUFFIXES } from './sqlite/companionFiles';
import { workspaceConfigFor } from './workspaceConfig';
import type { WorkspaceContext } from './workspaceContext';

/**
 * Why a journal names paths that its operation never writes, or undefined when every path it would
 * remove, rename or write is one of them. Recovery acts on a journal without asking, on any command
 * (`list` too), so a journal that came with the workspace (a clone of someone's repository) could
 * otherwise remove or write any file the user can: before, a backup journal naming a folder outside
 * the workspace had that folder removed by the next `envprofiles list`.
 *
 * What this tool writes: temporary files and folders (their names carry TEMP_MARKER) beside their
 * targets; a backup's archive under its id; a restore's or a new profile's files inside the workspace
 * or a folder config.yaml allows; a switch's env file and links inside the workspace; a delete's files
 * renamed beside themselves, inside the workspace or an allowed folder.
 */
export function journalPathProblem(journal: OperationJournal, context: WorkspaceContext): string | undefined {
  const { layout } = context;
  const root = realLocation(layout.root);
  let allowed: string[] = [];
  try {
    allowed = workspaceConfigFor(context).allowedDirectories.map((dir) => realLocation(path.resolve(layout.root, dir)));
  } catch {
    // An invalid config.yaml allows no folder outside the workspace.
  }
  // Where the file itself is, not where it leads: a switch's link output may point at a database outside.
  const located = (file: string): string => path.join(realLocation(path.dirname(file)), path.basename(file));
  const inWorkspace = (file: string): boolean => isInside(root, located(file));
  const inAllowed = (file: string): boolean => inWorkspace(file) || allowed.some((dir) => isInside(dir, located(file)));
  // A folder a new profile made may be an allowed folder itself (it did not exist); it is removed only when empty.
  const folderInAllowed = (dir: string): boolean => inAllowed(dir) || allowed.includes(located(dir));
  const named = (file: unknown): file is string => typeof file === 'string' && path.isAbsolute(file) && path.normalize(file) === file;
  const temporary = (file: string): boolean => named(file) && path.basename(file).includes(TEMP_MARKER);
  const besideTemporary = (file: string, of: string): boolean => temporary(file) && path.dirname(file) === path.dirname(of);
  const outside = (file: string, where: string): string => `${file} is not ${where}`;
  switch (journal.operation) {
    case 'switch': {
      const stray = journal.outputs.find((o) => !named(o.path) || !inWorkspace(o.path));
      return stray && outside(stray.path, 'inside the workspace, where a switch writes its env file and links');
    }
    case 'backup': {
      if (!temporary(journal.archiveTemp) || !temporary(journal.stagingDir)) return `${temporary(journal.archiveTemp) ? journal.stagingDir : journal.archiveTemp} is not a temporary name this tool gives`;
      const own = isBackupId(journal.backupId) && journal.backupId.startsWith(`${journal.profileId}.`) && named(journal.archiveFinal)
        && journal.archiveFinal === path.join(path.dirname(journal.archiveTemp), `${journal.backupId}.zip`);
      return own ? undefined : `${journal.archiveFinal} is not the archive of backup ${journal.backupId} beside its temporary file`;
    }
    case 'restore': {
      if (!temporary(journal.stagingDir)) return `${journal.stagingDir} is not a temporary name this tool gives`;
      for (const swap of journal.swaps) {
        if (!named(swap.target) || !inAllowed(swap.target)) return outside(swap.target, 'inside the workspace or a folder its config.yaml allows');
        if (!besideTemporary(swap.incoming, swap.target)) return `${swap.incoming} is not a temporary file beside ${swap.target}`;
        for (const kept of swap.keptOld) {
          if (!DATABASE_FILE_SUFFIXES.some((suffix) => kept.from === `${swap.target}${suffix}`)) return `${kept.from} is not ${swap.target} or one of its companion files`;
          if (!besideTemporary(kept.path, kept.from)) return `${kept.path} is not a temporary file beside ${kept.from}`;
          if (kept.keepAs !== undefined && (!named(kept.keepAs) || path.dirname(kept.keepAs) !== path.dirname(kept.from))) return `${kept.keepAs} is not beside ${kept.from}`;
        }
      }
      return undefined;
    }
    case 'clone':
    case 'create':
    case 'initialise': {
      if (journal.profileFile !== layout.profileFile(journal.target)) return `${journal.profileFile} is not the profile file of ${journal.target}`;
      const stray = journal.createdFiles.find((file) => !named(file) || !inAllowed(file))
        ?? [...journal.createdDirectories, ...journal.workDirectories].find((dir) => !named(dir) || !folderInAllowed(dir));
      return stray && outside(stray, 'inside the workspace or a folder its config.yaml allows');
    }
    case 'delete': {
      // Only the profile's own file and files inside the workspace or an allowed folder, each renamed beside itself.
      if (journal.profileFile !== layout.profileFile(journal.profileId)) return `${journal.profileFile} is not the profile file of ${journal.profileId}`;
      for (const { from, path: aside } of journal.aside) {
        if (!named(from) || !inAllowed(from)) return outside(from, 'inside the workspace or a folder its config.yaml allows');
        if (!besideTemporary(aside, from)) return `${aside} is not a temporary file beside ${from}`;
      }
      return undefined;
    }
    case 'prune': {
      // finishPrune deletes only archives named by their id beside the catalog; the catalog is only read.
      return path.basename(journal.catalogFile) === 'catalog.json' ? undefined : `${journal.catalogFile} is not a catalog`;
    }
  }
}

function isInside(folder: string, file: string): boolean {
  const relative = path.relative(folder, file);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

