import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveWritten } from './homePath';
import { STORE_FOLDER } from './storeFolder';
import { shortened } from './shortened';

/** True when `candidate` is `dir` itself or lies below it (both absolute, normalised). */
export function isInside(dir: string, candidate: string): boolean {
  const rel = path.relative(dir, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * True when `relative`, a path relative to the workspace folder, names this tool's own folder or a path
 * in it, read as written: symbolic links are not followed (checkProfilePath follows them too), and an
 * absolute path is never taken for one.
 */
export function relativePathInStore(relative: string): boolean {
  return !path.isAbsolute(relative) && path.normalize(relative).split(path.sep)[0] === STORE_FOLDER;
}

/**
 * Resolves symlinks in `target` as far as the path exists, then appends the part that does not exist
 * yet. This is where the file really is (or will be), which is what "inside the workspace" must judge.
 * A symbolic link whose target does not exist (yet) leads there all the same: read as a plain name, a
 * link to a missing folder outside passed for a folder inside.
 */
export function realLocation(target: string, depth = 0): string {
  let existing = path.resolve(target);
  const rest: string[] = [];
  for (;;) {
    try {
      const real = fs.realpathSync(existing);
      return path.join(real, ...rest.reverse());
    } catch {
      const leadsTo = danglingLinkTarget(existing);
      // 40 links in a row is what the system itself follows before it gives up (ELOOP).
      if (leadsTo !== undefined && depth < 40) return realLocation(path.join(leadsTo, ...rest.reverse()), depth + 1);
      const parent = path.dirname(existing);
      if (parent === existing) return path.resolve(target);
      rest.push(path.basename(existing));
      existing = parent;
    }
  }
}

/** Where the symbolic link `file` points (resolved against its folder), when it is one. */
function danglingLinkTarget(file: string): string | undefined {
  try {
    return fs.lstatSync(file).isSymbolicLink() ? path.resolve(path.dirname(file), fs.readlinkSync(file)) : undefined;
  } catch {
    return undefined;
  }
}

/** `outside`: refused only because it is outside the workspace, which allowed_directories can change. */
/** `absolute` is the path as written, resolved; `real`, where it leads once symbolic links are followed. */
/** `throughLink`: the path as written is sound; a symbolic link on the disk makes it lead where it may not. */
export type PathVerdict = { ok: true; absolute: string; real: string } | { ok: false; reason: string; outside?: boolean; throughLink?: boolean };

export interface PathCheckOptions {
  /** The one path of this tool's own in `.envprofiles/` that may be named: a backed-up profile YAML. */
  storeAllowed?: boolean;
  /**
   * Judge where the file itself is, not where it leads if it is a symbolic link: for the links this
   * tool makes (outputs.links), which point at the active profile's database, and that may be in an
   * allowed directory outside the workspace. Followed, such a link made config.yaml invalid, and every
   * command failed, right after a switch to such a profile.
   */
  ownLocation?: boolean;
  /**
   * The path is a restore's target from a backup's manifest: a backslash in a name, which earlier
   * versions let a profile's files have, is restored as it is rather than refused.
   */
  fromBackup?: boolean;
}

/**
 * Judges a path written in a profile: it must stay inside the workspace folder (lexically and after
 * following symlinks) unless it lies in one of the explicitly allowed directories, and outside
 * `.envprofiles/` unless `storeAllowed`.
 */
export function checkProfilePath(workspaceRoot: string, written: string, allowedDirectories: readonly string[], options: PathCheckOptions = {}): PathVerdict {
  const { storeAllowed = false, ownLocation = false, fromBackup = false } = options;
  if (written.trim() === '') return { ok: false, reason: 'is empty' };
  if (written.includes('\0')) return { ok: false, reason: 'contains a NUL character' };
  // As a backup's manifest may not hold one (a backup of such a path could never be restored).
  if (/[\u0001-\u001f\u007f]/.test(written)) return { ok: false, reason: `${JSON.stringify(written)} (in JSON notation) holds a line break or another control character, which a backup cannot restore: rename the file` };
  // File systems refuse a name longer than 255 bytes (and before, a create left a journal behind that then failed every command).
  if (written.split(/[\\/]/).some((name) => Buffer.byteLength(name) > 255)) return { ok: false, reason: `"${shortened(written, 80)}" has a name longer than 255 bytes, which file systems refuse` };
  if (/^[A-Za-z]:[\\/]/.test(written) && process.platform !== 'win32') {
    return { ok: false, reason: `"${written}" is a Windows drive path` };
  }
  // Elsewhere than on Windows a backslash is part of a name, which no backup manifest may hold (such a
  // profile was backed up, and every restore of that backup refused it); on Windows it is a separator.
  if (written.includes('\\') && process.platform !== 'win32' && !fromBackup) {
    return { ok: false, reason: `"${written}" holds a backslash: separate folders with "/" (Windows takes it too); a file whose name has one cannot be restored from a backup, so rename it` };
  }
  const root = realLocation(workspaceRoot);
  const absolute = resolveWritten(workspaceRoot, written);
  const allowed = allowedDirectories.map((dir) => realLocation(resolveWritten(workspaceRoot, dir)));
  const lexicalOk = isInside(path.resolve(workspaceRoot), absolute) || allowed.some((dir) => isInside(dir, absolute));
  if (!lexicalOk) {
    return { ok: false, reason: `"${written}" points outside the workspace folder`, outside: true };
  }
  const real = ownLocation ? path.join(realLocation(path.dirname(absolute)), path.basename(absolute)) : realLocation(absolute);
  if (!isInside(root, real) && !allowed.some((dir) => isInside(dir, real))) {
    return { ok: false, reason: `"${written}" leads outside the workspace folder through a symbolic link (to ${real})`, outside: true, throughLink: true };
  }
  // The store holds this tool's own files (profiles, state, config, journals, backups): a profile's file
  // or an output there would be overwritten by a restore or a switch, or overwrite one of them.
  const writtenThere = relativePathInStore(path.relative(path.resolve(workspaceRoot), absolute));
  if (!storeAllowed && (writtenThere || isInside(path.join(root, STORE_FOLDER), real))) {
    return { ok: false, reason: `"${written}" is inside ${STORE_FOLDER}, where this tool keeps its own files`, ...(writtenThere ? {} : { throughLink: true }) };
  }
  return { ok: true, absolute, real };
}
