import * as vscode from 'vscode';
import type { CompressionSetting, WorkspaceConfig } from './core/workspaceConfig';

/** The extension's settings (`envProfiles.*`), typed. Empty values mean "as config.yaml says". */
export interface ExtensionSettings {
  envFile: string;
  terminalVariables: boolean;
  backupBeforeSwitch: 'useConfig' | 'always' | 'never';
  compression: 'useConfig' | CompressionSetting;
  backupsDirectory: string;
}

export const SETTINGS_SECTION = 'envProfiles';

export function readSettings(scope?: vscode.ConfigurationScope): ExtensionSettings {
  const config = vscode.workspace.getConfiguration(SETTINGS_SECTION, scope);
  return {
    envFile: config.get<string>('envFile', '').trim(),
    terminalVariables: config.get<boolean>('terminal.applyVariables', true),
    backupBeforeSwitch: config.get<ExtensionSettings['backupBeforeSwitch']>('backup.beforeSwitch', 'useConfig'),
    compression: config.get<ExtensionSettings['compression']>('backup.compression', 'useConfig'),
    backupsDirectory: config.get<string>('backup.directory', '').trim(),
  };
}

/** Applies the settings over a folder's config.yaml for operations started from VS Code. */
export function applySettings(settings: ExtensionSettings): (config: WorkspaceConfig) => WorkspaceConfig {
  return (config) => ({
    ...config,
    envFile: settings.envFile || config.envFile,
    backups: {
      ...config.backups,
      directory: settings.backupsDirectory || config.backups.directory,
      compression: settings.compression === 'useConfig' ? config.backups.compression : settings.compression,
      beforeSwitch: settings.backupBeforeSwitch === 'useConfig' ? config.backups.beforeSwitch : settings.backupBeforeSwitch === 'always',
    },
  });
}
