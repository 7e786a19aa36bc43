import type { Issue } from './errors';
import type { SharedDatabase } from './pathOwners';
import type { ProfileFileResult } from './profileStore';
import type { WorkspaceLayout } from './workspaceLayout';
import { positionOf } from './yamlPositions';

/**
 * The shared-database warnings of every valid profile file read (`shared`: sharedDatabasesAmong of
 * them), as issues placed on each `databases:` entry, by profile file: what the Problems panel shows.
 */
export function sharedDatabaseIssues(layout: WorkspaceLayout, results: readonly ProfileFileResult[], shared: ReadonlyMap<string, SharedDatabase[]>): Map<string, Issue[]> {
  const issues = new Map<string, Issue[]>();
  for (const result of results) {
    if (!result.profile) continue;
    const found = (shared.get(result.profile.id) ?? []).map(({ logicalName, message }): Issue => {
      const fieldPath = ['profile', 'databases', logicalName];
      const position = result.document && result.lineCounter ? positionOf(result.document, result.lineCounter, fieldPath) : {};
      return { file: layout.relative(result.file), field: fieldPath.join('.'), message, ...position };
    });
    if (found.length > 0) issues.set(result.file, found);
  }
  return issues;
}
