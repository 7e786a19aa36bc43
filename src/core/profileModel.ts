/** The profile types. PRODUCTION is protected by default. */
export const PROFILE_TYPES = ['DEVELOPMENT', 'TESTING', 'PRODUCTION', 'BACKUP'] as const;
export type ProfileType = (typeof PROFILE_TYPES)[number];

export type ConfigValue = string | number | boolean;

/** A validated profile, as the core works with it. Paths stay as written (workspace-relative). */
export interface Profile {
  id: string;
  name: string;
  type: ProfileType;
  createdAt?: string;
  description?: string;
  /** PRODUCTION profiles are always protected; others when `protected: true`. */
  protected: boolean;
  /** Logical database name -> path of the SQLite file, relative to the workspace folder. */
  databases: Record<string, string>;
  /** Key/value settings the application reads, exported as upper-cased environment variables. */
  configurations: Record<string, ConfigValue>;
  /** Extra configuration files that belong to this environment (backed up with it). */
  files: string[];
  /** Tables that must exist, per logical database. */
  requiredTables: Record<string, string[]>;
  /** The backup schedule as written; the backup issue gives it meaning. */
  backupSchedule?: Record<string, unknown>;
}

/** A profile together with the file it came from. */
export interface LoadedProfile {
  profile: Profile;
  file: string;
}

export function isProtected(profile: Pick<Profile, 'type' | 'protected'>): boolean {
  return profile.type === 'PRODUCTION' || profile.protected;
}
