/** Every command of the extension, one typed id each (package.json declares the same list). */
export const COMMANDS = {
  initialise: 'envProfiles.initialise',
  createProfile: 'envProfiles.createProfile',
  cloneProfile: 'envProfiles.cloneProfile',
  switchProfile: 'envProfiles.switchProfile',
  deleteProfile: 'envProfiles.deleteProfile',
  validateProfile: 'envProfiles.validateProfile',
  validateProfileFull: 'envProfiles.validateProfileFull',
  backupFull: 'envProfiles.backupFull',
  backupIncremental: 'envProfiles.backupIncremental',
  emergencyBackup: 'envProfiles.emergencyBackup',
  verifyBackup: 'envProfiles.verifyBackup',
  restoreBackup: 'envProfiles.restoreBackup',
  restoreBackupAsNew: 'envProfiles.restoreBackupAsNew',
  restoreDatabase: 'envProfiles.restoreDatabase',
  pruneBackups: 'envProfiles.pruneBackups',
  pruneAllBackups: 'envProfiles.pruneAllBackups',
  rebuildBackupCatalog: 'envProfiles.rebuildBackupCatalog',
  verifyUnverifiedBackups: 'envProfiles.verifyUnverifiedBackups',
  verifyAllBackups: 'envProfiles.verifyAllBackups',
  openProfileYaml: 'envProfiles.openProfileYaml',
  revealDatabase: 'envProfiles.revealDatabase',
  showLog: 'envProfiles.showLog',
  refresh: 'envProfiles.refresh',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];
