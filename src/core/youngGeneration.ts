/**
 * V8's young generation, where short-lived objects (such as the buffers zlib hands out) live until the
 * next minor collection. A small one is collected often, so garbage buffers are freed soon; Node's
 * default lets them pile up for longer. V8 takes its size only when the process starts.
 */

/** The flag that gives a process a small young generation (1 MiB semi-spaces). */
export const SMALL_YOUNG_GENERATION_FLAG = '--max-semi-space-size=1';

/** Whether this process was started with a young generation that small (on its command line or in NODE_OPTIONS). */
export function hasSmallYoungGeneration(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((arg) => {
    const size = /^--max-semi-space-size=(\d+)$/.exec(arg.replace(/_/g, '-'));
    return size !== null && Number(size[1]) <= 1;
  });
}
