import * as fs from 'node:fs';
import { readActiveState } from './activeState';
import { isGuardActive } from './busyGuard';
import { firstIssueInBrief, isEnvProfilesError, type Issue } from './errors';
import { listJournals } from './operationJournal';
import { isProtected, type ProfileType } from './profileModel';
import { readAllProfileFiles, readProfileFile } from './profileStore';
import { captureOutput, outputDrift, planOutputs } from './switchOutputs';
import { checkOutputsReplaceOnlyOutputs, refuseOversizedOutputs } from './outputCollisions';
import { typedSystemError } from './systemErrors';
import { workspaceConfigFor } from './workspaceConfig';
import type { WorkspaceContext } from './workspaceContext';
import { liveLockOwner } from './workspaceLock';
import { missingDatabaseNames, missingDatabases } from './missingDatabases';

export interface ProfileSummary {
  id: string;
  name?: string;
  type?: ProfileType;
  /** Its created_at: a backup made before it is of an earlier profile with this id. */
  createdAt?: string;
  protected: boolean;
  active: boolean;
  valid: boolean;
  databases: Record<string, string>;
  /** Logical names of its databases whose files do not exist (switch and backup refuse it until they do). */
  missingDatabases: string[];
  file: string;
  issues: Issue[];
  /** What leaves the profile usable but should be fixed (a misspelt key, an id that differs from another's only in case). */
  warnings: Issue[];
}

/** Every profile of the workspace, valid or not, with the active one marked. */
export function listProfiles(context: WorkspaceContext): ProfileSummary[] {
  const config = workspaceConfigFor(context);
  const active = readActiveState(context.layout).active;
  return readAllProfileFiles(context.layout, config).map((result) => ({
    id: result.id,
    name: result.profile?.name,
    type: result.profile?.type,
    ...(result.profile?.createdAt !== undefined ? { createdAt: result.profile.createdAt } : {}),
    protected: result.profile ? isProtected(result.profile) : false,
    active: result.id === active,
    valid: result.profile !== undefined,
    databases: result.profile?.databases ?? {},
    missingDatabases: missingDatabaseNames(context.layout, result.profile?.databases ?? {}),
    file: context.layout.relative(result.file),
    issues: result.issues,
    warnings: result.warnings ?? [],
  }));
}

export interface WorkspaceStatus {
  workspace: string;
  initialised: boolean;
  active: string | null;
  /** Why state.json, which says which profile is active, could not be read (damaged). */
  stateUnreadable?: string;
  activeName?: string;
  activeType?: ProfileType;
  switchedAt?: string;
  /** The active profile's file is gone (deleted or moved by hand) or does not validate: a switch to it cannot rewrite the outputs. */
  activeProfileFile?: 'missing' | 'invalid';
  /** What a switch would refuse to replace at an output path (OUTPUT_CONFLICT), as its hint says how to fix it: switching again would not. */
  outputConflict?: string;
  /**
   * The active profile's databases whose files do not exist: through its link or env file the
   * application would find no database there, and SQLite would make a new, empty one.
   */
  missingDatabases: { name: string; path: string }[];
  /** True when every output on disk is what the active profile would write. */
  inSync: boolean;
  drift: string[];
  guardActive: boolean;
  operationInProgress?: string;
  pendingRecovery: string[];
  engine: string;
}

/** The active profile and whether the outputs on disk (env file, links) match it. */
export function workspaceStatus(context: WorkspaceContext): WorkspaceStatus {
  const { layout } = context;
  const initialised = fs.existsSync(layout.storeDir);
  const state = readActiveState(layout);
  const status: WorkspaceStatus = {
    workspace: layout.root,
    initialised,
    active: state.active,
    ...(state.unreadable ? { stateUnreadable: state.unreadable } : {}),
    switchedAt: state.switchedAt,
    inSync: true,
    drift: [],
    missingDatabases: [],
    guardActive: false,
    pendingRecovery: listJournals(layout).map((j) => j.name),
    engine: context.engine.name,
  };
  if (!initialised) return status;
  const config = workspaceConfigFor(context);
  status.guardActive = isGuardActive(context, config);
  status.operationInProgress = liveLockOwner(layout)?.operation;
  if (!state.active) return status;
  const result = readProfileFile(layout, config, state.active);
  if (!result.profile) {
    status.inSync = false;
    status.activeProfileFile = fs.existsSync(result.file) ? 'invalid' : 'missing';
    status.drift.push(fs.existsSync(result.file) ? `the active profile "${state.active}" is not valid: ${firstIssueInBrief(result.issues)}` : `the active profile "${state.active}" no longer exists`);
    return status;
  }
  status.activeName = result.profile.name;
  status.activeType = result.profile.type;
  status.missingDatabases = missingDatabases(layout, result.profile.databases);
  try {
    const outputs = planOutputs(layout, config, result.profile, state.switchedAt ?? '').filter((output) => output.role !== 'state');
    // What a switch would refuse to replace (a database, a file too large to be an output) is said as the
    // switch says it, with its advice: switching again would not bring the outputs in line.
    refuseOversizedOutputs(context, outputs);
    const captured = outputs.map((output) => ({ ...output, before: captureOutput(output.path, output.label) }));
    checkOutputsReplaceOnlyOutputs(context, config, captured);
    for (const output of captured) {
      const drift = outputDrift(output, layout.root, output.before, state);
      if (drift) status.drift.push(drift);
    }
  } catch (error) {
    if (isEnvProfilesError(error) && error.code === 'OUTPUT_CONFLICT') {
      status.drift.push(error.message);
      // Status changes nothing in any case: the hint without the switch's "Nothing was changed."
      status.outputConflict = (error.hint ?? `Fix ${layout.relative(layout.configFile)}.`).replace(/ Nothing was changed\.$/, '');
    } else {
      // A path that cannot be looked at (a file where a folder is needed) is said in words, as the switch says it.
      status.drift.push((typedSystemError(error) ?? (error as Error)).message);
    }
  }
  status.inSync = status.drift.length === 0;
  return status;
}
