import { isTextList } from './untrustedValues';

/**
 * What is wrong with the shape of a journal read from disk, if anything. Recovery acts on what a
 * journal says (removes, renames and writes back files), so one whose fields are not of their kinds (a
 * hand edit, a disk that damaged it yet left it JSON) is not acted on: it is kept aside as one that
 * cannot be read. Before, recovery failed on it as "a bug", in every command, until it was removed.
 */
export function journalShapeProblem(journal: unknown): string | undefined {
  if (!journal || typeof journal !== 'object') return 'it is not an object';
  const j = journal as Record<string, unknown>;
  const texts = (...keys: string[]): string | undefined => keys.find((key) => typeof j[key] !== 'string');
  const phased = j.phase === 'prepared' || j.phase === 'committed';
  let missing: string | undefined;
  switch (j.operation) {
    case 'switch':
      missing = !phased ? 'phase' : texts('to') ?? (j.from !== null && typeof j.from !== 'string' ? 'from' : undefined) ?? (!Array.isArray(j.outputs) || !j.outputs.every(isSwitchOutput) ? 'outputs' : undefined);
      break;
    case 'backup':
      missing = texts('profileId', 'backupId', 'archiveTemp', 'archiveFinal', 'stagingDir');
      break;
    case 'restore':
      missing = !phased ? 'phase' : texts('profileId', 'backupId', 'stagingDir') ?? (!Array.isArray(j.swaps) || !j.swaps.every(isSwap) ? 'swaps' : undefined);
      break;
    case 'prune':
      missing = texts('profileId', 'catalogFile') ?? (!Array.isArray(j.archives) || !j.archives.every((a) => isRecord(a) && typeof a.id === 'string' && typeof a.file === 'string') ? 'archives' : undefined);
      break;
    case 'delete':
      missing = !phased ? 'phase' : texts('profileId', 'profileFile') ?? (!Array.isArray(j.aside) || !j.aside.every((a) => isRecord(a) && typeof a.from === 'string' && typeof a.path === 'string') ? 'aside' : undefined);
      break;
    case 'clone':
    case 'create':
    case 'initialise':
      missing = !phased ? 'phase' : texts('source', 'target', 'profileFile') ?? ['createdFiles', 'createdDirectories', 'workDirectories'].find((key) => !isTextList(j[key]))
        ?? (j.madeFiles !== undefined && !(Array.isArray(j.madeFiles) && j.madeFiles.every((m) => isRecord(m) && typeof m.path === 'string' && typeof m.ino === 'string')) ? 'madeFiles' : undefined)
        ?? (j.profileSha256 !== undefined && typeof j.profileSha256 !== 'string' ? 'profileSha256' : undefined);
      break;
    default:
      return `it names no operation this version knows (${JSON.stringify(j.operation) ?? 'none'})`;
  }
  return missing ? `its ${missing} is missing or not of its kind` : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object';
}

/** An output a switch journal can put back: a path and what was there (absent, a file's bytes and mode, or a link). */
function isSwitchOutput(output: unknown): boolean {
  if (!isRecord(output) || typeof output.path !== 'string' || !isRecord(output.before)) return false;
  const before = output.before;
  if (before.kind === 'absent') return true;
  if (before.kind === 'symlink') return typeof before.target === 'string';
  return before.kind === 'file' && typeof before.contentBase64 === 'string' && Number.isInteger(before.mode);
}

/** A restore's swap: the target, the incoming file, and where the old one was set aside. */
function isSwap(swap: unknown): boolean {
  return isRecord(swap) && typeof swap.target === 'string' && typeof swap.incoming === 'string' && Array.isArray(swap.keptOld)
    && swap.keptOld.every((kept) => isRecord(kept) && typeof kept.path === 'string' && typeof kept.from === 'string' && (kept.keepAs === undefined || typeof kept.keepAs === 'string'));
}
