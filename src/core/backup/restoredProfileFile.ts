import { Document, isMap, LineCounter, parseDocument } from 'yaml';
import { firstIssueInBrief, type Issue } from '../errors';
import type { Profile } from '../profileModel';
import { parseProfileText } from '../profileStore';
import type { WorkspaceConfig } from '../workspaceConfig';
import type { WorkspaceLayout } from '../workspaceLayout';
import { syntaxIssues } from '../yamlPositions';
import type { BackupManifest } from './backupManifest';

/** What a restore as a new profile writes as that profile's file, and what it had to leave out. */
export interface RestoredProfileFile {
  profile?: Profile;
  /** The new profile's file; with no `profile`, the issues say why it does not validate. */
  document: Document;
  issues: Issue[];
  /** Databases the backup's copy of the profile names that the backup does not hold (left out of the new profile). */
  leftOut: string[];
  /** Why the backup's own copy of the profile file could not be used, when the new profile was made from the manifest. */
  unusableCopy?: string;
}

export interface RestoredProfileRequest {
  id: string;
  manifest: BackupManifest;
  /** Each database the backup holds, and where the new profile keeps it. */
  databases: Record<string, string>;
  createdAt: string;
  layout: WorkspaceLayout;
  config: WorkspaceConfig;
}

/**
 * The new profile's file: the backup's copy of the profile file under the new id, with the new
 * databases' paths. A copy that does not validate (an emergency backup of a broken profile), or that
 * cannot be edited at all (YAML that does not parse, a `profile:` that is an alias or a list: the
 * archive may be hostile), gives way to a profile made from the manifest, which says which database is which;
 * so does no copy at all (the profile file vanished while the backup was taken, or a hand-made archive).
 */
export function restoredProfileFile(backedUpCopy: string | undefined, request: RestoredProfileRequest): RestoredProfileFile {
  const { id, manifest, databases, layout, config } = request;
  const label = layout.relative(layout.profileFile(id));
  // A name that is not a plain value (an alias, a mapping) would be written as YAML's own text for it.
  // A profile that was itself restored says so once, with the date of the backup it now comes from.
  const restoredName = (name: unknown) => `${typeof name === 'string' || typeof name === 'number' ? String(name).replace(/ \(restored \d{4}-\d{2}-\d{2}\)$/, '') : manifest.profileId} (restored ${manifest.createdAt.slice(0, 10)})`;
  const copy = editableProfileDocument(backedUpCopy);
  let unusableCopy: string;
  if ('document' in copy) {
    const { document } = copy;
    document.setIn(['profile', 'id'], id);
    document.setIn(['profile', 'name'], restoredName(document.getIn(['profile', 'name'])));
    document.setIn(['profile', 'restored_from'], manifest.backupId);
    document.setIn(['profile', 'created_at'], request.createdAt);
    for (const [logical, written] of Object.entries(databases)) document.setIn(['profile', 'databases', logical], written);
    // A database the backed-up profile names but the backup does not hold (a safety backup takes only
    // the databases that existed then) would keep its old path, so the new profile would share that
    // database with the old one: it is left out of the new profile instead.
    const leftOut = Object.keys(databasesIn(document)).filter((logical) => !(logical in databases));
    for (const logical of leftOut) document.deleteIn(['profile', 'databases', logical]);
    const parsed = parseProfileText(document.toString({ lineWidth: 0 }), label, layout, config, id);
    if (parsed.profile) return { ...parsed, leftOut };
    unusableCopy = `does not validate (${firstIssueInBrief(parsed.issues)})`;
  } else {
    unusableCopy = copy.problem;
  }
  const fallback = new Document({ profile: { id, name: restoredName(manifest.profileId), type: 'BACKUP', created_at: request.createdAt, restored_from: manifest.backupId, databases } });
  return { ...parseProfileText(fallback.toString({ lineWidth: 0 }), label, layout, config, id), leftOut: [], unusableCopy };
}

/** The backup's copy of a profile file as a document the edits above can change, or why it is not one. */
function editableProfileDocument(text: string | undefined): { document: Document } | { problem: string } {
  if (text === undefined) return { problem: 'is not in the backup' };
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true });
  if (document.errors.length > 0) {
    // In the words the profile files' own errors use (syntaxIssues), with where.
    const [first] = syntaxIssues('', document.errors, text, lineCounter);
    return { problem: `is not valid YAML (${first.line !== undefined ? `line ${first.line}, column ${first.column}: ` : ''}${first.message.replace(/^YAML syntax error: /, '')})` };
  }
  const profile = isMap(document.contents) ? document.contents.get('profile', true) : undefined;
  if (!isMap(profile)) return { problem: 'has no "profile:" mapping written out in it' };
  const databases = profile.get('databases', true);
  if (databases !== undefined && !isMap(databases)) return { problem: 'has a "databases:" that is not a mapping written out in it' };
  return { document };
}

/** The `databases:` mapping of a profile document (empty when it has none). */
function databasesIn(document: Document): Record<string, unknown> {
  const databases = document.getIn(['profile', 'databases']);
  return isMap(databases) ? (databases.toJSON() as Record<string, unknown>) : {};
}
