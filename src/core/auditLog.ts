import * as fs from 'node:fs';
import { isEnvProfilesError } from './errors';
import type { WorkspaceContext } from './workspaceContext';
import { nonFileInWords, pathKind, readFileIfRegular } from './pathKind';
import { makeFolders } from './makeFolders';

export type AuditEvent = 'init' | 'create' | 'clone' | 'switch' | 'rollback' | 'recover' | 'delete' | 'validate' | 'backup' | 'verify' | 'restore' | 'prune' | 'catalog-rebuilt' | 'init-db';

export interface AuditEntry {
  time: string;
  actor: string;
  event: AuditEvent;
  profile?: string;
  outcome: 'ok' | 'failed' | 'refused' | 'rolled-back' | 'finished';
  detail?: string;
}

/** Appends one line to audit.jsonl. The log is evidence, not state: failing to write it never fails an operation. */
export function appendAudit(context: WorkspaceContext, entry: Omit<AuditEntry, 'time' | 'actor'>): void {
  const line: AuditEntry = { time: context.now().toISOString(), actor: context.actor, ...entry };
  try {
    makeFolders(context.layout.storeDir);
    // Appending to a named pipe waits for a reader, for ever: only a file (or none yet) is written.
    const kind = pathKind(context.layout.auditFile);
    if (kind !== 'file' && kind !== 'missing') throw new Error(`${context.layout.auditFile} is ${nonFileInWords(kind)}, not a file`);
    // After a line torn by a crash (no newline at its end), a new line would be glued to it and lost with it.
    const separator = kind === 'file' && !endsWithNewline(context.layout.auditFile) ? '\n' : '';
    fs.appendFileSync(context.layout.auditFile, `${separator}${JSON.stringify(line)}\n`);
  } catch (error) {
    context.logger.warn(`Could not write the audit log: ${(error as Error).message}`);
  }
}

/** Errors whose operation already wrote its line (rolled back, or failed part-way with what it did). */
const alreadyAudited = new WeakSet<object>();

/** Marks `error` as said in the audit log by its operation, so that appendUnfinished does not say it again. */
export function auditedAlready<T>(error: T): T {
  if (typeof error === 'object' && error !== null) alreadyAudited.add(error);
  return error;
}

/** What the line of an unfinished operation says besides its event: whose it was, and what was tried. */
export interface UnfinishedOperation {
  profile?: string;
  what?: string;
  /** A dry run changes nothing and writes no line. */
  dryRun?: boolean;
}

/**
 * Runs `operation`; when it throws, writes its line (appendUnfinished, below) with what `describe` says then
 * (a restore learns whose backup it is only once the archive is read), and throws on.
 */
export async function auditingUnfinished<T>(context: WorkspaceContext, event: AuditEvent, describe: () => UnfinishedOperation, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    const { profile, what, dryRun } = describe();
    if (!dryRun) appendUnfinished(context, event, profile, error, what);
    throw error;
  }
}

/**
 * The line of an operation that did not finish: refused (a safety rule) or failed, its detail what the
 * error said (after `what`, when the event and profile do not say all of what was tried). A usage error
 * gets none (nothing was attempted), nor an error its operation already wrote a line for.
 */
function appendUnfinished(context: WorkspaceContext, event: AuditEvent, profile: string | undefined, error: unknown, what?: string): void {
  if (typeof error === 'object' && error !== null && alreadyAudited.has(error)) return;
  const kind = isEnvProfilesError(error) ? error.kind : 'failure';
  if (kind === 'usage') return;
  appendAudit(context, { event, ...(profile ? { profile } : {}), outcome: kind === 'refused' ? 'refused' : 'failed', detail: `${what ? `${what}: ` : ''}${(error as Error).message}` });
}

/** Whether the file is empty or its last byte is a newline. */
function endsWithNewline(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) return true;
    const last = Buffer.alloc(1);
    fs.readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads the audit log, newest last; unreadable lines are skipped. */
export function readAudit(context: WorkspaceContext): AuditEntry[] {
  let text: string;
  try {
    text = readFileIfRegular(context.layout.auditFile) ?? '';
  } catch {
    return [];
  }
  const entries: AuditEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line) as AuditEntry);
    } catch {
      // A line torn by a crash is ignored.
    }
  }
  return entries;
}
