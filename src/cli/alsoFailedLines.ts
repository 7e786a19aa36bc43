import type { VerificationResult } from '../core/backup/backupVerification';

/** The backups a failed verification marked FAILED as well: their archives, which it builds on, changed since they were written. */
export function alsoFailedLines(alsoFailed: VerificationResult['alsoFailed'], indent: string): string[] {
  return (alsoFailed ?? []).map((id) => `${indent}  recorded as FAILED too: ${id}, which it builds on: its archive changed since it was written`);
}
