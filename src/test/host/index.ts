// Entry point the extension host loads (extensionTestsPath) for the main suite.
import { runSuite } from './runSuite';

export function run(): Promise<void> {
  return runSuite('extension.test.js');
}
