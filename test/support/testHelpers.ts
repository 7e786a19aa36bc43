import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from './workspaces';

/** A small seeded generator so a failing run can be repeated (tests print the seed on failure). */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 0x100000000);
}

/** A seed whose neighbours give unrelated streams (MurmurHash3's finaliser): the generator is linear. */
export function scrambled(seed: number): number {
  let h = seed >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Writes a damaged or hostile variant of a real archive with test/support/craftZip.py. */
export function craftArchive(source: string, mode: string): string {
  const dest = path.join(path.dirname(source), `crafted-${mode}.zip`);
  const run = spawnSync('python3', [path.join(REPO_ROOT, 'test/support/craftZip.py'), source, dest, mode], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return dest;
}
