import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A path as written in config.yaml, a profile or a setting, with a leading `~` or `~/` read as the
 * user's home folder, as a shell would. Without this, `directory: ~/backups` made a folder named `~`
 * inside the workspace. `~name/` (another user's home) is left as written: a shell's rules for it
 * depend on the system's user database, and a folder of that name is what such a path then means.
 */
export function expandHome(written: string): string {
  if (written === '~') return os.homedir();
  if (written.startsWith('~/') || (path.sep === '\\' && written.startsWith('~\\'))) return path.join(os.homedir(), written.slice(2));
  return written;
}

/** Resolves a path as written (relative to `base`, absolute, or under `~`) to an absolute one. */
export function resolveWritten(base: string, written: string): string {
  return path.resolve(base, expandHome(written));
}
