/** The contextValue of every tree item, in one table (menus in package.json match on these). */
export const CONTEXT = {
  folder: 'envProfiles.folder',
  profile: 'envProfiles.profile',
  activeProfile: 'envProfiles.profile.active',
  invalidProfile: 'envProfiles.profile.invalid',
  deletedProfile: 'envProfiles.profile.deleted',
  databasesSection: 'envProfiles.section.databases',
  configurationSection: 'envProfiles.section.configuration',
  backupsSection: 'envProfiles.section.backups',
  database: 'envProfiles.database',
  /** A database whose file does not exist (Make Missing Databases is offered on it). */
  missingDatabase: 'envProfiles.database.missing',
  configurationGroup: 'envProfiles.configurationGroup',
  configurationItem: 'envProfiles.configurationItem',
  backup: 'envProfiles.backup',
  message: 'envProfiles.message',
} as const;
