import * as fs from 'node:fs';
import { EnvProfilesError } from './errors';
import type { WorkspaceConfig } from './workspaceConfig';
import type { WorkspaceContext } from './workspaceContext';

/** The path of the busy guard's lock file, if the workspace has one. */
export function guardPath(context: WorkspaceContext, config: WorkspaceConfig): string | undefined {
  return config.guardFile ? context.layout.resolve(config.guardFile) : undefined;
}

/** True while the application holds its lock file (it is live). */
export function isGuardActive(context: WorkspaceContext, config: WorkspaceConfig): boolean {
  const file = guardPath(context, config);
  return file !== undefined && fs.existsSync(file);
}

/** Refuses `operation` while the application is live. */
export function checkBusyGuard(context: WorkspaceContext, config: WorkspaceConfig, operation: string): void {
  if (!isGuardActive(context, config)) return;
  throw new EnvProfilesError('GUARD_ACTIVE', `The application is live (its lock file ${config.guardFile} exists), so ${operation} is refused.`, {
    kind: 'refused',
    file: config.guardFile,
    hint: `Stop the application and try again. If it is not running, delete ${config.guardFile}.`,
  });
}
