import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createBackup } from '../src/core/backup/backupCreation';
import type { BackupResult } from '../src/core/backup/backupRequest';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { verifyBackup } from '../src/core/backup/backupVerification';
import { EnvProfilesError } from '../src/core/errors';
import { FUZZED_PROFILE as DEV, fuzzedBackups, KEPT_AS_FOUND, notCompared } from './support/fuzzedBackups';
import { assertSameTree, demoWorkspace, snapshotTree, tempDir, temporaryFiles } from './support/workspaces';
import { craftArchive, seeded } from './support/testHelpers';

const RUNS = Number(process.env.ENVPROFILES_DAMAGE_RUNS ?? 60);
const SEED = Number(process.env.ENVPROFILES_DAMAGE_SEED ?? 20261205);

/** A copy of `archive` damaged at random the way disks, transfers and editors damage files; and what was done, for the failure message. */
function damaged(archive: Buffer, random: () => number): { bytes: Buffer; how: string } {
  const at = (length: number): number => Math.floor(random() * length);
  const bytes = Buffer.from(archive);
  switch (at(6)) {
    case 0: {
      const flips = 1 + at(8);
      for (let i = 0; i < flips; i++) bytes[at(bytes.length)] ^= 1 << at(8);
      return { bytes, how: `${flips} bit(s) flipped anywhere` };
    }
    case 1: {
      // The end holds the central directory and its end record, which every reader starts from.
      const flips = 1 + at(4);
      for (let i = 0; i < flips; i++) bytes[bytes.length - 1 - at(Math.min(bytes.length, 2000))] ^= 1 << at(8);
      return { bytes, how: `${flips} bit(s) flipped in the last 2,000 bytes` };
    }
    case 2: {
      const length = at(bytes.length);
      return { bytes: bytes.subarray(0, length), how: `truncated to ${length} bytes` };
    }
    case 3: {
      const start = at(bytes.length);
      const length = 1 + at(64);
      bytes.fill(0, start, Math.min(bytes.length, start + length));
      return { bytes, how: `${length} bytes zeroed at ${start}` };
    }
    case 4: {
      const start = at(bytes.length);
      const length = 1 + at(256);
      return { bytes: Buffer.concat([bytes.subarray(0, start + length), bytes.subarray(start)]), how: `${length} bytes repeated at ${start}` };
    }
    default: {
      // The first local header: the manifest's name, sizes, flags and method.
      const changes = 1 + at(3);
      for (let i = 0; i < changes; i++) bytes[at(Math.min(bytes.length, 200))] = at(256);
      return { bytes, how: `${changes} byte(s) of the first 200 overwritten` };
    }
  }
}


describe('archives damaged at random (seeded: ENVPROFILES_DAMAGE_SEED, ENVPROFILES_DAMAGE_RUNS)', () => {
  it(`every damaged copy of a full, an incremental or an emergency backup (a damaged database kept as found) is refused with a typed error and nothing written, or restores (as a new profile, or over the profile) to exactly the backed-up databases; what verify finds sound restores (${RUNS} copies)`, async () => {
    const { root, context, full, incremental, emergency, databasesOf: expected, filesOf } = await fuzzedBackups(true);
    assert.ok(emergency);

    const random = seeded(SEED);
    const copies = tempDir();
    const outcomes = { refused: 0, restored: 0 };
    for (let run = 0; run < RUNS; run++) {
      // Every fourth an emergency backup, whose file kept as found no restore writes back.
      const source: BackupResult = run % 4 === 3 ? emergency : run % 2 === 0 ? full : incremental;
      const { bytes, how } = damaged(fs.readFileSync(source.archive), random);
      // The name is the backup's: an incremental finds its chain in the workspace's backups folder.
      const copy = path.join(copies, String(run), path.basename(source.archive));
      fs.mkdirSync(path.dirname(copy));
      fs.writeFileSync(copy, bytes);
      const label = `run ${run} (seed ${SEED}), the ${source.entry.kind} with ${how} (${copy})`;

      const verdict = await verifyBackup(context, copy).catch((error: unknown) => error);
      if (verdict instanceof Error) assert.ok(verdict instanceof EnvProfilesError, `${label}: verify threw an untyped error: ${verdict.stack}`);
      const sound = !(verdict instanceof Error) && (verdict as { ok: boolean }).ok;

      const before = snapshotTree(root, notCompared);
      // Every third copy is restored over the profile (after its safety backup), the others as a new one.
      const asNew = run % 3 === 2 ? undefined : `damaged_${run}`;
      const restored = await restoreBackup(context, { reference: copy, asNew }).catch((error: unknown) => error);
      if (restored instanceof Error) {
        assert.ok(restored instanceof EnvProfilesError, `${label}: restore threw an untyped error: ${restored.stack}`);
        assert.ok(!sound, `${label}: verify found it sound, restore refused it: ${restored.message}`);
        assertSameTree(snapshotTree(root, notCompared), before, `${label}: a refused restore wrote`);
        outcomes.refused++;
      } else {
        // Restore may take a copy verify refuses when the damage is in what restore does not read (the
        // page index of a full, which only the next incremental and verify use); its data must be exact.
        const folder = path.join(root, 'data', asNew ?? 'dev');
        for (const [name, content] of expected.get(source.archive) ?? []) {
          assert.ok(fs.readFileSync(path.join(folder, `${name}.sqlite3`)).equals(content), `${label}: ${name} restored to other bytes than the undamaged backup gives`);
        }
        // Over the profile, its files are the backed-up ones too (a new profile takes only the databases).
        if (!asNew) {
          for (const [file, content] of filesOf.get(source.archive) ?? []) assert.ok(fs.readFileSync(path.join(root, file)).equals(content), `${label}: ${file} restored to other bytes than were backed up`);
          const keptAsFound = path.join('data', 'dev', `${KEPT_AS_FOUND}.sqlite3`);
          if (source === emergency) assert.equal(snapshotTree(root, notCompared)[keptAsFound], before[keptAsFound], `${label}: ${keptAsFound}, which the backup kept as found only, changed`);
        } else if (source === emergency) {
          assert.ok(!fs.existsSync(path.join(folder, `${KEPT_AS_FOUND}.sqlite3`)), `${label}: the new profile has ${KEPT_AS_FOUND}, which the backup kept as found only`);
        }
        if (asNew) {
          fs.rmSync(folder, { recursive: true });
          fs.rmSync(path.join(root, '.envprofiles', 'profiles', `${asNew}.yaml`));
        }
        outcomes.restored++;
      }
    }
    assert.deepEqual(temporaryFiles(root), [], 'no temporary file is left');
    // Nearly every damage is found; the few that are not hit bytes no reader uses (a time stamp, a spare field).
    assert.ok(outcomes.refused >= RUNS * 0.75, JSON.stringify(outcomes));
  });

  it('a bit flipped in manifest.json that still inflates to JSON (a third of such flips do; here its note on consistency changed) is refused by verify and restore by ZIP\'s CRC-32 of it, as unzip -t refuses it (before: verify found it sound)', async () => {
    const { root, context } = await demoWorkspace();
    const full = await createBackup(context, { profileId: DEV, kind: 'full' });
    const flipped = craftArchive(full.archive, 'flip-manifest-silently');
    assert.notEqual(spawnSync('unzip', ['-tq', flipped]).status, 0, 'unzip -t finds the CRC-32 wrong');
    const corruptManifest = (text: string): boolean => text.startsWith(`${flipped}: entry "manifest.json": is corrupt: its CRC-32 is `) && / the archive's directory says [0-9a-f]{8} \(the archive changed after it was written\)\.$/.test(text);
    const verdict = await verifyBackup(context, flipped);
    assert.equal(verdict.ok, false);
    assert.equal(verdict.problems.length, 1, verdict.problems.join('\n'));
    assert.ok(corruptManifest(verdict.problems[0]), verdict.problems[0]);
    const before = snapshotTree(root, notCompared);
    for (const request of [{ reference: flipped }, { reference: flipped, asNew: 'from_flipped' }]) {
      await assert.rejects(restoreBackup(context, request), (error: unknown) => error instanceof EnvProfilesError && error.code === 'ARCHIVE_INVALID' && corruptManifest(error.message));
    }
    assertSameTree(snapshotTree(root, notCompared), before, 'nothing was written');
  });
});
