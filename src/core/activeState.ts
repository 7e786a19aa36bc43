import type { WorkspaceLayout } from './workspaceLayout';
import { readFileIfRegular } from './pathKind';
import { profileIdProblem } from './safeNames';
import { isIsoTime, isSha256, shownValue } from './untrustedValues';

/** The content of state.json: which profile is active. */
export interface ActiveState {
  active: string | null;
  switchedAt?: string;
  /** Set when the env file at this path was last written by a switch. */
  envFile?: string;
  /** The SHA-256 of that env file as the switch wrote it: what tells an env file edited since (its edits are kept aside before a switch replaces it). */
  envFileSha256?: string;
  /** Why state.json could not be read (damaged), when it could not: which profile is active is then unknown. */
  unreadable?: string;
}

export function readActiveState(layout: WorkspaceLayout): ActiveState {
  try {
    const parsed = JSON.parse(readFileIfRegular(layout.stateFile) ?? '{}') as Partial<ActiveState> | null;
    if (!parsed || typeof parsed !== 'object') throw new Error(`it holds ${shownValue(parsed)}, not a state`);
    // Another kind of value is damage (or a hand edit): read as "no active profile", it was not said. So is
    // text no profile can have as its id ("../config" had status read config.yaml as that profile, and
    // advise "envprofiles switch ../config").
    const active: unknown = parsed.active;
    if (active !== undefined && active !== null && (typeof active !== 'string' || profileIdProblem(active))) throw new Error(`its active profile is ${shownValue(active)}, not a profile id`);
    // The time is only shown: one that is not a time (it made status fail as "a bug") is left out.
    return { active: parsed.active ?? null, switchedAt: isIsoTime(parsed.switchedAt) ? parsed.switchedAt : undefined, envFile: typeof parsed.envFile === 'string' ? parsed.envFile : undefined, envFileSha256: isSha256(parsed.envFileSha256) ? parsed.envFileSha256 : undefined };
  } catch (error) {
    return { active: null, unreadable: (error as Error).message };
  }
}

export function renderActiveState(state: ActiveState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}
