// Entry point for the multi-root suite (the runner opens a .code-workspace with two folders).
import { runSuite } from './runSuite';

export function run(): Promise<void> {
  return runSuite('multiRoot.test.js');
}
