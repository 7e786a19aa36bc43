import * as vscode from 'vscode';
import type { ProfileType } from '../core/profileModel';

/** Icon and colour of each profile type, used by the tree and the switch picker. */
export const TYPE_ICON: Record<ProfileType, string> = { DEVELOPMENT: 'tools', TESTING: 'beaker', PRODUCTION: 'flame', BACKUP: 'archive' };
export const TYPE_COLOR: Record<ProfileType, string> = { DEVELOPMENT: 'charts.green', TESTING: 'charts.yellow', PRODUCTION: 'charts.red', BACKUP: 'charts.blue' };
export const TYPE_SHORT: Record<ProfileType, string> = { DEVELOPMENT: 'DEV', TESTING: 'TEST', PRODUCTION: 'PROD', BACKUP: 'BACKUP' };

export function typeIcon(type: ProfileType): vscode.ThemeIcon {
  return new vscode.ThemeIcon(TYPE_ICON[type], new vscode.ThemeColor(TYPE_COLOR[type]));
}

