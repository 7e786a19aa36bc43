import type { WorkspaceLayout } from './workspaceLayout';
import { readFileIfRegular } from './pathKind';

/** The content of state.json: which profile is active. */
export interface ActiveState {
  active: string | null;
  switchedAt?: string;
  /** Set when the env file at this path was last written by a switch. */
  envFile?: string;
}

export function readActiveState(layout: WorkspaceLayout): ActiveState {
  try {
    const parsed = JSON.parse(readFileIfRegular(layout.stateFile) ?? '{}') as Partial<ActiveState>;
    return { active: typeof parsed.active === 'string' ? parsed.active : null, switchedAt: parsed.switchedAt, envFile: parsed.envFile };
  } catch {
    return { active: null };
  }
}

export function renderActiveState(state: ActiveState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}
