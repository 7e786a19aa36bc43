// Which other profiles use a path: as one of their databases, or in their files: list.
import { realLocation } from './pathSafety';
import type { Profile } from './profileModel';
import { readAllProfileFiles } from './profileStore';
import { workspaceConfigFor } from './workspaceConfig';
import type { WorkspaceContext } from './workspaceContext';

function otherValidProfiles(context: WorkspaceContext, profileId: string): Profile[] {
  return readAllProfileFiles(context.layout, workspaceConfigFor(context)).flatMap((other) => (other.profile && other.profile.id !== profileId ? [other.profile] : []));
}

/** The real path of every database file of the other valid profiles, to the id of one that uses it. */
export function databasesOfOtherProfiles(context: WorkspaceContext, profileId: string): Map<string, string> {
  const used = new Map<string, string>();
  for (const other of otherValidProfiles(context, profileId)) {
    for (const written of Object.values(other.databases)) used.set(realLocation(context.layout.resolve(written)), other.id);
  }
  return used;
}

/** The real path of every file in the `files:` of the other valid profiles, to the ids of those that list it. */
export function filesOfOtherProfiles(context: WorkspaceContext, profileId: string): Map<string, string[]> {
  const listed = new Map<string, string[]>();
  for (const other of otherValidProfiles(context, profileId)) {
    for (const written of other.files) {
      const real = realLocation(context.layout.resolve(written));
      listed.set(real, [...(listed.get(real) ?? []), other.id]);
    }
  }
  return listed;
}
