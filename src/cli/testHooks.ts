import { EnvProfilesError } from '../core/errors';
import type { StepHook } from '../core/workspaceContext';

/**
 * Fault injection for the test suite, driven by environment variables that users never set:
 * ENVPROFILES_TEST_FAIL_AT=<step> throws at that step; ENVPROFILES_TEST_STEP_DELAY_MS=<ms> pauses at
 * every step so a test can kill the process in the middle of a transaction.
 */
export function stepHookFromEnvironment(env: NodeJS.ProcessEnv): StepHook | undefined {
  const failAt = env.ENVPROFILES_TEST_FAIL_AT;
  const delay = Number(env.ENVPROFILES_TEST_STEP_DELAY_MS ?? 0);
  if (!failAt && !(delay > 0)) return undefined;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  return (step: string) => {
    if (delay > 0) Atomics.wait(sleeper, 0, 0, delay);
    if (failAt && step.startsWith(failAt)) throw new EnvProfilesError('INJECTED_FAULT', `Injected failure at step ${step}.`);
  };
}
