import type { Issue } from './errors';
import { sharedDatabasesAmong } from './pathOwners';
import type { ProfileFileResult } from './profileStore';
import type { WorkspaceLayout } from './workspaceLayout';
import { positionOf } from './yamlPositions';

/**
 * The shared-database warnings of every valid profile file read (see sharedDatabaseWarnings), as issues
 * placed on each `databases:` entry, by profile file: what the Problems panel shows beside the path.
 */
export function sharedDatabaseIssues(layout: WorkspaceLayout, results: readonly ProfileFileResult[]): Map<string, Issue[]> {
  const valid = results.flatMap((r) => (r.profile ? [{ result: r, profile: r.profile }] : []));
  const shared = sharedDatabasesAmong(layout, valid.map((v) => v.profile));
  const issues = new Map<string, Issue[]>();
  for (const { result, profile } of valid) {
    const found = (shared.get(profile.id) ?? []).map(({ logicalName, message }): Issue => {
      const fieldPath = ['profile', 'databases', logicalName];
      const position = result.document && result.lineCounter ? positionOf(result.document, result.lineCounter, fieldPath) : {};
      return { file: layout.relative(result.file), field: fieldPath.join('.'), message, ...position };
    });
    if (found.length > 0) issues.set(result.file, found);
  }
  return issues;
}
