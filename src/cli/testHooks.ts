import * as fs from 'node:fs';
import { blockingPause } from '../core/blockingPause';
import { EnvProfilesError } from '../core/errors';
import { LOCK_WAIT_LIMIT_MS } from '../core/lockWait';
import type { StepHook } from '../core/workspaceContext';

/** How long a held step waits for its release file before it goes on by itself. */
const HOLD_LIMIT_MS = 60_000;

/**
 * Fault injection for the test suite, driven by environment variables that users never set. Each one
 * acts at the named steps an operation reports (`onStep`), so a test can hit a known point of a
 * transaction instead of aiming a timer at it:
 * - ENVPROFILES_TEST_STEP_LOG=<file> appends each step's name to the file (how a test learns the steps);
 * - ENVPROFILES_TEST_KILL_AT_STEP=<n> kills the process with SIGKILL at its n-th step (1-based; steps
 *   may repeat, as the safety backup before a restore reports its own);
 * - ENVPROFILES_TEST_HOLD_AT=<step> with ENVPROFILES_TEST_HOLD_FILE=<path> writes <path>.reached at
 *   that step and waits until <path> exists, so a test can run another command in between;
 * - ENVPROFILES_TEST_STEP_DELAY_MS=<ms> pauses at every step (for kills at random moments);
 * - ENVPROFILES_TEST_FAIL_AT=<step> throws at the first step whose name starts with it.
 */
export function stepHookFromEnvironment(env: NodeJS.ProcessEnv): StepHook | undefined {
  const failAt = env.ENVPROFILES_TEST_FAIL_AT;
  const delay = Number(env.ENVPROFILES_TEST_STEP_DELAY_MS ?? 0);
  const killAtStep = Number(env.ENVPROFILES_TEST_KILL_AT_STEP ?? 0);
  const stepLog = env.ENVPROFILES_TEST_STEP_LOG;
  const holdAt = env.ENVPROFILES_TEST_HOLD_AT;
  const holdFile = env.ENVPROFILES_TEST_HOLD_FILE;
  const holds = Boolean(holdAt && holdFile);
  if (!failAt && !(delay > 0) && !(killAtStep > 0) && !stepLog && !holds) return undefined;
  let stepsSeen = 0;
  return (step: string) => {
    stepsSeen++;
    if (stepLog) fs.appendFileSync(stepLog, `${step}\n`);
    if (stepsSeen === killAtStep) killSelf();
    if (holds && step === holdAt) holdUntilReleased(holdFile as string);
    if (delay > 0) blockingPause(delay);
    if (failAt && step.startsWith(failAt)) throw new EnvProfilesError('INJECTED_FAULT', `Injected failure at step ${step}.`);
  };
}

/**
 * How long `verify --all` waits for another operation between two backups (LOCK_WAIT_LIMIT_MS, 30
 * minutes), unless ENVPROFILES_TEST_LOCK_WAIT_LIMIT_MS=<ms> shortens it so that a test sees it run out.
 */
export function lockWaitLimitFromEnvironment(env: NodeJS.ProcessEnv): number {
  const shortened = Number(env.ENVPROFILES_TEST_LOCK_WAIT_LIMIT_MS ?? 0);
  return shortened > 0 ? shortened : LOCK_WAIT_LIMIT_MS;
}

/** As `kill -9` from outside: no handler, no cleanup, no flush. */
function killSelf(): never {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL sent to oneself ends the process at once; should its delivery lag, nothing after the step runs.
  for (;;) blockingPause(1000);
}

function holdUntilReleased(releaseFile: string): void {
  fs.writeFileSync(`${releaseFile}.reached`, String(process.pid));
  const until = Date.now() + HOLD_LIMIT_MS;
  while (!fs.existsSync(releaseFile) && Date.now() < until) blockingPause(5);
}
