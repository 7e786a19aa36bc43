import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { seeded } from './testHelpers';
import { CLI, tempDir } from './workspaces';

/**
 * Runs of the built CLI that stop at a known step (the hooks in src/cli/testHooks.ts) or at a random
 * moment. A kill at a step is deterministic, so a test can require kills on both sides of a commit
 * point; random kills add the moments between steps, inside a write.
 */

/** The test-hook variables, cleared so a run only has the ones a test gives it. */
export const NO_TEST_HOOKS: NodeJS.ProcessEnv = {
  ENVPROFILES_TEST_FAIL_AT: '',
  ENVPROFILES_TEST_STEP_DELAY_MS: '',
  ENVPROFILES_TEST_KILL_AT_STEP: '',
  ENVPROFILES_TEST_STEP_LOG: '',
  ENVPROFILES_TEST_HOLD_AT: '',
  ENVPROFILES_TEST_HOLD_FILE: '',
};

function cliEnvironment(hooks: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, ...NO_TEST_HOOKS, ...hooks };
}

/** Runs the command to its end and returns the steps it reported, in order. */
export function stepsOf(args: string[]): string[] {
  const log = path.join(tempDir('envprofiles-steps-'), 'steps.log');
  const run = spawnSync(process.execPath, [CLI, ...args], { env: cliEnvironment({ ENVPROFILES_TEST_STEP_LOG: log }), encoding: 'utf8', input: '' });
  if (run.status !== 0) throw new Error(`${args.join(' ')} failed while its steps were learned: ${run.stderr}`);
  return fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

/** Runs the command and kills it with SIGKILL at its `step`-th step (1-based). Throws if it got past it. */
function killAtStep(args: string[], step: number): void {
  const run = spawnSync(process.execPath, [CLI, ...args], { env: cliEnvironment({ ENVPROFILES_TEST_KILL_AT_STEP: String(step) }), encoding: 'utf8', input: '' });
  if (run.signal !== 'SIGKILL') throw new Error(`${args.join(' ')} was to be killed at step ${step} but ended with ${run.status}: ${run.stderr}`);
}

/**
 * Kills a command once at each of its `steps` (learned with `stepsOf`): each run is prepared (which
 * returns its arguments), killed at its step, then checked with the step's index and a context to report.
 */
export async function killAtEveryStep(plan: {
  steps: string[];
  prepare: (index: number) => string[] | Promise<string[]>;
  check: (kill: { index: number; context: string }) => void | Promise<void>;
}): Promise<void> {
  for (const [index, step] of plan.steps.entries()) {
    killAtStep(await plan.prepare(index), index + 1);
    await plan.check({ index, context: `killed at step ${index + 1} of ${plan.steps.length} (${step})` });
  }
}

/** Starts the command, kills it with SIGKILL after `delayMs` (each step pausing `stepDelayMs`); resolves whether it finished first. */
function killAfter(args: string[], delayMs: number, stepDelayMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cliEnvironment({ ENVPROFILES_TEST_STEP_DELAY_MS: String(stepDelayMs) }), stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(signal === null && code === 0);
    });
  });
}

/**
 * Kills `runs` runs of a command at random moments (steps pausing `stepDelayMs`): each run is prepared
 * (which returns its arguments), killed after a random share of how long the undisturbed run took, then
 * checked. Every check's context names the seed; ENVPROFILES_KILL_SEED repeats a failing one.
 */
export async function killAtRandomMoments(plan: {
  runs: number;
  stepDelayMs: number;
  undisturbed: string[];
  prepare: (run: number) => string[] | Promise<string[]>;
  check: (outcome: { run: number; finished: boolean; context: string }) => void | Promise<void>;
}): Promise<void> {
  const seed = Number(process.env.ENVPROFILES_KILL_SEED ?? Date.now() % 100000);
  const random = seeded(seed);
  const started = Date.now();
  if (!(await killAfter(plan.undisturbed, 60_000, plan.stepDelayMs))) throw new Error(`${plan.undisturbed.join(' ')} failed when left to finish`);
  const fullRun = Date.now() - started;
  for (let run = 0; run < plan.runs; run++) {
    const args = await plan.prepare(run);
    const delay = Math.floor(random() * fullRun);
    const finished = await killAfter(args, delay, plan.stepDelayMs);
    await plan.check({ run, finished, context: `seed ${seed}, run ${run}, killed after ${delay} ms of ${fullRun} (finished: ${finished})` });
  }
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
}

/** Starts the command; resolves with its exit code, stderr and stdout. `started` hears the id of the process started. */
export function startCli(args: string[], hooks: NodeJS.ProcessEnv = {}, started?: (pid: number) => void): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cliEnvironment(hooks), stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) started?.(child.pid);
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.on('close', (code, signal) => resolve({ code, signal, stderr, stdout }));
  });
}

export interface Hold {
  /** Resolves with the held process's id when a command has reached the step and is waiting there; rejects if all ended first. */
  reached: Promise<number>;
  /** Lets the held command go on. */
  release(): void;
}

/** Starts the command and holds it at the first `step` of that name until released. `pid`: the process started. */
export function startHeld(args: string[], step: string, env: NodeJS.ProcessEnv = {}): Hold & { finished: Promise<Finished>; pid: number } {
  const { all, pids, ...hold } = startManyHeld(args, step, 1, env);
  return { ...hold, finished: all[0], pid: pids[0] };
}

/** Starts the same command `count` times at once, all to be held at `step`: whichever gets there is held. */
export function startManyHeld(args: string[], step: string, count: number, env: NodeJS.ProcessEnv = {}): Hold & { all: Promise<Finished>[]; pids: number[] } {
  const releaseFile = path.join(tempDir('envprofiles-hold-'), 'release');
  const pids: number[] = [];
  const all = Array.from({ length: count }, () => startCli(args, { ...env, ENVPROFILES_TEST_HOLD_AT: step, ENVPROFILES_TEST_HOLD_FILE: releaseFile }, (pid) => pids.push(pid)));
  let allEnded = false;
  void Promise.all(all).then(() => (allEnded = true));
  const reached = new Promise<number>((resolve, reject) => {
    const poll = setInterval(() => {
      // The held process writes its id there (an empty file is one still being written).
      const pid = fs.existsSync(`${releaseFile}.reached`) ? Number(fs.readFileSync(`${releaseFile}.reached`, 'utf8')) : 0;
      if (pid > 0) {
        clearInterval(poll);
        resolve(pid);
      } else if (allEnded) {
        clearInterval(poll);
        reject(new Error(`${args.join(' ')} ended without reaching the step "${step}" it was to be held at`));
      }
    }, 5);
  });
  return { reached, release: () => fs.writeFileSync(releaseFile, ''), all, pids };
}
