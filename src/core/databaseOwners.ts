import { realLocation } from './pathSafety';
import { readAllProfileFiles } from './profileStore';
import { workspaceConfigFor } from './workspaceConfig';
import type { WorkspaceContext } from './workspaceContext';

/** The real path of every database file of the other valid profiles, to the id of one that uses it. */
export function databasesOfOtherProfiles(context: WorkspaceContext, profileId: string): Map<string, string> {
  const used = new Map<string, string>();
  for (const other of readAllProfileFiles(context.layout, workspaceConfigFor(context))) {
    if (!other.profile || other.profile.id === profileId) continue;
    for (const written of Object.values(other.profile.databases)) used.set(realLocation(context.layout.resolve(written)), other.profile.id);
  }
  return used;
}
