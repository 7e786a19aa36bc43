import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { fileAttributesOf, giveAttributes, setPermissions } from './filePermissions';
import { isProcessAlive, thisProcessIdentity, type ProcessIdentity } from './processAlive';
import { fittingName } from './fittingName';
import { makeFolders } from './makeFolders';

/** Every temporary file this tool creates carries this marker, so recovery can find leftovers. */
export const TEMP_MARKER = '.envprofiles-tmp-';

/** What follows the marker: the writer's process id (at most 7 digits on Linux), a dash, 8 random hex digits, the machine's tag (10 with its dash), and its start ("-t" and at most 11 base-36 digits). */
const WRITER_AND_RANDOM_BYTES = 39;

/**
 * This machine, as its temporary names say after the writer's process id and the unique part. A backups
 * folder on a share may hold another machine's files that are being written at this moment: their
 * process id means nothing here (before, a command on this machine took them for a killed process's
 * and removed them, and the other machine's backup failed), so they are left alone until nothing has
 * touched them for OTHER_MACHINE_ABANDONED_MS. Names without a tag (written before it) are this machine's.
 */
const MACHINE_TAG = `h${createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8)}`;
const OTHER_MACHINE_ABANDONED_MS = 10 * 60_000;

/**
 * What a temporary name of this process ends with, after the marker: its process id, `unique`, the
 * machine's tag, and when the process started (Linux; see ProcessIdentity): after a restart another
 * process may have the id, and the files a killed one left must not pass for that one's.
 */
export function temporaryNameEnd(unique: string): string {
  const { started } = thisProcessIdentity();
  return `${process.pid}-${unique}-${MACHINE_TAG}${started === undefined ? '' : `-t${started.toString(36)}`}`;
}

/** The name of a temporary folder for `purpose` (snapshots, rebuilds), which recovery finds and judges like a temporary file. */
export function temporaryFolderName(purpose: string): string {
  return `.${purpose}${TEMP_MARKER}${temporaryNameEnd(Date.now().toString(36))}`;
}

/** How every temporary name of `target` starts; a name near the file system's limit is cut to leave room for the rest. */
function temporaryPrefixFor(target: string): string {
  return `.${fittingName(path.basename(target), 1 + TEMP_MARKER.length + WRITER_AND_RANDOM_BYTES)}${TEMP_MARKER}`;
}

/** A temporary name in the same folder as `target`, so the final rename stays on one file system. */
export function temporaryPathFor(target: string): string {
  return path.join(path.dirname(target), `${temporaryPrefixFor(target)}${temporaryNameEnd(randomBytes(4).toString('hex'))}`);
}

/** Flushes a directory entry so a rename survives a power loss. */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Creates the new version of `target` under a temporary name with `create`, then renames it over `target`. */
function replaceViaTemporary(target: string, create: (temp: string) => void): void {
  makeFolders(path.dirname(target));
  const temp = temporaryPathFor(target);
  try {
    create(temp);
    fs.renameSync(temp, target);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  fsyncDirectory(path.dirname(target));
}

/**
 * Writes `data` to `target` atomically: temporary file in the same folder, fsync, rename, fsync folder.
 * A file replaced keeps its owner and permissions (`mode`, when given, sets them instead).
 */
export function writeFileAtomic(target: string, data: string | Uint8Array, mode?: number): void {
  const replaced = fileAttributesOf(target);
  replaceViaTemporary(target, (temp) => {
    const fd = fs.openSync(temp, 'wx', mode ?? replaced?.mode ?? 0o644);
    try {
      fs.writeFileSync(fd, data);
      if (replaced) giveAttributes(fd, { ...replaced, mode: mode ?? replaced.mode });
      else if (mode !== undefined) setPermissions(fd, mode);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  });
}

/**
 * Writes `chunks` to `file` (a temporary file of the caller's, created or emptied) and fsyncs it, so
 * that a later rename of it cannot leave an empty file after a power loss.
 */
export async function writeChunksDurably(file: string, chunks: AsyncIterable<Buffer>, mode: number): Promise<void> {
  const fd = fs.openSync(file, 'w', mode);
  try {
    for await (const chunk of chunks) fs.writeSync(fd, chunk);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Points `linkPath` at `target` atomically (a new link under a temporary name, renamed over the old one). */
export function replaceSymlinkAtomic(linkPath: string, target: string): void {
  replaceViaTemporary(linkPath, (temp) => fs.symlinkSync(target, temp));
}

/** Moves a finished temporary file into place and makes the rename durable. */
export function commitTemporaryFile(temp: string, target: string): void {
  fsyncFile(temp);
  renameDurably(temp, target);
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * commitTemporaryFile for a file that must be new: false, leaving both files as they are, when a file
 * appeared at `target` meanwhile (see renameDurablyWithoutReplacing).
 */
export function commitNewFile(temp: string, target: string): boolean {
  fsyncFile(temp);
  return renameDurablyWithoutReplacing(temp, target);
}

/**
 * Writes `data` as a new file at `target`: a temporary file, fsync, then renameDurablyWithoutReplacing.
 * False, leaving what is at `target` as it is, when a file is there or appears meanwhile.
 * `beforeCommit` runs between the two (a step tests hold at).
 */
export function writeNewFileDurably(target: string, data: string | Uint8Array, beforeCommit?: () => void): boolean {
  const temp = temporaryPathFor(target);
  try {
    const fd = fs.openSync(temp, 'wx', 0o644);
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    beforeCommit?.();
    return renameDurablyWithoutReplacing(temp, target);
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** Renames a temporary file its writer has already fsynced into place, and flushes the folder. */
export function renameDurably(temp: string, target: string): void {
  fs.renameSync(temp, target);
  fsyncDirectory(path.dirname(target));
}

/**
 * renameDurably that never replaces a file already at `target`: a hard link (which fails if the name is
 * taken), then the temporary name removed. Where the file system has no hard links (FAT, exFAT), a check
 * and a rename. Returns false, leaving both files as they are, when `target` exists.
 */
export function renameDurablyWithoutReplacing(temp: string, target: string): boolean {
  try {
    fs.linkSync(temp, target);
    fs.rmSync(temp, { force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    if (fs.existsSync(target)) return false;
    fs.renameSync(temp, target);
  }
  fsyncDirectory(path.dirname(target));
  return true;
}

/** Whether a running process (this one included, or one of another machine) is writing `target` under a temporary name now. */
export function isBeingWritten(target: string): boolean {
  const prefix = temporaryPrefixFor(target);
  const dir = path.dirname(target);
  try {
    return fs.readdirSync(dir).some((name) => name.startsWith(prefix) && isWrittenNow(dir, name));
  } catch {
    return false;
  }
}

/** Who wrote a temporary file, from its name (see temporaryNameEnd): its process id, whether it is of this machine, and when it started if the name says; undefined for any other name. */
function temporaryFileWriter(name: string): { pid: number; here: boolean; identity: ProcessIdentity } | undefined {
  const at = name.indexOf(TEMP_MARKER);
  if (at < 0) return undefined;
  // A companion file SQLite made beside a temporary database (`…-journal`, `…-shm`) follows the tag, or the start ("-t": no such companion's ends begin so).
  const writer = /^(\d+)(?:-[0-9a-z]+(?:-(h[0-9a-f]{8})(?:-t([0-9a-z]{1,11})(?=$|-))?)?)?/.exec(name.slice(at + TEMP_MARKER.length));
  const pid = writer ? Number(writer[1]) : 0;
  const identity: ProcessIdentity = writer?.[3] === undefined ? {} : { started: parseInt(writer[3], 36) };
  return pid > 0 ? { pid, here: writer?.[2] === undefined || writer[2] === MACHINE_TAG, identity } : undefined;
}

/**
 * Whether the writer that `name` in `dir` names is writing it now: a live process of this machine
 * (this one included), or, for another machine's, anything that touched it in the last ten minutes.
 */
function isWrittenNow(dir: string, name: string): boolean {
  const writer = temporaryFileWriter(name);
  if (writer === undefined) return false;
  return writer.here ? isProcessAlive(writer.pid, writer.identity) : untouchedForMs(path.join(dir, name)) <= OTHER_MACHINE_ABANDONED_MS;
}

/**
 * Whether `name` in `dir` is a temporary file (or folder) of this tool that no running process is
 * writing: its writer was killed, or is this process (recovery runs before its own work). Another live
 * process's is a write in progress: the lock file it is creating, or a catalog of a workspace that
 * shares the backups folder; so is another machine's until nothing has touched it for ten minutes.
 */
function isLeftBehind(dir: string, name: string): boolean {
  if (!name.includes(TEMP_MARKER)) return false;
  const writer = temporaryFileWriter(name);
  return (writer?.here === true && writer.pid === process.pid) || !isWrittenNow(dir, name);
}

/** How long since `file` (or, for a folder, it or anything directly in it) was last written; 0 when that cannot be read. */
function untouchedForMs(file: string): number {
  try {
    const stat = fs.statSync(file);
    let newest = stat.mtimeMs;
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(file)) newest = Math.max(newest, fs.statSync(path.join(file, entry), { throwIfNoEntry: false })?.mtimeMs ?? 0);
    }
    return Date.now() - newest;
  } catch {
    return 0;
  }
}

/** Removes this tool's temporary files left in `dir` by a process that was killed (or by this one). Returns what was removed. */
export function removeTemporaryFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names.filter((n) => isLeftBehind(dir, n))) {
    fs.rmSync(path.join(dir, name), { force: true, recursive: true });
    removed.push(path.join(dir, name));
  }
  return removed;
}

/** True when `dir` holds temporary files of this tool that no running process is writing. */
export function hasTemporaryFiles(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((name) => isLeftBehind(dir, name));
  } catch {
    return false;
  }
}
