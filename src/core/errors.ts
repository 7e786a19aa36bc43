/**
 * Typed errors. Every error a user can cause carries a stable code, the file and field it concerns,
 * and a hint that says what to do. Adapters (CLI, extension) map `kind` to exit codes and dialogs.
 */

/** `failure`: the operation failed; `refused`: a safety rule said no; `usage`: the request itself was malformed. */
export type ErrorKind = 'failure' | 'refused' | 'usage';

export type ErrorCode =
  | 'NOT_INITIALISED'
  | 'PROFILE_NOT_FOUND'
  | 'PROFILE_EXISTS'
  | 'PROFILE_INVALID'
  | 'CONFIG_INVALID'
  | 'TEMPLATE_NOT_FOUND'
  | 'YAML_SYNTAX'
  | 'PATH_OUTSIDE_WORKSPACE'
  | 'GUARD_ACTIVE'
  | 'CONFIRMATION_REQUIRED'
  | 'WORKSPACE_BUSY'
  | 'TARGET_EXISTS'
  | 'OUTPUT_CONFLICT'
  | 'DATABASE_MISSING'
  | 'DATABASE_INVALID'
  | 'DATABASE_IN_USE'
  | 'FILE_CHANGED'
  | 'DATABASE_LOCKED'
  | 'BACKUPS_FOLDER_MISSING'
  | 'WAL_NOT_EMPTY'
  | 'HOT_JOURNAL'
  | 'VALIDATION_FAILED'
  | 'SQLITE_UNAVAILABLE'
  | 'IO_ERROR'
  | 'DISK_FULL'
  | 'PERMISSION_DENIED'
  | 'INJECTED_FAULT'
  | 'BACKUP_NOT_FOUND'
  | 'ARCHIVE_INVALID'
  | 'ARCHIVE_HOSTILE'
  | 'VERIFY_FAILED'
  | 'CATALOG_MISMATCH'
  | 'NEEDS_BACKUP'
  | 'PROFILE_ACTIVE'
  | 'CANCELLED'
  | 'USAGE';

/** One problem found in a file, with enough position to show it in an editor. */
export interface Issue {
  file: string;
  field?: string;
  line?: number;
  column?: number;
  message: string;
}

/**
 * The command that fixes what an error names, as data: the hint says it in words (the CLI's command
 * line), and an adapter can offer it as an action (VS Code: a button on the error).
 */
export type NextStep =
  | { action: 'rebuild-catalog'; profileId: string }
  | { action: 'backup'; profileId: string }
  /** A backup that keeps a damaged database's file as found (backup --keep-damaged). */
  | { action: 'backup-keeping-damaged'; profileId: string }
  | { action: 'validate-full'; profileId: string };

export interface ErrorDetails {
  kind?: ErrorKind;
  file?: string;
  field?: string;
  line?: number;
  column?: number;
  hint?: string;
  nextStep?: NextStep;
  issues?: Issue[];
  cause?: unknown;
}

export class EnvProfilesError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly file?: string;
  readonly field?: string;
  readonly line?: number;
  readonly column?: number;
  readonly hint?: string;
  readonly nextStep?: NextStep;
  readonly issues: Issue[];

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'EnvProfilesError';
    this.code = code;
    this.kind = details.kind ?? 'failure';
    this.file = details.file;
    this.field = details.field;
    this.line = details.line;
    this.column = details.column;
    this.hint = details.hint;
    this.nextStep = details.nextStep;
    this.issues = details.issues ?? [];
  }

  /** A plain object for `--json` output and logs. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      kind: this.kind,
      message: this.message,
      file: this.file,
      field: this.field,
      line: this.line,
      column: this.column,
      hint: this.hint,
      nextStep: this.nextStep,
      issues: this.issues.length > 0 ? this.issues : undefined,
    };
  }
}

/**
 * The same error (code, kind, file, position, next step, issues) told in other words, for a caller that
 * says what the failure meant for its own operation; `hint` replaces the hint when given. The original
 * error is its cause.
 */
export function reworded(error: EnvProfilesError, message: string, hint = error.hint): EnvProfilesError {
  return new EnvProfilesError(error.code, message, { kind: error.kind, file: error.file, field: error.field, line: error.line, column: error.column, hint, nextStep: error.nextStep, issues: error.issues, cause: error });
}

/** Formats an issue as `file:line:column field: message`. */
/** An issue as the error of a file that does not load says it: `file:line:column field: message`. */
export function issueSentence(issue: Issue): string {
  return `${issue.file}${issue.line ? `:${issue.line}:${issue.column}` : ''}${issue.field ? ` ${issue.field}` : ''}: ${issue.message}`;
}

export function formatIssue(issue: Issue): string {
  const position = issue.line !== undefined ? `:${issue.line}${issue.column !== undefined ? `:${issue.column}` : ''}` : '';
  const field = issue.field ? ` ${issue.field}:` : '';
  return `${issue.file}${position}${field} ${issue.message}`;
}

/**
 * An issue of a file already named (a profile's row in a list, its tree item): where in the file and
 * what, as in "line 8: databases.settings: …" (before, the message alone: "the quoted value that opens
 * here …" said neither where here was nor which field).
 */
function issueInBrief(issue: Issue): string {
  const line = issue.line !== undefined ? `line ${issue.line}: ` : '';
  const field = issue.field ? `${issue.field.replace(/^profile\./, '')}: ` : '';
  return `${line}${field}${issue.message}`;
}

/** The first of a file's issues in brief (issueInBrief), or `none` when it has none. */
export function firstIssueInBrief(issues: readonly Issue[], none = 'no issue was recorded'): string {
  return issues[0] ? issueInBrief(issues[0]) : none;
}

export function isEnvProfilesError(error: unknown): error is EnvProfilesError {
  return error instanceof EnvProfilesError;
}
