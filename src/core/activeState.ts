import type { WorkspaceLayout } from './workspaceLayout';
import { readFileIfRegular } from './pathKind';

/** The content of state.json: which profile is active. */
export interface ActiveState {
  active: string | null;
  switchedAt?: string;
  /** Set when the env file at this path was last written by a switch. */
  envFile?: string;
  /** Why state.json could not be read (damaged), when it could not: which profile is active is then unknown. */
  unreadable?: string;
}

export function readActiveState(layout: WorkspaceLayout): ActiveState {
  try {
    const parsed = JSON.parse(readFileIfRegular(layout.stateFile) ?? '{}') as Partial<ActiveState>;
    return { active: typeof parsed.active === 'string' ? parsed.active : null, switchedAt: parsed.switchedAt, envFile: parsed.envFile };
  } catch (error) {
    return { active: null, unreadable: (error as Error).message };
  }
}

export function renderActiveState(state: ActiveState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}
