import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createBackup } from '../src/core/backup/backupCreation';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { verifyBackup } from '../src/core/backup/backupVerification';
import { isEnvProfilesError } from '../src/core/errors';
import { demoWorkspace, engine } from './support/workspaces';

const DEV = 'dev_environment_001';

/** What a message shows when code met something it did not expect (a bug), or a damaged database said without which one or what to do. */
const NOT_AN_ANSWER = /Cannot read properties|is not a function|Invalid time value|\[object Object\]|\bundefined\b|\bNaN\b|^A database is damaged: SQLite/;

/** Why an outcome is not a typed answer, or undefined when it is. */
function untypedAnswer(error: unknown): string | undefined {
  if (!isEnvProfilesError(error)) return `threw ${String(error)}`;
  return NOT_AN_ANSWER.test(error.message) ? `said: ${error.message}` : undefined;
}

describe('a database damaged in each byte of its header and of page 1\'s b-tree header, in turn', () => {
  // Found this way (by hand, over every byte and more commands): a verify of such a backup ended in a bare
  // "A database is damaged" with nothing recorded, a restore over such a database was refused (its
  // safety backup "could not be verified"), and a clone of one failed as "a bug".
  it('a backup and its verify give a typed answer, and a restore of a sound backup over it always goes on and brings the data back', async function () {
    this.timeout(600_000);
    const { root, context } = await demoWorkspace();
    const market = path.join(root, 'data/dev/market_data.sqlite3');
    const checkpoint = (await engine()).open(market, { readOnly: false });
    checkpoint.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    checkpoint.close();
    const sound = await createBackup(context, { profileId: DEV, kind: 'full' });
    const original = fs.readFileSync(market);
    // What a restore of it writes (the backup API's copy: the same data, the header's change counter its own).
    await restoreBackup(context, { reference: sound.entry.id });
    const restored = fs.readFileSync(market);
    // The header's fields (the magic text and its first bytes are one case: not SQLite at all), then page 1's b-tree header.
    const damages: [number, number][] = [[0, 0x00], ...Array.from({ length: 84 }, (_, i): [number, number] => [16 + i, 0xff]), ...Array.from({ length: 8 }, (_, i): [number, number] => [100 + i, 0x77])];
    const untyped: string[] = [];
    for (const [offset, value] of damages) {
      const damaged = Buffer.from(original);
      damaged[offset] = value;
      fs.writeFileSync(market, damaged);
      for (const suffix of ['-wal', '-shm']) fs.rmSync(`${market}${suffix}`, { force: true });
      const at = `byte ${offset} = 0x${value.toString(16)}`;
      try {
        const backup = await createBackup(context, { profileId: DEV, kind: 'full' });
        await verifyBackup(context, backup.entry.id);
      } catch (error) {
        const problem = untypedAnswer(error);
        if (problem) untyped.push(`${at}, backup or verify: ${problem}`);
      }
      try {
        await restoreBackup(context, { reference: sound.entry.id });
        if (!fs.readFileSync(market).equals(restored)) untyped.push(`${at}: the restore did not bring the data back`);
      } catch (error) {
        untyped.push(`${at}, restore: ${isEnvProfilesError(error) ? `${error.code}: ${error.message}` : String(error)}`);
      }
    }
    assert.deepEqual(untyped, [], `${untyped.length} of ${damages.length} damages:\n${untyped.slice(0, 10).join('\n')}`);
  });
});
