// Which other profiles use a path: as one of their databases, or in their files: list.
import { realLocation } from './pathSafety';
import type { Profile } from './profileModel';
import { readAllProfileFiles, validProfilesOf } from './profileStore';
import { workspaceConfigFor } from './workspaceConfig';
import type { WorkspaceContext } from './workspaceContext';
import type { WorkspaceLayout } from './workspaceLayout';

/** The workspace's other valid profiles: from `read` when the caller has them already, else from disk. */
function otherValidProfiles(context: WorkspaceContext, profileId: string, read?: readonly Profile[]): Profile[] {
  const all = read ?? validProfilesOf(readAllProfileFiles(context.layout, workspaceConfigFor(context)));
  return all.filter((other) => other.id !== profileId);
}

/** One database of one profile, with the real path of its file (another path or a link may lead there). */
interface DatabaseUse {
  profileId: string;
  logicalName: string;
  written: string;
  real: string;
}

function databaseUses(layout: WorkspaceLayout, profiles: readonly Profile[]): DatabaseUse[] {
  return profiles.flatMap((profile) => Object.entries(profile.databases).map(([logicalName, written]) => ({ profileId: profile.id, logicalName, written, real: realLocation(layout.resolve(written)) })));
}

/** The real path of every database file of the other valid profiles, to the id of one that uses it. */
export function databasesOfOtherProfiles(context: WorkspaceContext, profileId: string): Map<string, string> {
  return new Map(databaseUses(context.layout, otherValidProfiles(context, profileId)).map((use) => [use.real, use.profileId]));
}

/** A database of a profile that other profiles use too: what to say of it, on its `databases:` entry. */
export interface SharedDatabase {
  logicalName: string;
  message: string;
}

/**
 * Why each of `profile`'s databases that another profile uses too is worth a word: profiles are there
 * to keep environments apart, and one file under two of them is one environment's data in both
 * (usually a path copied from the other profile and not changed). `workspaceProfiles`: every valid
 * profile, when the caller has read them.
 */
export function sharedDatabaseWarnings(context: WorkspaceContext, profile: Profile, workspaceProfiles?: readonly Profile[]): SharedDatabase[] {
  return sharedDatabasesAmong(context.layout, [profile, ...otherValidProfiles(context, profile.id, workspaceProfiles)]).get(profile.id) ?? [];
}

/** The same for every profile of a list, each against the others (validating each of many profiles would read them all each time). */
export function sharedDatabasesAmong(layout: WorkspaceLayout, profiles: readonly Profile[]): Map<string, SharedDatabase[]> {
  const uses = databaseUses(layout, profiles);
  const byFile = new Map<string, DatabaseUse[]>();
  for (const use of uses) byFile.set(use.real, [...(byFile.get(use.real) ?? []), use]);
  const shared = new Map<string, SharedDatabase[]>(profiles.map((p) => [p.id, []]));
  for (const use of uses) {
    const others = (byFile.get(use.real) ?? []).filter((u) => u.profileId !== use.profileId);
    if (others.length > 0) shared.get(use.profileId)?.push({ logicalName: use.logicalName, message: sharedDatabaseMessage(use, others) });
  }
  return shared;
}

function sharedDatabaseMessage(use: DatabaseUse, others: readonly DatabaseUse[]): string {
  const whose = others.map((u) => `${u.profileId}'s "${u.logicalName}"`);
  const [either, both] = others.length === 1 ? ['either', 'both'] : ['any of them', 'all of them'];
  const all = others.length === 1 ? 'the two profiles' : `these ${others.length + 1} profiles`;
  return `${use.written} is also ${whose.length === 1 ? whose[0] : `${whose.slice(0, -1).join(', ')} and ${whose[whose.length - 1]}`}: ${all} share this one file: switching between them keeps the application on it, and restoring a backup of ${either} replaces it for ${both}; give ${use.logicalName} a file of its own unless sharing it is meant`;
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
