// Which other profiles use a path: as one of their databases, or in their files: list.
import { realLocation } from './pathSafety';
import type { Profile } from './profileModel';
import { readAllProfileFiles } from './profileStore';
import { workspaceConfigFor } from './workspaceConfig';
import type { WorkspaceContext } from './workspaceContext';
import type { WorkspaceLayout } from './workspaceLayout';

/** The workspace's other valid profiles: from `read` when the caller has them already, else from disk. */
function otherValidProfiles(context: WorkspaceContext, profileId: string, read?: readonly Profile[]): Profile[] {
  const all = read ?? readAllProfileFiles(context.layout, workspaceConfigFor(context)).flatMap((other) => (other.profile ? [other.profile] : []));
  return all.filter((other) => other.id !== profileId);
}

/** The real path of every database file of the other valid profiles, to the id of one that uses it. */
export function databasesOfOtherProfiles(context: WorkspaceContext, profileId: string): Map<string, string> {
  return new Map([...databaseUsersElsewhere(context, profileId)].map(([real, users]) => [real, users[users.length - 1].profileId]));
}

/** A database of another profile, by that profile's id and its logical name there. */
export interface DatabaseOfAnother {
  profileId: string;
  logicalName: string;
}

/** The real path of every database file of the other valid profiles, to each of them that uses it. */
export function databaseUsersElsewhere(context: WorkspaceContext, profileId: string, read?: readonly Profile[]): Map<string, DatabaseOfAnother[]> {
  const used = new Map<string, DatabaseOfAnother[]>();
  for (const other of otherValidProfiles(context, profileId, read)) {
    for (const [logicalName, written] of Object.entries(other.databases)) {
      const real = realLocation(context.layout.resolve(written));
      used.set(real, [...(used.get(real) ?? []), { profileId: other.id, logicalName }]);
    }
  }
  return used;
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
 * profile, when the caller has read them (validating each of many profiles would read them all each time).
 */
export function sharedDatabaseWarnings(context: WorkspaceContext, profile: Profile, workspaceProfiles?: readonly Profile[]): SharedDatabase[] {
  return sharedDatabasesOf(profile, databaseUsersElsewhere(context, profile.id, workspaceProfiles), (written) => realLocation(context.layout.resolve(written)));
}

/** The same for every profile of a list read already (the Problems panel's), each against the others. */
export function sharedDatabasesAmong(layout: WorkspaceLayout, profiles: readonly Profile[]): Map<string, SharedDatabase[]> {
  const real = (written: string): string => realLocation(layout.resolve(written));
  const users = new Map<string, DatabaseOfAnother[]>();
  for (const profile of profiles) {
    for (const [logicalName, written] of Object.entries(profile.databases)) {
      const path = real(written);
      users.set(path, [...(users.get(path) ?? []), { profileId: profile.id, logicalName }]);
    }
  }
  const others = (id: string): Map<string, DatabaseOfAnother[]> => new Map([...users].map(([path, all]) => [path, all.filter((u) => u.profileId !== id)]));
  return new Map(profiles.map((profile) => [profile.id, sharedDatabasesOf(profile, others(profile.id), real)]));
}

function sharedDatabasesOf(profile: Profile, elsewhere: ReadonlyMap<string, DatabaseOfAnother[]>, real: (written: string) => string): SharedDatabase[] {
  return Object.entries(profile.databases).flatMap(([logicalName, written]) => {
    const users = elsewhere.get(real(written)) ?? [];
    if (users.length === 0) return [];
    const whose = users.map((u) => `${u.profileId}'s "${u.logicalName}"`);
    const [either, both] = users.length === 1 ? ['either', 'both'] : ['any of them', 'all of them'];
    return [{
      logicalName,
      message: `${written} is also ${whose.length === 1 ? whose[0] : `${whose.slice(0, -1).join(', ')} and ${whose[whose.length - 1]}`}: ${users.length === 1 ? 'the two profiles' : `these ${users.length + 1} profiles`} share this one file: switching between them keeps the application on it, and restoring a backup of ${either} replaces it for ${both}; give ${logicalName} a file of its own unless sharing it is meant`,
    }];
  });
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
