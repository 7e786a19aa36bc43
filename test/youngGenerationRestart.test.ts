import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { rebuildsDatabases } from '../src/cli/youngGenerationRestart';
import { SMALL_YOUNG_GENERATION_FLAG } from '../src/core/youngGeneration';
import { runCli } from './support/cliRunner';
import { startHeld } from './support/steppedRuns';
import { demoWorkspace } from './support/workspaces';

const DEV = 'dev_environment_001';

/** The command line of a running process, as Linux shows it. */
const commandLineOf = (pid: number): string[] => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

/** Ids of the running processes whose command line or environment mentions `text` (this one aside). */
function processesMentioning(text: string): number[] {
  return fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid).flatMap((name) => {
    try {
      const seen = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8') + fs.readFileSync(`/proc/${name}/environ`, 'utf8');
      return seen.includes(text) ? [Number(name)] : [];
    } catch {
      return []; // ended meanwhile, or not ours to read
    }
  });
}

/** Starts the CLI held at `step`, and returns the command line of the process that reached it, then lets it finish. */
async function commandLineAt(args: string[], step: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const held = startHeld(args, step, env);
  const pid = await held.reached;
  assert.equal(pid, held.pid, 'the process that does the work is the one that was started');
  const commandLine = commandLineOf(pid);
  held.release();
  const end = await held.finished;
  assert.equal(end.code, 0, end.stderr);
  return commandLine;
}

describe('the CLI gives the commands that rebuild databases a small young generation, in the process the user started', () => {
  let root: string;
  let backupId: string;

  before(async () => {
    ({ root } = await demoWorkspace());
    const backup = runCli(['backup', DEV, '--json', '--workspace', root]);
    assert.equal(backup.status, 0, backup.stderr);
    backupId = backup.json?.result.id;
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('restore, verify and backup --verify are the commands that rebuild databases; the others are not', () => {
    assert.equal(rebuildsDatabases('restore', ['restore', backupId]), true);
    assert.equal(rebuildsDatabases('verify', ['verify', backupId]), true);
    assert.equal(rebuildsDatabases('backup', ['backup', '--all', '--verify']), true);
    assert.equal(rebuildsDatabases('backup', ['backup', DEV]), false);
    assert.equal(rebuildsDatabases('status', ['status']), false);
  });

  it('a restore runs with the flag in the very process that was started; a kill -9 of that process leaves none behind, and the next command rolls the restore back', async () => {
    const held = startHeld(['restore', backupId, '--as-new', 'restored_copy', '--workspace', root], 'journal-written');
    const pid = await held.reached;
    assert.equal(pid, held.pid, 'same process id: what a user or a supervisor kills is what does the work');
    assert.ok(commandLineOf(pid).includes(SMALL_YOUNG_GENERATION_FLAG), commandLineOf(pid).join(' '));
    process.kill(pid, 'SIGKILL');
    const end = await held.finished;
    assert.equal(end.signal, 'SIGKILL');
    assert.deepEqual(processesMentioning(root), [], 'no process of the restore is left running');
    const list = runCli(['list', '--json', '--workspace', root]);
    assert.equal(list.status, 0, list.stderr);
    const ids = (list.json?.result.profiles as { id: string }[]).map((p) => p.id);
    assert.ok(ids.includes(DEV) && !ids.includes('restored_copy'), `the unfinished restore is not a profile: ${ids.join(', ')}`);
    assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), [], 'its journal was settled');
    assert.equal(fs.existsSync(path.join(root, 'data/restored_copy')), false, 'its files were removed');
  });

  it('backup --verify restarts with the flag; a backup alone does not; ENVPROFILES_SMALL_YOUNG_GENERATION=off keeps Node\'s usual young generation', async () => {
    assert.ok((await commandLineAt(['backup', DEV, '--verify', '--workspace', root], 'journal-written')).includes(SMALL_YOUNG_GENERATION_FLAG));
    assert.ok(!(await commandLineAt(['backup', DEV, '--workspace', root], 'journal-written')).includes(SMALL_YOUNG_GENERATION_FLAG));
    const off = await commandLineAt(['restore', backupId, '--as-new', 'restored_usual', '--workspace', root], 'journal-written', { ENVPROFILES_SMALL_YOUNG_GENERATION: 'off' });
    assert.ok(!off.includes(SMALL_YOUNG_GENERATION_FLAG), off.join(' '));
  });
});
