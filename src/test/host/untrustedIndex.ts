// Entry point for the untrusted-workspace suite (the runner leaves workspace trust on).
import { runSuite } from './runSuite';

export function run(): Promise<void> {
  return runSuite('untrusted.test.js');
}
