import * as fs from 'node:fs';
import * as path from 'node:path';
import { chainFault } from '../../core/backup/verifiedArchives';
import { newestFirst, verificationStatus, type CatalogEntry } from '../../core/backup/backupCatalog';
import { listBackups } from '../../core/backup/backupListing';
import { backupCount, backupsElsewhereInWords } from '../../core/backup/backupsElsewhere';
import { missingContents } from '../../core/backup/backupContents';
import { rebuildCatalog, type CatalogRebuildResult } from '../../core/backup/catalogRebuild';
import { formatSize } from '../../core/diskSpace';
import { EnvProfilesError } from '../../core/errors';
import { localTimestamp, localTimeZone } from '../../core/localTime';
import type { CliCommand, CommandOutput } from '../cliCommand';
import { table } from '../textFormat';
import { counted } from '../../core/counted';

export const backupsCommand: CliCommand = {
  name: 'backups',
  summary: 'List the backups of a profile (or of every profile), newest first',
  usage: 'envprofiles backups [<id>] [--rebuild-catalog [--dry-run]]',
  details: [
    '--rebuild-catalog rebuilds the profile\'s catalog from the archives in its backup folder (for a catalog that was lost, damaged, or that disagrees with the folder): each archive is opened and checked, and its SHA-256 computed; verification results are kept for archives that are still the ones verified (and a FAILED one stays FAILED). An unreadable catalog is moved aside, never deleted.',
  ],
  options: { 'rebuild-catalog': { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
  positionals: [0, 1],
  async run({ context, positionals, options }) {
    const dryRun = options['dry-run'] === true;
    if (options['rebuild-catalog'] === true) {
      if (positionals.length !== 1) throw new EnvProfilesError('USAGE', '--rebuild-catalog needs the profile id.', { kind: 'usage', hint: 'Usage: envprofiles backups <id> --rebuild-catalog [--dry-run]' });
      return rebuilt(await rebuildCatalog(context, positionals[0], dryRun), context.now());
    }
    if (dryRun) throw new EnvProfilesError('USAGE', '--dry-run goes with --rebuild-catalog.', { kind: 'usage' });
    const listed = await listBackups(context, positionals[0]);
    const { folder: backups, profiles, backups: entries, disagreements, unrestorable, sharedWith, deletedProfiles: deleted, earlierProfile, folderProblem: unmarked, unreadable, elsewhere } = listed;
    const gapOf = (entry: CatalogEntry): string[] | undefined => unrestorable[entry.profileId]?.[entry.id];
    const unrestorableNotes = Object.entries(unrestorable).flatMap(([profileId, gaps]) => {
      const needing = Object.entries(gaps).filter(([id, gone]) => !gone.includes(id));
      if (needing.length === 0) return [];
      const lost = [...new Set(needing.flatMap(([, gone]) => gone))];
      return [`note: ${counted(needing.length, 'backup')} of ${profileId} cannot be restored now: ${needing.length === 1 ? 'its' : 'their'} chain needs ${lost.join(', ')}, whose archive${lost.length > 1 ? 's are' : ' is'} missing (marked "chain broken").`,
        `  Put ${lost.length > 1 ? 'those archives' : 'that archive'} back to restore ${needing.length === 1 ? 'it' : 'them'}; the backups whose archives are all there can be restored as they are.`];
    });
    const byId = new Map(entries.map((e) => [e.id, e]));
    const chainFailed = chainFailedOf(entries, byId, gapOf);
    const failedChainNotes = chainFailedNotes(entries, byId, chainFailed);
    const sharingNotes = Object.entries(sharedWith).flatMap(([profileId, workspaces]) => Object.entries(workspaces).flatMap(([workspace, count]) => [
      `note: ${count} of the backups listed for ${profileId} ${count === 1 ? 'was' : 'were'} made by the workspace at ${workspace}, which uses the same backups folder and profile id.`,
      `  Prune here keeps them (that workspace's prune decides); restoring one here brings that workspace's data. Give each workspace its own backups.directory in .envprofiles/config.yaml.`,
    ]));
    const notes = Object.entries(disagreements).flatMap(([profileId, problems]) => [
      `note: the catalog of ${profileId} disagrees with its folder: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; and ${problems.length - 3} more` : ''}.`,
      `  Rebuild it from the archives: envprofiles backups ${profileId} --rebuild-catalog (--dry-run first shows what it would change).`,
    ]);
    // A profile that was deleted keeps its backups: say how to get it back, and how to prune them.
    const deletedNotes = deleted.flatMap((profileId) => [
      `note: ${profileId} has no profile file (it was deleted); its backups were kept.`,
      `  Restoring one over its profile brings it back (envprofiles restore <backup-id>); "envprofiles prune ${profileId}" prunes them by the keep rules in its newest backup.`,
    ]);
    const earlierNotes = Object.entries(earlierProfile).flatMap(([profileId, ids]) => [
      `note: ${ids.length} of the backups listed for ${profileId} (marked "earlier profile") ${ids.length === 1 ? 'was' : 'were'} made before the current ${profileId} was created: ${ids.length === 1 ? 'it holds' : 'they hold'} the data of an earlier profile with this id, which was deleted.`,
      `  Restoring one over ${profileId} replaces its databases with that data (after a safety backup); "envprofiles restore <backup-id> --as-new <id>" keeps them apart.`,
    ]);
    // Backups in the folder used before backups.directory changed: not listed here, and not lost.
    const elsewhereNotes = elsewhere.flatMap((found) => [
      `note: ${backupsElsewhereInWords(found)}, not listed here: the backups folder is now ${backups.root} (backups.directory in .envprofiles/config.yaml), so prune, verify and restore by id do not see ${backupCount(found) === 1 ? 'it' : 'them'}.`,
      `  To keep them with the others, move each profile's folder from ${found.folder} into ${backups.root} (for a profile with backups in both, move its archives, then "envprofiles backups <id> --rebuild-catalog"), or set backups.directory back. Restore or verify one there by its archive's path: ${path.join(found.folder, '<profile id>', '<backup id>.zip')}.`,
    ]);
    notes.push(...elsewhereNotes);
    // An empty mount point where this workspace's backups were: "No backups" would mislead.
    if (unmarked) notes.unshift(`note: ${unmarked.message.replace(/ Nothing was written\.$/, '')}`, `  ${unmarked.hint}`);
    const unreadableLines = unreadable.flatMap((problem) => [`FAILED ${problem.profileId} [${problem.code}]: ${problem.message} Its backups are not listed.`, `  ${problem.hint}`]);
    const exitCode = unreadable.length > 0 ? 1 : 0;
    const json = { directory: backups.root, backups: entries, disagreements, unrestorable, chainFailed, sharedWith, deletedProfiles: deleted, earlierProfile, elsewhere, ...(unmarked ? { folderProblem: unmarked.message } : {}), ...(unreadable.length > 0 ? { unreadableCatalogs: Object.fromEntries(unreadable.map((problem) => [problem.profileId, problem.message])) } : {}) };
    if (entries.length === 0) {
      // An outside folder that is not there may be on a disk that is not mounted: "No backups" would mislead.
      const missing = fs.existsSync(backups.root) ? '' : ` (the folder does not exist${backups.isMissingOutside() ? '; if it is on a disk that is not mounted, mount it' : ''})`;
      return { json, text: [`No backups${positionals.length ? ` of ${positionals[0]}` : ''}${unreadable.length > 0 ? ' that can be listed' : ''} in ${backups.root}${missing}.`, ...notes, ...unreadableLines], exitCode };
    }
    const earlierIds = new Set(Object.values(earlierProfile).flat());
    // Where to find an archive (to test it with unzip, or copy it off-site): the table names backups by id.
    const where = profiles.length === 1 ? backups.profileDir(profiles[0]) : path.join(backups.root, '<profile id>');
    return { json, text: [...listing(entries, earlierIds, gapOf, byId, context.now()), `Archives: ${path.join(where, '<ID>.zip')}`, ...deletedNotes, ...earlierNotes, ...sharingNotes, ...unrestorableNotes, ...failedChainNotes, ...notes, ...unreadableLines], exitCode };
  },
};

/** For each backup that builds on one whose archive failed verification (and has no archive missing), that one's id, by profile. */
function chainFailedOf(entries: CatalogEntry[], byId: Map<string, CatalogEntry>, gapOf: (entry: CatalogEntry) => string[] | undefined): Record<string, Record<string, string>> {
  const found: Record<string, Record<string, string>> = {};
  for (const e of entries) {
    const fault = gapOf(e) ? undefined : chainFault(e, byId);
    if (fault?.kind === 'failed') (found[e.profileId] ??= {})[e.id] = fault.id;
  }
  return found;
}

/** A note per backup whose archive failed verification and that later backups build on (marked "chain FAILED"). */
function chainFailedNotes(entries: CatalogEntry[], byId: Map<string, CatalogEntry>, chainFailed: Record<string, Record<string, string>>): string[] {
  return Object.entries(chainFailed).flatMap(([profileId, failedUnder]) => {
    const later = new Map<string, number>();
    for (const failed of Object.values(failedUnder)) later.set(failed, (later.get(failed) ?? 0) + 1);
    return [...later].flatMap(([failed, count]) => {
      // entries are newest first: a sound backup made since needs nothing more than to be named.
      const since = entries.find((e) => e.profileId === profileId && e.createdAt > (byId.get(failed) as CatalogEntry).createdAt && verificationStatus(e) === 'passed' && chainFault(e, byId) === undefined);
      return [
        `note: ${counted(count, 'backup')} of ${profileId} ${count === 1 ? 'builds' : 'build'} on ${failed}, which FAILED verification (marked "chain FAILED"): do not count on ${count === 1 ? 'it' : 'them'} (a restore of ${count === 1 ? 'it' : 'one'} stops, replacing nothing, where it meets the damage in that archive).`,
        since ? `  ${since.id}, made since, is verified and can be restored.` : `  Restore an older backup, or take a new full one: envprofiles backup ${profileId} --full --verify`,
      ];
    });
  });
}

/** The VERIFIED column: a failure of the data alone (the archive holds it exactly) is told from one of the archive. */
function verifiedColumn(entry: CatalogEntry): string {
  const status = verificationStatus(entry);
  if (status === 'passed' && entry.verified) return `ok ${localTimestamp(entry.verified.at)}`;
  if (status === 'data-problems') return 'FAILED (data; archive intact)';
  if (status === 'failed' && entry.verified?.changedOutsideData) return 'FAILED (archive changed; entries intact)';
  return status === 'failed' ? 'FAILED' : 'no';
}

function listing(entries: CatalogEntry[], ofEarlierProfile: Set<string>, gapOf: (entry: CatalogEntry) => string[] | undefined, byId: Map<string, CatalogEntry>, now: Date): string[] {
  // Local time, as prune's hourly/daily/weekly rules count it; --json keeps UTC.
  const rows = [['ID', 'KIND', 'SIZE', `CREATED (${localTimeZone()})`, 'REASON', 'VERIFIED']];
  for (const e of entries) {
    // Listed first by its date, though it may not be the newest: say why (prune keeps it, see decideRetention).
    const ahead = Date.parse(e.createdAt) > now.getTime() ? ' (dated after now: the clock was ahead)' : '';
    const missing = missingContents(e);
    const reason = `${e.reason}${missing ? ` (${missing})` : ''}${ofEarlierProfile.has(e.id) ? ' (earlier profile)' : ''}${ahead}`;
    const gap = gapOf(e);
    const chainFailed = !gap && chainFault(e, byId)?.kind === 'failed' ? '; chain FAILED' : '';
    const verified = !gap ? `${verifiedColumn(e)}${chainFailed}` : gap.includes(e.id) ? 'archive missing' : `${verifiedColumn(e)}; chain broken`;
    rows.push([e.id, e.kind === 'incremental' ? `incr (${e.chain.length + 1})` : 'full', formatSize(e.sizeBytes), localTimestamp(e.createdAt), reason, verified]);
  }
  return table(rows);
}

function rebuilt(result: CatalogRebuildResult, now: Date): CommandOutput {
  const text: string[] = [];
  const list = (label: string, ids: string[]): void => {
    if (ids.length > 0) text.push(`  ${label} (${ids.length}): ${ids.join(', ')}`);
  };
  text.push(`${result.dryRun ? 'Dry run: the catalog would list' : 'Rebuilt the catalog of'} ${result.profileId}${result.dryRun ? '' : ':'} ${counted(result.entries.length, 'backup')}, from the archives in its folder.`);
  list('added (not verified yet)', result.added);
  list('dropped (archive gone)', result.dropped);
  list('corrected (the archive is not the one listed; verification reset, but one that FAILED stays FAILED)', result.corrected);
  list('amended (the record disagreed with its archive: kind, parent, chain or time taken from the archive; verification kept)', result.amended);
  list('unchanged', result.unchanged);
  list('kept as recorded (written by a newer version of Environment Profiles, which this one cannot read; update it to check them)', result.newerFormat);
  for (const { file, reason } of result.skipped) text.push(`  skipped ${file}: ${reason}`);
  if (result.skipped.length > 0) text.push(`  prune refuses while a skipped .zip file is in ${path.dirname(result.catalogFile)}: do what each line says`);
  for (const broken of result.brokenChains) text.push(`  cannot be restored: ${broken}`);
  if (result.unreadableCatalogMovedTo) text.push(`  the unreadable catalog was moved to ${result.unreadableCatalogMovedTo}`);
  if (result.dryRun) text.push('Nothing was changed.');
  else if (result.added.length + result.corrected.length > 0) text.push(`Verify the backups that are not verified: envprofiles verify --unverified ${result.profileId}`);
  if (result.entries.length > 0) text.push('', ...listing([...result.entries].sort(newestFirst), new Set(), () => undefined, new Map(result.entries.map((e) => [e.id, e])), now));
  return { json: result, text };
}
