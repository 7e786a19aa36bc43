import { backUpAllProfiles, type AllProfilesBackupResult } from '../../core/backup/allProfilesBackup';
import type { CatalogEntry } from '../../core/backup/backupCatalog';
import { createBackup } from '../../core/backup/backupCreation';
import type { BackupResult, RequestedKind } from '../../core/backup/backupRequest';
import { joinedNotes } from '../../core/joinedNotes';
import { verificationHint, type VerificationResult } from '../../core/backup/backupVerification';
import { verifyNewBackup, type VerifiedNewBackup } from '../../core/backup/newBackupVerification';
import { formatSize } from '../../core/diskSpace';
import { EnvProfilesError } from '../../core/errors';
import type { WorkspaceContext } from '../../core/workspaceContext';
import { stringOption } from '../cliArguments';
import { alsoFailedLines } from '../alsoFailedLines';
import type { CliCommand } from '../cliCommand';
import { environmentFilesText } from '../textFormat';
import { lowerProcessPriority } from '../processPriority';
import { shellArgument } from '../../core/shellArgument';
import { counted } from '../../core/counted';

/**
 * `backup <id> --json`: the catalog entry, where the archive is, and what the backup says (and, with --verify, its verification).
 * `notes` lists what the backup says, one sentence each; `note` is the same in one line (as before `notes`).
 */
export type BackupJson = CatalogEntry & { archive: string; databaseDetails: BackupResult['databases']; fileDetails: BackupResult['files']; note?: string; notes: string[]; unlisted?: string; durationMs: number; verification?: VerificationResult } & InPlaceOf;
/** With --verify: the incremental this full backup was taken in place of, which failed verification (or why no full one could be taken). */
type InPlaceOf = Pick<VerifiedNewBackup, 'inPlaceOf' | 'fullNotTaken'>;
/** `backup --all --json`. */
export interface AllBackupsJson {
  reason: string;
  backups: (Omit<CatalogEntry, 'databases' | 'leftOut'> & { databases: BackupResult['databases']; fileDetails: BackupResult['files']; note?: string; notes: string[]; leftOut?: BackupResult['leftOut']; unlisted?: string; verification?: VerificationResult } & InPlaceOf)[];
  failures: AllProfilesBackupResult['failures'];
  brokenProfileFiles: string[];
}

function describe({ result, verification, inPlaceOf, fullNotTaken }: Checked): string[] {
  const e = result.entry;
  const lines = [`Backed up ${e.profileId}: ${e.id} (${e.kind}, ${formatSize(e.sizeBytes)}, ${(result.durationMs / 1000).toFixed(2)} s)`];
  if (inPlaceOf) lines.push(`  in place of the incremental ${inPlaceOf.id}, which FAILED verification: ${inPlaceOf.problem}`, '    (a full backup needs no other archive; the failed one is kept, marked FAILED, for prune to decide; check the disk of the backups folder)', ...alsoFailedLines(inPlaceOf.alsoFailed, '  '));
  for (const db of result.databases) lines.push(`  ${db.name}: ${db.storage === 'image' ? `whole image, ${counted(db.pageCount, 'page')}${db.wholeBecause ? ` (${db.wholeBecause})` : ''}` : `${db.pagesStored} of ${counted(db.pageCount, 'page')} changed`}`);
  if (result.files.length > 0) lines.push(`  files: ${filesLine(result.files, e.kind === 'incremental')}`);
  // One line each: several notes in one line (a catalog that cannot be read, three databases left out) were a wall of text.
  for (const note of result.notes) lines.push(`  note: ${note}`);
  lines.push(`  archive: ${result.archive}`);
  if (!verification) lines.push(`  not yet verified: envprofiles verify ${result.unlisted ? shellArgument(result.archive) : e.id} (or back up with --verify)`);
  else if (verification.ok) lines.push(`  verified: sound, ${counted(verification.databases.length, 'database')} rebuilt and checked (SHA-256, integrity_check, foreign_key_check)${verification.files.length > 0 ? ` and ${counted(verification.files.length, 'file')} (SHA-256)` : ''}${verification.unreadableCatalog ? '; not recorded, since the catalog cannot be read (verify it again after the rebuild)' : ''}`);
  else lines.push('  verification FAILED:', ...verification.problems.map((p) => `    - ${p}`), `    ${verificationHint(verification)}`, ...alsoFailedLines(verification.alsoFailed, '  '));
  if (fullNotTaken) lines.push(`  no full backup could be taken in its place: ${fullNotTaken}`);
  return lines;
}

/**
 * The profile's other files, as the databases' lines say pages: a full backup names them, an
 * incremental counts those that changed (stored again) and names them; the rest its parent holds.
 */
function filesLine(files: BackupResult['files'], incremental: boolean): string {
  if (!incremental) return environmentFilesText(files);
  const changed = files.filter((f) => f.stored);
  return `${changed.length} of ${counted(files.length, 'file')} changed${changed.length > 0 ? ` (${environmentFilesText(changed)})` : ''}`;
}

/** A new backup, with its verification when --verify asked for one. */
type Checked = Partial<VerifiedNewBackup> & { result: BackupResult };

/**
 * With --verify, each new backup is verified right after it is written (as `envprofiles verify` does);
 * an incremental that fails, the tool having chosen the kind, is followed by a full one (see verifyNewBackup).
 */
async function verifiedIfAsked(context: WorkspaceContext, asked: boolean, results: BackupResult[], requested: RequestedKind, takeFull: (profileId: string) => Promise<BackupResult>): Promise<Checked[]> {
  if (!asked) return results.map((result) => ({ result }));
  const checked: Checked[] = [];
  for (const result of results) checked.push(await verifyNewBackup(context, result, requested, () => takeFull(result.entry.profileId)));
  return checked;
}

/** What `--json` gives of a checked backup beside its entry. */
function verifiedJson({ verification, inPlaceOf, fullNotTaken }: Checked): { verification?: VerificationResult } & InPlaceOf {
  return { ...(verification ? { verification } : {}), ...(inPlaceOf ? { inPlaceOf } : {}), ...(fullNotTaken ? { fullNotTaken } : {}) };
}

export const backupCommand: CliCommand = {
  name: 'backup',
  summary: 'Back up a profile (full or incremental ZIP archive), or every profile with --all',
  usage: 'envprofiles backup <id> [--full|--incremental] [--reason R] [--skip-missing] [--keep-damaged] [--verify]\n       envprofiles backup --all [--full|--incremental] [--reason R] [--verify]',
  details: [
    'Without --full or --incremental: incremental when a chain exists and is shorter than backups.max_chain, full otherwise.',
    'Databases are copied with the SQLite backup API while the application keeps writing. --all --reason emergency is the emergency backup.',
    'With --all a database that cannot be taken (missing, not SQLite, locked, unreadable) is left out of its profile\'s backup, named in the output and the manifest, and the rest is saved; the exit code is then 1.',
    '--skip-missing backs up a profile one of whose database files does not exist (named in the output and the manifest); without it such a backup is refused. Delete accepts such a backup while the file stays missing.',
    '--keep-damaged backs up a profile one of whose databases is damaged (SQLite cannot read it, or it is no SQLite database): that database is left out of the images and its file (and a -wal or -journal that is not empty) is kept byte for byte as found, under damaged/<name>/ in the archive (unzip -p takes it out); a restore does not write it back. Without it such a backup is refused. --all always does so. Delete accepts such a backup.',
    'Runs at lowered CPU priority (nice 10), so that the application sharing the machine is not slowed; on an idle machine it is as fast.',
    '--verify verifies each new backup right after it is written, as "envprofiles verify" does; the exit code is 1 when one fails. An incremental chosen without --incremental that fails (an archive of its chain damaged since) is followed by a full backup, verified in its place.',
  ],
  options: { full: { type: 'boolean' }, incremental: { type: 'boolean' }, all: { type: 'boolean' }, reason: { type: 'string' }, 'skip-missing': { type: 'boolean' }, 'keep-damaged': { type: 'boolean' }, verify: { type: 'boolean' } },
  positionals: [0, 1],
  async run({ context, positionals, options }) {
    if (options.full && options.incremental) throw new EnvProfilesError('USAGE', 'Choose --full or --incremental, not both.', { kind: 'usage' });
    const kind: RequestedKind = options.full ? 'full' : options.incremental ? 'incremental' : 'auto';
    const reason = stringOption(options.reason) ?? (options.all ? 'all' : 'manual');
    // The application keeps running beside a backup; it comes first for the CPU.
    lowerProcessPriority();
    if (options.all) {
      if (positionals.length > 0) throw new EnvProfilesError('USAGE', '--all backs up every profile; do not name one.', { kind: 'usage' });
      const result = await backUpAllProfiles(context, kind, reason);
      // In place of a failed incremental, a full backup that saves what it can, as --all does.
      const checked = await verifiedIfAsked(context, options.verify === true, result.results, kind, (profileId) => createBackup(context, { profileId, kind: 'full', reason, leaveOutMissing: true, keepDamaged: true }));
      const text = checked.flatMap(describe);
      for (const failure of result.failures) {
        text.push(`FAILED ${failure.profileId}${failure.code ? ` [${failure.code}]` : ''}: ${failure.message}`);
        if (failure.hint) text.push(`  ${failure.hint}`);
      }
      const partial = checked.filter((c) => c.result.leftOut).length;
      // A backup that holds none of its databases (all missing: a disk not mounted) saved only the profile's files: said apart.
      const empty = checked.filter((c) => c.result.leftOut && c.result.databases.length === 0).length;
      const broken = result.brokenProfileFiles.length;
      const caveats = [
        ...(empty > 0 ? [`${empty} of them without any database, only the profile's files`] : []),
        ...(partial > empty ? [`${partial - empty} of them without every database`] : []),
        ...(broken > 0 ? [`${broken} of them with a profile file that does not validate`] : []),
      ];
      if (result.results.length === 0 && result.failures.length === 0) text.push(`There are no profiles in ${context.layout.relative(context.layout.profilesDir)}: nothing to back up. Create one first: envprofiles create <id>`);
      else text.push(`${counted(result.results.length, 'profile')} backed up${caveats.length > 0 ? ` (${caveats.join('; ')}: see the notes)` : ''}, ${result.failures.length} failed (reason: ${result.reason}).`);
      // A full backup taken in place of a failed incremental still counts: an archive of the chain was damaged.
      const failedVerification = checked.filter((c) => (c.verification && !c.verification.ok) || c.inPlaceOf).length;
      if (failedVerification > 0) text.push(`${failedVerification} of the new backups FAILED verification (see above).`);
      const json: AllBackupsJson = { reason: result.reason, backups: checked.map((c) => {
        const { entry: { leftOut: _names, ...entry }, databases, files, notes, leftOut, unlisted } = c.result;
        return { ...entry, databases, fileDetails: files, note: joinedNotes(notes), notes, ...(leftOut ? { leftOut } : {}), ...(unlisted ? { unlisted } : {}), ...verifiedJson(c) };
      }), failures: result.failures, brokenProfileFiles: result.brokenProfileFiles };
      // Anything not saved is a failure for scripts, also a database left out of a profile's backup (and a backup that failed --verify).
      return { json, text, exitCode: result.failures.length > 0 || partial > 0 || failedVerification > 0 ? 1 : 0 };
    }
    if (positionals.length === 0) throw new EnvProfilesError('USAGE', 'backup needs a profile id, or --all.', { kind: 'usage', hint: 'Example: envprofiles backup prod_environment_001 --full' });
    const request = { profileId: positionals[0], kind, reason, leaveOutMissing: options['skip-missing'] === true, keepDamaged: options['keep-damaged'] === true };
    const [checked] = await verifiedIfAsked(context, options.verify === true, [await createBackup(context, request)], kind, () => createBackup(context, { ...request, kind: 'full' }));
    const { result, verification } = checked;
    const json: BackupJson = { ...result.entry, archive: result.archive, databaseDetails: result.databases, fileDetails: result.files, note: joinedNotes(result.notes), notes: result.notes, ...(result.unlisted ? { unlisted: result.unlisted } : {}), durationMs: result.durationMs, ...verifiedJson(checked) };
    return { json, text: describe(checked), exitCode: (verification && !verification.ok) || checked.inPlaceOf ? 1 : 0 };
  },
};
