import * as path from 'node:path';
import Mocha from 'mocha';
import { SUITE_RESULT } from './suiteResult';

/** Runs one compiled test file of this folder with mocha (tdd) inside the extension host. */
export function runSuite(file: string): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', timeout: 60000, color: false, reporter: 'spec' });
  mocha.addFile(path.join(__dirname, file));
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      console.log(`${SUITE_RESULT} failures=${failures} passes=${runner.stats?.passes ?? 0} tests=${runner.total}`);
      if (failures > 0) reject(new Error(`${failures} extension test(s) failed`));
      else resolve();
    });
  });
}
