import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from './support/cliRunner';
import { NO_TEST_HOOKS, startHeld } from './support/steppedRuns';
import { restoreBackup } from '../src/core/backup/backupRestore';
import { EnvProfilesError } from '../src/core/errors';
import { SPEC_TEMPLATE } from '../src/demo/demoWorkspace';
import { TOOL_VERSION } from '../src/core/toolVersion';
import { assertSameTree, CLI, demoWorkspace, emptyWorkspace as emptyWorkspaceRoot, engine, snapshotTree, tempDir, temporaryFiles } from './support/workspaces';

const DEV = 'dev_environment_001';
const PROD = 'prod_environment_001';
const TEST = 'test_environment_001';
const ALL_COMMANDS = ['init', 'create', 'init-db', 'clone', 'list', 'show', 'status', 'validate', 'switch', 'backup', 'backups', 'verify', 'restore', 'prune', 'delete'];

describe('envprofiles CLI (spawned as a process)', () => {
  it('prints help with exit 0, and usage with exit 2 when no command is given', () => {
    const help = runCli(['--help']);
    assert.equal(help.status, 0);
    for (const command of ALL_COMMANDS) assert.match(help.stdout, new RegExp(`\\n  ${command} `));
    assert.match(help.stdout, /Exit codes: 0 success; 1 the operation failed; 2 usage error; 3 refused/);
    const none = runCli([]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /Usage: envprofiles <command>/);
    // Options without a command are a usage error like any other: --json gets its JSON document (before:
    // the whole help on stderr, nothing on stdout), an unknown option is named.
    const onlyJson = runCli(['--json']);
    assert.equal(onlyJson.status, 2);
    assert.deepEqual(JSON.parse(onlyJson.stdout), {
      ok: false,
      command: null,
      error: { code: 'USAGE', kind: 'usage', message: 'No command was given.', hint: `Commands: ${ALL_COMMANDS.join(', ')}. Write the command first, as in "envprofiles list --json"; "envprofiles --help" lists them, "envprofiles <command> --help" gives a command's options.` },
    });
    assert.deepEqual(JSON.parse(runCli(['--version', '--json']).stdout), { ok: true, command: null, result: { version: TOOL_VERSION } });
    const stranger = runCli(['--wait', '-1', '-x', '--json']);
    assert.equal(stranger.status, 2);
    assert.equal(JSON.parse(stranger.stdout).error.message, 'No command was given, and envprofiles itself has no option "-x".');
    assert.match(stranger.stderr, /^error\[USAGE\]: No command was given, and envprofiles itself has no option "-x"\.\n {2}Commands: init, create,/);
    assert.doesNotMatch(stranger.stderr, /Usage: envprofiles <command>/);
  });

  it('an option with one value given twice is a usage error, not the last one taken without a word (restore --db a --db b restored b only); a flag twice, and --db of create, which takes several, are fine', async () => {
    const { root } = await demoWorkspace();
    const backup = runCli(['backup', 'dev_environment_001', '--json', '--workspace', root]);
    assert.equal(backup.status, 0, backup.stderr);
    const before = snapshotTree(root, (rel) => rel.startsWith('.envprofiles/') || /-(wal|shm)$/.test(rel));
    const twice = runCli(['restore', backup.json?.result.id, '--db', 'settings', '--db=strategies', '--workspace', root]);
    assert.deepEqual([twice.status, twice.stderr.split('\n')[0]], [2, 'error[USAGE]: --db was given more than once; it takes one value.']);
    assert.deepEqual(snapshotTree(root, (rel) => rel.startsWith('.envprofiles/') || /-(wal|shm)$/.test(rel)), before);
    assert.equal(runCli(['list', '--json', '--json', '--workspace', root]).status, 0);
    const created = runCli(['create', 'two_dbs', '--db', 'a=data/two/a.sqlite3', '--db', 'b=data/two/b.sqlite3', '--init-db', 'empty', '--workspace', root]);
    assert.equal(created.status, 0, created.stderr);
  });

  it('an option given an empty value is a usage error, not the option left out (restore --as-new "" restored over the profile itself, --db "" every database)', async () => {
    const { root, context } = await demoWorkspace();
    const backup = runCli(['backup', DEV, '--json', '--workspace', root]);
    assert.equal(backup.status, 0, backup.stderr);
    const id = backup.json?.result.id as string;
    const before = snapshotTree(root, (rel) => /-(wal|shm)$/.test(rel));
    for (const args of [['restore', id, '--as-new', ''], ['restore', id, '--as-new='], ['restore', id, '--db', ''], ['backup', DEV, '--reason', ''], ['create', 'blank_name', '--name', '']]) {
      const run = runCli([...args, '--workspace', root]);
      const option = (args.find((a) => a.startsWith('--')) as string).replace(/=$/, '');
      assert.deepEqual([run.status, run.stderr.split('\n')[0]], [2, `error[USAGE]: ${option} was given an empty value; nothing was done.`], args.join(' '));
    }
    assertSameTree(snapshotTree(root, (rel) => /-(wal|shm)$/.test(rel)), before, 'nothing written');
    // And through the core (the extension's way in), an empty id or name is refused the same way.
    for (const request of [{ reference: id, asNew: '' }, { reference: id, database: '' }]) {
      await assert.rejects(restoreBackup(context, request), (error: unknown) => error instanceof EnvProfilesError && error.code === 'USAGE' && /is empty; nothing was changed\.$/.test(error.message));
    }
    assertSameTree(snapshotTree(root, (rel) => /-(wal|shm)$/.test(rel)), before, 'nothing written');
    // --as-new with --db: refused with the two ways to get what was meant (before: no hint at all).
    const both = runCli(['restore', id, '--as-new', 'dev_again', '--db', 'settings', '--workspace', root]);
    assert.equal(both.status, 2);
    assert.equal(both.stderr, `error[USAGE]: --as-new restores a whole profile; it cannot be combined with --db. Nothing was changed.\n  Leave out --db to restore the whole backup as the new profile dev_again (its databases go under data/dev_again/; take the one you need from there), or leave out --as-new to restore only settings over the backup's own profile.\n`);
    assertSameTree(snapshotTree(root, (rel) => /-(wal|shm)$/.test(rel)), before, 'nothing written');
  });

  const stopSignals: [NodeJS.Signals, number, string][] = [
    ['SIGINT', 130, 'Cancelling… (press Ctrl+C again to quit at once; the next command then cleans up)'],
    ['SIGTERM', 143, 'Cancelling (SIGTERM)… (send SIGTERM again to quit at once; the next command then cleans up)'],
    ['SIGHUP', 129, 'Cancelling (SIGHUP)… (send SIGHUP again to quit at once; the next command then cleans up)'],
  ];
  for (const [signal, exitCode, said] of stopSignals) {
    it(`${signal} stops a backup at its next safe point and exits ${exitCode}, as shells report a command stopped by it (before: 1, like a failure, for Ctrl+C; killed mid-write for SIGTERM, from systemd or timeout, and SIGHUP); nothing is listed or left behind`, async () => {
      const { root } = await demoWorkspace();
      const held = startHeld(['backup', 'dev_environment_001', '--full', '--workspace', root], 'snapshot:market_data');
      await held.reached;
      process.kill(held.pid, signal);
      held.release();
      const finished = await held.finished;
      assert.equal(finished.code, exitCode, finished.stderr);
      assert.ok(finished.stderr.includes(`${said}\nerror[CANCELLED]: The operation was cancelled; what it had started was cleaned up and nothing was changed.`), finished.stderr);
      const listed = runCli(['backups', 'dev_environment_001', '--json', '--workspace', root]);
      assert.deepEqual(listed.json?.result.backups, []);
      assert.deepEqual(temporaryFiles(root), []);
      assert.deepEqual(fs.readdirSync(path.join(root, '.envprofiles/journal')), []);
    });
  }

  it('Ctrl+C, or SIGTERM, at the confirmation a terminal asks for cancels (exit 130, 143), nothing changed (before: Ctrl+C was "a bug", exit 1)', async () => {
    const { root } = await demoWorkspace();
    const backup = runCli(['backup', PROD, '--json', '--workspace', root]);
    assert.equal(backup.status, 0, backup.stderr);
    const before = snapshotTree(root, (rel) => rel.startsWith('.envprofiles/') || /-(wal|shm)$/.test(rel));
    // A real terminal: Python's pty gives the CLI one, types at its prompt, or sends it the signal.
    const driver = `
import os, pty, signal, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:5] + ['--workspace', sys.argv[6]])
out = b''
def read_until(done, seconds):
    global out
    end = time.time() + seconds
    while time.time() < end and not done():
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
read_until(lambda: b'Type its id' in out, 20)
if sys.argv[5] == 'ctrl-c':
    os.write(fd, b'\\x03')
else:
    os.kill(pid, signal.SIGTERM)
read_until(lambda: False, 20)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors='replace') + '\\nexit %d\\n' % os.waitstatus_to_exitcode(status))
`;
    for (const [how, exitCode] of [['ctrl-c', 130], ['sigterm', 143]] as const) {
      const run = spawnSync('python3', ['-c', driver, process.execPath, CLI, 'restore', backup.json?.result.id, how, root], { encoding: 'utf8', env: { ...process.env, ...NO_TEST_HOOKS }, timeout: 60_000 });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /Restoring over "prod_environment_001" replaces its data\. Type its id to continue: /, run.stdout);
      assert.match(run.stdout, /error\[CANCELLED\]: The operation was cancelled; what it had started was cleaned up and nothing was changed\./, run.stdout);
      assert.ok(run.stdout.endsWith(`\nexit ${exitCode}\n`), run.stdout);
    }
    assertSameTree(snapshotTree(root, (rel) => rel.startsWith('.envprofiles/') || /-(wal|shm)$/.test(rel)), before, 'nothing may change');
  });

  it('output with nowhere to go: a reader that closed the pipe (| head) is no error, and the command runs to its end; a full disk under > file is said, exit 1 (before: an unhandled EPIPE with a stack trace)', async () => {
    const { root } = await demoWorkspace();
    const child = spawn(process.execPath, [CLI, 'backup', 'dev_environment_001', '--json', '--workspace', root], { env: { ...process.env, ...NO_TEST_HOOKS }, stdio: ['ignore', 'pipe', 'pipe'] });
    // The reading end is closed before the command writes a byte.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    assert.deepEqual([status, stderr], [0, '']);
    const listed = runCli(['backups', 'dev_environment_001', '--json', '--workspace', root]);
    assert.equal(listed.json?.result.backups.length, 1, 'the backup was made and listed');
    const full = fs.openSync('/dev/full', 'w');
    try {
      const result = spawnSync(process.execPath, [CLI, 'backups', '--workspace', root], { env: { ...process.env, ...NO_TEST_HOOKS }, stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
      assert.deepEqual([result.status, result.stderr], [1, 'error[OUTPUT_FAILED]: The output could not be written (ENOSPC). What the command did is done and not affected by it; to see its output, send it somewhere that can take it.\n']);
    } finally {
      fs.closeSync(full);
    }
  });

  it('keeps a code cache per command in the user\'s cache folder, replaces a damaged one, and writes none when turned off', async () => {
    const { root } = await demoWorkspace();
    const cacheHome = tempDir();
    const folder = path.join(cacheHome, 'envprofiles', 'code-cache');
    const env = { XDG_CACHE_HOME: cacheHome, ENVPROFILES_CODE_CACHE: '' };
    const caches = () => (fs.existsSync(folder) ? fs.readdirSync(folder).sort() : []);
    const list = runCli(['list', '--workspace', root, '--json'], { env });
    assert.equal(list.status, 0, list.stderr);
    assert.equal(caches().length, 1);
    assert.match(caches()[0], /^list-[0-9a-f]{16}-node[\d.]+-v8.+\.v8cache$/);
    assert.equal((fs.statSync(folder).mode & 0o777).toString(8), '700', 'only the user may write code this command runs');
    const written = fs.readFileSync(path.join(folder, caches()[0]));
    assert.ok(written.length > 10000, `${written.length} bytes of bytecode`);
    // With the cache, the same output; a second command gets its own cache.
    assert.deepEqual(runCli(['list', '--workspace', root, '--json'], { env }).json, list.json);
    assert.equal(runCli(['status', '--workspace', root], { env }).status, 0);
    assert.equal(caches().length, 2);
    // A damaged cache (one flipped byte of bytecode, or not a cache at all) is not used, the command
    // runs as usual, and a sound cache replaces it.
    const flipped = Buffer.from(written);
    flipped[flipped.length - 100] ^= 0xff;
    for (const damaged of [flipped, Buffer.from('not bytecode')]) {
      fs.writeFileSync(path.join(folder, caches()[0]), damaged);
      assert.deepEqual(runCli(['list', '--workspace', root, '--json'], { env }).json, list.json);
      const replaced = fs.readFileSync(path.join(folder, caches()[0]));
      assert.ok(replaced.length > 10000 && !replaced.equals(damaged), 'replaced');
    }
    // A cache of an older bundle is removed when a new one is written.
    fs.writeFileSync(path.join(folder, 'list-0000000000000000-node0-v80-x64.v8cache'), 'old');
    fs.rmSync(path.join(folder, caches().find((n) => n.startsWith('status-')) as string));
    runCli(['status', '--workspace', root], { env });
    assert.ok(!caches().some((n) => n.includes('0000000000000000')), caches().join(', '));
    // Commands that stream database images run without it (their peak memory was higher with it).
    assert.equal(runCli(['backup', 'dev_environment_001', '--verify', '--workspace', root], { env }).status, 0);
    assert.deepEqual(caches().filter((n) => /^(backup|verify|restore)-/.test(n)), []);
    const offHome = tempDir();
    assert.equal(runCli(['list', '--workspace', root], { env: { XDG_CACHE_HOME: offHome, ENVPROFILES_CODE_CACHE: 'off' } }).status, 0);
    assert.equal(fs.existsSync(path.join(offHome, 'envprofiles')), false);
  });

  it('has --help for every command', () => {
    for (const command of ALL_COMMANDS) {
      const result = runCli([command, '--help']);
      assert.equal(result.status, 0, command);
      assert.match(result.stdout, new RegExp(`Usage: envprofiles ${command}`));
      assert.deepEqual(runCli(['help', command]), result, `help ${command}`);
    }
  });

  it('wraps help to 80 columns, to COLUMNS, or to the terminal\'s width (at most 100), losing no word (before: paragraphs of 300 characters were left to the terminal to break)', () => {
    const widest = (text: string) => Math.max(...text.split('\n').map((line) => line.length));
    const words = (text: string) => text.split(/\s+/).filter(Boolean).join(' ');
    for (const topic of [[], ...ALL_COMMANDS.map((command) => [command])]) {
      const plain = runCli([...topic, '--help'], { env: { COLUMNS: '' } });
      const narrow = runCli([...topic, '--help'], { env: { COLUMNS: '40' } });
      const wide = runCli([...topic, '--help'], { env: { COLUMNS: '400' } });
      assert.deepEqual([plain.status, narrow.status, wide.status], [0, 0, 0], topic.join());
      assert.ok(widest(plain.stdout) <= 80, `${topic.join()}: ${widest(plain.stdout)}`);
      // A word is never cut, nor an option in brackets with its value: only those, too long for 40 columns, may stand out.
      const over = narrow.stdout.split('\n').filter((line) => line.length > 40);
      assert.ok(over.every((line) => /^(Usage: envprofiles \S+ | +)(\S+|\[[^\]]*\](\.\.\.)?)$/.test(line)), `${topic.join()}: ${over.join('\n')}`);
      assert.ok(widest(wide.stdout) <= 100, `${topic.join()}: ${widest(wide.stdout)}`);
      assert.equal(words(narrow.stdout), words(plain.stdout), topic.join());
      assert.equal(words(wide.stdout), words(plain.stdout), topic.join());
    }
    // An option's description continues under its column, a usage line's arguments under the first.
    const backupHelp = runCli(['backup', '--help'], { env: { COLUMNS: '' } }).stdout.split('\n');
    const waitAt = backupHelp.findIndex((line) => line.startsWith('  --wait MINUTES'));
    assert.match(backupHelp[waitAt + 1], /^ {20}\S/);
    assert.match(backupHelp.find((line) => line.startsWith('Usage: '))!, /^Usage: envprofiles backup <id> /);
    assert.ok(backupHelp.some((line) => /^ {26}\[--/.test(line)), backupHelp.join('\n'));
    // An option in brackets stays whole on its line (before: "[--set" ended one line, "KEY=VALUE]..." began the next).
    const createHelp = runCli(['create', '--help'], { env: { COLUMNS: '' } }).stdout;
    assert.match(createHelp, /\n {26}\[--set KEY=VALUE\]\.\.\.\n/);
    assert.match(createHelp, /\n {26}\[--init-db empty \| --schema-from <profile>\]\n/);
    // In a terminal its width counts, not COLUMNS: Python's pty gives the CLI one of 64 columns.
    const driver = `
import fcntl, os, pty, struct, subprocess, sys, termios
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 24, int(sys.argv[1]), 0, 0))
child = subprocess.Popen(sys.argv[2:], stdin=slave, stdout=slave, stderr=slave)
os.close(slave)
out = b''
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
sys.stdout.buffer.write(out + b'exit=%d' % child.wait())
`;
    for (const [columns, limit] of [[64, 64], [200, 100]]) {
      const inTerminal = spawnSync('python3', ['-c', driver, String(columns), process.execPath, CLI, 'restore', '--help'], { encoding: 'utf8', env: { ...process.env, ...NO_TEST_HOOKS, COLUMNS: '300' } });
      const shown = inTerminal.stdout.replace(/\r/g, '');
      assert.match(shown, /exit=0$/, inTerminal.stderr);
      assert.ok(widest(shown) <= limit && widest(shown) > limit - 15, `${columns}: ${widest(shown)}\n${shown}`);
    }
  });

  it('exits 2 on usage errors: unknown command, unknown option, wrong argument count, bad choice, a backup given for a profile', async () => {
    const { root } = await demoWorkspace();
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /^error\[USAGE\]: Unknown command "frobnicate"\.\n/],
      // A misspelt command is named with the one it most likely misspells.
      [['restroe', 'x'], /^error\[USAGE\]: Unknown command "restroe"\. Did you mean "restore"\?\n {2}Commands: init, create,/],
      // "help" of a command that does not exist says so (before: the general help, exit 0).
      [['help', 'backpu'], /^error\[USAGE\]: Unknown command "backpu"\. Did you mean "backup"\?\n/],
      [['list', '--bogus'], /^error\[USAGE\]: list has no option --bogus\.\n {2}It takes only --workspace, --json, --wait, --help\. Run "envprofiles list --help"\.\n$/],
      [['delete', DEV, '--force'], /^error\[USAGE\]: delete has no option --force\.\n {2}It takes --confirm, --delete-data, --dry-run, and --workspace, --json, --wait, --help\./],
      [['backup', DEV, '--increm'], /^error\[USAGE\]: backup has no option --increm\.\n {2}Did you mean --incremental\? It takes --full, --incremental,/],
      [['status', '--verbose'], /^error\[USAGE\]: status has no option --verbose\.\n {2}It takes only --workspace, --json, --wait, --help\./],
      [['restore', 'x', '--confirm'], /^error\[USAGE\]: --confirm needs a value, as in --confirm <id>\.\n {2}Usage: envprofiles restore <backup-id\|archive-path> \[--as-new <id>\]/],
      // A value that begins with "-" reads as an option: how to give one is said (before, only "needs a value", though one was given).
      [['backup', DEV, '--wait', '-1'], /^error\[USAGE\]: --wait needs a value \(a value that begins with "-" is written --wait=-1\)\.\n/],
      [['backup', DEV, '--wait=-1'], /^error\[USAGE\]: --wait takes the minutes to wait for another operation \(0 to 1440\), got "-1"\./],
      [['show'], /^error\[USAGE\]: show takes 1 argument, got 0\.\n {2}Usage: envprofiles show <id>\n$/],
      // How many in words, and the ones too many named (before: "takes 0 to 1 argument, got 2").
      [['list', 'extra'], /^error\[USAGE\]: list takes no arguments, got 1 \("extra" is too many\)\.\n/],
      [['backups', DEV, 'b'], /^error\[USAGE\]: backups takes at most 1 argument, got 2 \("b" is too many\)\.\n/],
      [['restore', 'x', 'y', 'z'], /^error\[USAGE\]: restore takes 1 argument, got 3 \("y", "z" are too many\)\.\n/],
      [['verify'], /^error\[USAGE\]: verify needs a backup id or an archive path, --unverified <profile-id>, or --all\.\n {2}List the backups with "envprofiles backups"\.\n$/],
      [['verify', '--all', DEV], /^error\[USAGE\]: --all verifies the backups of every profile; do not name a backup or a profile too\.\n$/],
      [['verify', '--unverified'], /^error\[USAGE\]: --unverified needs the profile whose backups it verifies\.\n {2}envprofiles verify --unverified <profile-id>, or envprofiles verify --all --unverified for every profile\.\n$/],
      [['backup', DEV, '--full', '--incremental'], /^error\[USAGE\]: Choose --full or --incremental, not both\.\n$/],
      [['clone', DEV, 'copy_one', '--data', 'sideways'], /^error\[USAGE\]: --data must be one of copy, schema, empty, not "sideways"\.\n$/],
      [['create', 'abc', '--db', 'nonsense'], /--db expects NAME=VALUE/],
      // A backup's id or archive where a profile's id goes (delete of a backup, as if it deleted one) says
      // what it is and whose (before: "No profile …", as if the profile were unknown, exit 1).
      [['delete', `${DEV}.20261207T174816-195Z.full`], new RegExp(`^error\\[PROFILE_NOT_FOUND\\]: No profile "${DEV}\\.20261207T174816-195Z\\.full": that is the id of a backup of ${DEV}, and this command takes a profile's id\\.\\n {2}Give the profile's id \\(${DEV}\\)\\. A backup's id or archive goes to verify and restore; backups are deleted by prune, by the profile's keep rules\\.\\n$`)],
      [['backup', `backups/${DEV}/${DEV}.20261207T174816-195Z.incr.zip`], new RegExp(`^error\\[PROFILE_NOT_FOUND\\]: No profile "backups/${DEV}/${DEV}\\.20261207T174816-195Z\\.incr\\.zip": that is a backup archive of ${DEV}, and this command takes a profile's id\\.\\n {2}Give the profile's id \\(${DEV}\\)\\.`)],
      [['backups', 'old-backup.zip'], /^error\[PROFILE_NOT_FOUND\]: No profile "old-backup\.zip": that is a backup archive, and this command takes a profile's id\.\n {2}A backup's id or archive goes to verify and restore;/],
    ];
    for (const [args, message] of cases) {
      const result = runCli([...args, '--workspace', root]);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('a --workspace that is a file, or does not exist, is said to be so (exit 2; before: "has no .envprofiles/ folder", and init of a file failed as a bug); init makes a folder that does not exist yet', () => {
    const file = path.join(tempDir(), 'notes.txt');
    fs.writeFileSync(file, 'not a workspace');
    const missing = path.join(tempDir(), 'no', 'such');
    const hint = '  Pass the folder of your workspace with --workspace DIR (or run the command in it).\n';
    for (const command of [['status'], ['init'], ['backup', '--all']]) {
      const onFile = runCli([...command, '--workspace', file]);
      assert.deepEqual([onFile.status, onFile.stderr], [2, `error[NOT_INITIALISED]: ${file} is a file, not a workspace folder.\n${hint}`], command.join(' '));
    }
    const onMissing = runCli(['list', '--workspace', missing]);
    assert.deepEqual([onMissing.status, onMissing.stderr], [2, `error[NOT_INITIALISED]: The workspace folder ${missing} does not exist.\n${hint}`]);
    assert.equal(runCli(['init', '--workspace', missing]).status, 0);
    assert.ok(fs.existsSync(path.join(missing, '.envprofiles/config.yaml')));
    // A file where a folder of a database path should be is said as such (before: INTERNAL, ENOTDIR).
    fs.writeFileSync(path.join(missing, 'config'), 'a file');
    const created = runCli(['create', 'through_a_file', '--db', 'settings=config/x.sqlite3', '--init-db', 'empty', '--workspace', missing]);
    assert.equal(created.status, 1);
    assert.match(created.stderr, /^error\[IO_ERROR\]: A file stands where a folder is needed \(.*\/config, or a folder on the way to it\): EEXIST/);
    assert.ok(!fs.existsSync(path.join(missing, '.envprofiles/profiles/through_a_file.yaml')));
    // Its rollback went through (before: it failed on the same path, and the journal it left failed every command after).
    assert.deepEqual(fs.readdirSync(path.join(missing, '.envprofiles/journal')), []);
    const listed = runCli(['list', '--workspace', missing]);
    assert.deepEqual([listed.status, listed.stderr], [0, '']);
    // Such a journal left by an earlier version is rolled back by the next command.
    fs.writeFileSync(path.join(missing, '.envprofiles/journal/create-left_behind.json'), JSON.stringify({ operation: 'create', phase: 'prepared', startedAt: new Date().toISOString(), source: 'flags', target: 'left_behind', profileFile: path.join(missing, '.envprofiles/profiles/left_behind.yaml'), createdFiles: [path.join(missing, 'config/y.sqlite3'), path.join(missing, `data/${'n'.repeat(300)}.sqlite3`)], createdDirectories: [], workDirectories: [path.join(missing, 'config')] }));
    const recovered = runCli(['list', '--workspace', missing]);
    assert.equal(recovered.status, 0, recovered.stderr);
    assert.match(recovered.stderr, /rolled back the interrupted creation of left_behind/);
    assert.deepEqual(fs.readdirSync(path.join(missing, '.envprofiles/journal')), []);
    // A name longer than file systems take is refused up front.
    const tooLong = runCli(['create', 'long_name', '--db', `settings=data/${'n'.repeat(300)}.sqlite3`, '--init-db', 'empty', '--workspace', missing]);
    assert.equal(tooLong.status, 1);
    assert.match(tooLong.stderr, /"data\/n{75}…" has a name longer than 255 bytes, which file systems refuse\n/);
  });

  it('init creates the store, is idempotent, and other commands need it', () => {
    const root = tempDir();
    const before = runCli(['list', '--workspace', root]);
    assert.equal(before.status, 1);
    assert.match(before.stderr, /error\[NOT_INITIALISED\].*\n.*envprofiles init/);
    const first = runCli(['init', '--workspace', root, '--json']);
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(first.json?.result.created.sort(), ['.envprofiles/', '.envprofiles/.gitignore', '.envprofiles/config.yaml', '.envprofiles/profiles/', '.envprofiles/templates/'].sort());
    const ignored = fs.readFileSync(path.join(root, '.envprofiles/.gitignore'), 'utf8').split('\n');
    for (const entry of ['state.json', 'audit.jsonl', 'lock', 'journal/', 'backups/']) assert.ok(ignored.includes(entry), entry);
    const second = runCli(['init', '--workspace', root, '--json']);
    assert.deepEqual(second.json?.result.created, []);
    assert.equal(runCli(['init', '--workspace', root]).stdout, `${path.join(root, '.envprofiles')} is already initialised; nothing changed.\nNext: envprofiles create <id> --type DEVELOPMENT --db settings=data/dev/settings.sqlite3\n`);
  });

  it('init in a folder that has SQLite databases already (found by their header, not their name) suggests the create of a first profile with them, and that command works (before: a generic settings=data/dev/… example)', async () => {
    const root = tempDir();
    const sqlite = await engine();
    const make = (relative: string): void => {
      fs.mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
      const db = sqlite.open(path.join(root, relative), { readOnly: false, create: true });
      db.exec('CREATE TABLE t (x)');
      db.close();
    };
    for (const relative of ['db/app.sqlite3', 'var/My Data/Market-Data.db', 'db/2024.db', 'state.bin', 'node_modules/pkg/cache.db', '.git/objects.db', 'a/b/c/d/e/too-deep.db']) make(relative);
    fs.writeFileSync(path.join(root, 'db/notes.db'), 'not a database, whatever its name says');
    spawnSync('mkfifo', [path.join(root, 'db/pipe.db')]);
    fs.symlinkSync('db/app.sqlite3', path.join(root, 'link.sqlite3'));
    const init = runCli(['init', '--workspace', root], { timeoutMs: 20000 });
    assert.equal(init.status, 0, init.stderr);
    const lines = init.stdout.trim().split('\n');
    assert.equal(lines[lines.length - 2], 'Found 4 SQLite databases in the workspace: state.bin, db/2024.db, db/app.sqlite3, var/My Data/Market-Data.db.');
    const suggested = "envprofiles create dev --type DEVELOPMENT --db state=state.bin --db db_2024=db/2024.db --db app=db/app.sqlite3 --db 'market_data=var/My Data/Market-Data.db'";
    assert.equal(lines[lines.length - 1], `Next, a profile of them: ${suggested}`);
    // What it suggests runs as it is (the shell's quoting undone as a shell would).
    const created = spawnSync('sh', ['-c', `envprofiles() { "$NODE" "$CLI" "$@"; }; ${suggested} --workspace "$ROOT"`], { encoding: 'utf8', env: { ...process.env, NODE: process.execPath, CLI, ROOT: root } });
    assert.equal(created.status, 0, created.stderr);
    assert.equal(runCli(['validate', 'dev', '--workspace', root]).status, 0);
    // With a profile, init says so instead.
    assert.match(runCli(['init', '--workspace', root]).stdout, /\nIt has 1 profile: envprofiles list shows them\.\n$/);
  });

  it('create without --init-db says which database files do not exist yet, and that switch and backup refuse until they do (before: nothing, until the switch failed)', async () => {
    const { root } = await demoWorkspace();
    // One of its two files exists (a copy: dev's own would be shared with dev, which is a note of its own).
    fs.mkdirSync(path.join(root, 'data/new'));
    fs.copyFileSync(path.join(root, 'data/dev/strategies.sqlite3'), path.join(root, 'data/new/strategies.sqlite3'));
    const created = runCli(['create', 'new_one', '--db', 'settings=data/new/settings.sqlite3', '--db', 'strategies=data/new/strategies.sqlite3', '--workspace', root, '--json']);
    assert.equal(created.status, 0, created.stderr);
    assert.deepEqual(created.json?.result.notes, ['data/new/settings.sqlite3 (settings) does not exist yet: switching to new_one and backing it up are refused until it does (your application can create it, or "envprofiles init-db new_one" makes it now: empty, or with another profile\'s tables with --schema-from <profile>)']);
    assert.equal(runCli(['switch', 'new_one', '--workspace', root]).status, 1, 'as the note says');
    const none = runCli(['create', 'two_new', '--db', 'settings=data/two/a.sqlite3', '--db', 'strategies=data/two/b.sqlite3', '--workspace', root]);
    assert.match(none.stdout, /\nnote: its 2 database files, data\/two\/a\.sqlite3 \(settings\), data\/two\/b\.sqlite3 \(strategies\), do not exist yet: switching to two_new /);
    const initialised = runCli(['create', 'three_new', '--db', 'settings=data/three/a.sqlite3', '--init-db', 'empty', '--workspace', root, '--json']);
    assert.deepEqual(initialised.json?.result.notes, []);
  });

  it('init of a workspace that has profiles says how many, not to create one', async () => {
    const { root } = await demoWorkspace();
    const again = runCli(['init', '--workspace', root]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, `${path.join(root, '.envprofiles')} is already initialised; nothing changed.\nIt has 3 profiles: envprofiles list shows them.\n`);
  });

  it('without --workspace, a command run in a folder of the workspace acts on it, as git finds its repository (before: "data/dev has no .envprofiles/ folder"); init there makes a nested workspace and says so', async () => {
    const { root } = await demoWorkspace();
    const inside = path.join(root, 'data', 'dev');
    const listed = runCli(['list', '--json'], { cwd: inside });
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.json?.result.profiles.map((p: { id: string }) => p.id), [DEV, PROD, TEST]);
    const backedUp = runCli(['backup', DEV, '--json'], { cwd: inside });
    assert.equal(backedUp.status, 0, backedUp.stderr);
    assert.ok(backedUp.json?.result.archive.startsWith(path.join(root, '.envprofiles', 'backups', DEV)), backedUp.json?.result.archive);
    // An archive path is still the shell's: relative to the folder the command runs in.
    const verified = runCli(['verify', path.relative(inside, backedUp.json?.result.archive)], { cwd: inside });
    assert.equal(verified.status, 0, verified.stderr);
    // --workspace names the folder itself: no search above it.
    const named = runCli(['list', '--workspace', inside]);
    assert.deepEqual([named.status, named.stderr.split('\n')[0]], [1, `error[NOT_INITIALISED]: ${inside} has no .envprofiles/ folder.`]);
    const nowhere = tempDir();
    const outside = runCli(['list'], { cwd: nowhere });
    assert.deepEqual([outside.status, outside.stderr.split('\n')[0]], [1, `error[NOT_INITIALISED]: ${nowhere} has no .envprofiles/ folder, nor has any folder above it.`]);
    // init works on the folder it runs in, and says which workspace it now stands in for below it.
    const nested = path.join(root, 'tools');
    fs.mkdirSync(nested);
    const initialised = runCli(['init', '--json'], { cwd: nested });
    assert.equal(initialised.status, 0, initialised.stderr);
    assert.deepEqual([initialised.json?.result.workspace, initialised.json?.result.enclosingWorkspace], [nested, root]);
    assert.match(runCli(['init'], { cwd: path.join(root, 'data') }).stdout, new RegExp(`note: this folder is inside the workspace ${root}; commands run in it \\(and below\\) now act on this new workspace`));
    assert.deepEqual(runCli(['list', '--json'], { cwd: nested }).json?.result.profiles, []);
  });

  it('a named pipe or a folder among the profile files is listed as no profile file, and one at config.yaml refuses the command (before: a pipe made list, and every command that reads them, wait for ever)', async () => {
    const { root } = await demoWorkspace();
    spawnSync('mkfifo', [path.join(root, '.envprofiles/profiles/piped.yaml')]);
    fs.mkdirSync(path.join(root, '.envprofiles/profiles/folder.yaml'));
    const listed = spawnSync(process.execPath, [CLI, 'list', '--workspace', root], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...NO_TEST_HOOKS } });
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /\n {4}folder {16}INVALID +- +no backups +is a folder, not a profile file; move it out of \.envprofiles\/profiles\n/);
    assert.match(listed.stdout, /\n {4}piped {17}INVALID +- +no backups +is a pipe, a socket or a device, not a profile file; move it out of \.envprofiles\/profiles\n/);
    // So is config.yaml, which every command reads (a folder there was "a bug").
    const config = path.join(root, '.envprofiles/config.yaml');
    for (const [make, what] of [[() => spawnSync('mkfifo', [config]), 'a pipe, a socket or a device'], [() => fs.mkdirSync(config), 'a folder']] as const) {
      fs.rmSync(config, { recursive: true, force: true });
      make();
      const refused = spawnSync(process.execPath, [CLI, 'status', '--workspace', root], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...NO_TEST_HOOKS } });
      assert.deepEqual([refused.status, refused.stderr], [1, `error[CONFIG_INVALID]: .envprofiles/config.yaml is ${what}, not a file.\n  Move it away; "envprofiles init" then writes a config.yaml with the defaults.\n`]);
    }
  });

  it("status with the active profile's file gone or broken says how to get it back, not to switch to it (before: \"Run envprofiles switch <that id>\", which cannot work)", async () => {
    const { root } = await demoWorkspace();
    assert.equal(runCli(['switch', DEV, '--workspace', root]).status, 0);
    const file = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    const content = fs.readFileSync(file, 'utf8');
    fs.rmSync(file);
    const missing = runCli(['status', '--workspace', root]);
    assert.equal(missing.status, 0, missing.stderr);
    assert.match(missing.stdout, new RegExp(`  - the active profile "${DEV}" no longer exists\n  Put \\.envprofiles/profiles/${DEV}\\.yaml back \\(a backup of the profile holds it: envprofiles restore <backup-id>\\), or switch to another profile: envprofiles switch <id>\\.\n`));
    assert.equal(runCli(['status', '--json', '--workspace', root]).json?.result.activeProfileFile, 'missing');
    fs.writeFileSync(file, content.replace('type: "DEVELOPMENT"', 'type: "SOMETIMES"'));
    const invalid = runCli(['status', '--workspace', root]);
    assert.match(invalid.stdout, new RegExp(`\n  Fix \\.envprofiles/profiles/${DEV}\\.yaml \\(envprofiles validate ${DEV} says what is wrong\\), then run "envprofiles switch ${DEV}" to rewrite them\\.\n`));
    fs.writeFileSync(file, content);
    fs.appendFileSync(path.join(root, '.env'), 'EXTRA=1\n');
    assert.match(runCli(['status', '--workspace', root]).stdout, new RegExp(`\n  Run "envprofiles switch ${DEV}" to rewrite them\\.\n`));
  });

  it('a damaged state.json or audit log (a crash, a failing disk): status says which profile is active is unknown and how to write it again (before: "No active profile", as if none had been switched to); an audit line torn by a crash does not swallow the next one', async () => {
    const { root } = await demoWorkspace();
    assert.equal(runCli(['switch', DEV, '--workspace', root]).status, 0);
    const state = path.join(root, '.envprofiles/state.json');
    fs.writeFileSync(state, '{"active": "dev_envi');
    const status = runCli(['status', '--workspace', root]);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /^No active profile known: \.envprofiles\/state\.json, which says which one is, cannot be read \(damaged: [^\n]+\)\. Switch to the profile in use to write it again: envprofiles switch <id>\n/);
    assert.match(runCli(['status', '--json', '--workspace', root]).json?.result.stateUnreadable, /JSON/);
    // JSON, but with an active profile that is no id (read as "no active profile" before), or no state at all.
    // Nor is text no profile can have as its id: "../config" had status read config.yaml as that profile and advise "switch ../config".
    for (const [content, why] of [['{"active": 5}', 'its active profile is 5, not a profile id'], ['null', 'it holds null, not a state'], ['{"active": "../config"}', 'its active profile is "\\.\\./config", not a profile id'], ['{"active": ""}', 'its active profile is "", not a profile id']]) {
      fs.writeFileSync(state, content);
      const shown = runCli(['status', '--workspace', root]).stdout;
      assert.match(shown, new RegExp(`^No active profile known: .* cannot be read \\(damaged: ${why}\\)\\.`), shown);
      assert.doesNotMatch(shown, /switch \.\.\/config/);
    }
    // A time that is not one is left out (before: status failed as "a bug", "Invalid time value").
    fs.writeFileSync(state, JSON.stringify({ active: DEV, switchedAt: 'x' }));
    const noTime = runCli(['status', '--workspace', root]);
    assert.equal(noTime.status, 0, noTime.stderr);
    assert.match(noTime.stdout, /^Active: dev_environment_001 /);
    assert.equal(runCli(['switch', DEV, '--workspace', root]).status, 0);
    assert.match(runCli(['status', '--workspace', root]).stdout, /^Active: dev_environment_001 /);
    const audit = path.join(root, '.envprofiles/audit.jsonl');
    fs.appendFileSync(audit, '{"time":"2026-12-03T00:00:00.000Z","event":"swi');
    assert.equal(runCli(['backup', DEV, '--workspace', root]).status, 0);
    const lines = fs.readFileSync(audit, 'utf8').split('\n');
    assert.equal(lines.at(-1), '');
    assert.equal(lines.at(-3), '{"time":"2026-12-03T00:00:00.000Z","event":"swi', 'the torn line is kept as it was');
    assert.equal(JSON.parse(lines.at(-2) as string).event, 'backup', 'the new line is whole, on a line of its own');
  });

  it('a named pipe at the tool\'s own small files (state, audit log) never makes a command wait: the audit line is skipped with a warning, the state is said to be in the way', async () => {
    const { root } = await demoWorkspace();
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args, '--workspace', root], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...NO_TEST_HOOKS } });
    const audit = path.join(root, '.envprofiles/audit.jsonl');
    fs.rmSync(audit, { force: true });
    spawnSync('mkfifo', [audit]);
    const backedUp = run('backup', DEV);
    assert.equal(backedUp.status, 0, backedUp.stderr);
    assert.match(backedUp.stderr, /warning: Could not write the audit log: \S+audit\.jsonl is a pipe, a socket or a device, not a file/);
    fs.rmSync(audit);
    const state = path.join(root, '.envprofiles/state.json');
    fs.rmSync(state, { force: true });
    spawnSync('mkfifo', [state]);
    assert.equal(run('status').status, 0);
    const switched = run('switch', DEV);
    assert.deepEqual([switched.status, switched.stderr.split('\n')[0]], [1, 'error[OUTPUT_CONFLICT]: .envprofiles/state.json is a pipe, a socket or a device, where the switch must write a file.']);
    fs.rmSync(state);
    // A folder under a journal's name is no journal: left alone (before, every command failed removing it
    // as a torn one), and a backup that would write that journal says what is in the way (before, "a bug").
    const journal = path.join(root, `.envprofiles/journal/backup-${DEV}.json`);
    fs.mkdirSync(journal, { recursive: true });
    assert.equal(run('list').status, 0);
    const blocked = run('backup', DEV);
    assert.deepEqual([blocked.status, blocked.stderr.split('\n')[0].replace(/: EISDIR.*$/, '')], [1, `error[IO_ERROR]: A folder stands where a file is needed (${journal})`]);
    assert.ok(fs.statSync(journal).isDirectory());
  });

  it('list, show and status print one JSON document with --json', async () => {
    const { root } = await demoWorkspace();
    const list = runCli(['list', '--workspace', root, '--json']);
    assert.equal(list.status, 0);
    assert.equal(list.json?.ok, true);
    assert.deepEqual(list.json?.result.profiles.map((p: { id: string }) => p.id), [DEV, PROD, TEST]);
    assert.equal(list.json?.result.profiles[1].protected, true);
    const show = runCli(['show', DEV, '--workspace', root, '--json']);
    assert.equal(show.json?.result.profile.name, '개발 환경');
    assert.equal(show.json?.result.profile.databases.market_data, 'data/dev/market_data.sqlite3');
    const status = runCli(['status', '--workspace', root, '--json']);
    assert.equal(status.json?.result.active, null);
    assert.equal(status.json?.result.engine, 'node:sqlite');
  });

  it('list says of each profile how old its last verified backup is, or why there is none (JSON backups)', async () => {
    const { root } = await demoWorkspace();
    const cell = (stdout: string, id: string): string => (stdout.split('\n').find((line) => line.includes(` ${id} `)) ?? '').replace(/^.*?(DEVELOPMENT|PRODUCTION|TESTING) +\d+ +/, '').replace(/ {2,}\S+ 환경$/, '');
    const header = runCli(['list', '--workspace', root]).stdout.split('\n')[0];
    assert.match(header, /^ +ID +TYPE +DATABASES +VERIFIED BACKUP +NAME$/);
    assert.equal(runCli(['backup', DEV, '--full', '--verify', '--workspace', root]).status, 0);
    assert.equal(runCli(['backup', PROD, '--full', '--workspace', root]).status, 0);
    const listed = runCli(['list', '--workspace', root]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(cell(listed.stdout, DEV), /^\d+ s ago$/);
    assert.deepEqual([PROD, TEST].map((id) => cell(listed.stdout, id)), ['none (1 not verified)', 'no backups']);
    const json = runCli(['list', '--workspace', root, '--json']).json?.result.profiles as { id: string; backups: { count: number; newest?: string; lastVerified?: string; lastVerifiedAt?: string } }[];
    const dev = json.find((p) => p.id === DEV)?.backups;
    assert.equal(dev?.count, 1);
    assert.equal(dev?.lastVerified, dev?.newest);
    assert.deepEqual(json.find((p) => p.id === PROD)?.backups.count, 1);
    assert.equal(json.find((p) => p.id === PROD)?.backups.lastVerified, undefined);
    assert.deepEqual(json.find((p) => p.id === TEST)?.backups, { count: 0 });
    // A catalog that cannot be read is said as such, and list still lists.
    fs.writeFileSync(path.join(root, `.envprofiles/backups/${PROD}/catalog.json`), '{ "backups": [');
    const damaged = runCli(['list', '--workspace', root]);
    assert.equal(damaged.status, 0, damaged.stderr);
    assert.equal(cell(damaged.stdout, PROD), 'catalog unreadable');
    fs.writeFileSync(path.join(root, `.envprofiles/backups/${PROD}/catalog.json`), JSON.stringify({ version: 99, backups: [] }));
    assert.equal(cell(runCli(['list', '--workspace', root]).stdout, PROD), 'catalog of a newer version');
  });

  it('show prints the whole profile as text: files, required tables, keep rules and schedule too (before, only --json had them)', async () => {
    const { root } = await demoWorkspace();
    const prod = runCli(['show', PROD, '--workspace', root]);
    assert.equal(prod.status, 0, prod.stderr);
    const tail = prod.stdout.slice(prod.stdout.indexOf('  required tables:'));
    assert.equal(tail, [
      '  required tables:',
      '    settings: tv_trading_variables, api_credentials',
      '    strategies: strategy_profiles, trading_conditions',
      '    market_data: price_data',
      '  backups:',
      '    keep: within 30 days',
      '    schedule: DAILY at 02:00 (not run by this version: back up with "envprofiles backup")',
      '',
    ].join('\n'));
    // Keep rules in restic's style, files, and a profile without configurations or schedule.
    const file = path.join(root, '.envprofiles/profiles', `${DEV}.yaml`);
    fs.writeFileSync(path.join(root, 'app.ini'), 'x=1\n');
    const yaml = fs.readFileSync(file, 'utf8').replace(/  configurations:[\s\S]*$/, '  files: [app.ini]\n  backup_schedule:\n    before_switch: true\n    keep: {last: 5, daily: 7, weekly: 0}\n');
    fs.writeFileSync(file, yaml);
    const dev = runCli(['show', DEV, '--workspace', root]);
    assert.equal(dev.status, 0, dev.stderr);
    assert.equal(dev.stdout.slice(dev.stdout.indexOf('  configurations:')), [
      '  configurations: none',
      '  files:',
      '    app.ini',
      '  backups:',
      '    keep: last 5, daily 7',
      '    before switching away: yes',
      '',
    ].join('\n'));
    fs.writeFileSync(file, yaml.replace(/  backup_schedule:[\s\S]*$/, ''));
    assert.match(runCli(['show', DEV, '--workspace', root]).stdout, /\n {2}backups:\n {4}keep: no rules \(prune keeps every backup\)\n$/);
  });

  it('status names the active profile\'s backups: none yet, then the newest and that none is verified, then the last verified one', async () => {
    const { root } = await demoWorkspace();
    assert.equal(runCli(['switch', DEV, '--workspace', root]).status, 0);
    // When, in local time (the state file keeps UTC).
    const switchedAt = runCli(['status', '--workspace', root, '--json']).json?.result.switchedAt as string;
    const seoul = new Date(Date.parse(switchedAt) + 9 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
    assert.equal(runCli(['status', '--workspace', root], { env: { TZ: 'Asia/Seoul' } }).stdout.split('\n')[0], `Active: ${DEV} (DEVELOPMENT, "개발 환경"), since ${seoul} (Asia/Seoul)`);
    const line = (): string => runCli(['status', '--workspace', root]).stdout.split('\n').find((l) => l.startsWith('Backups:')) ?? '';
    assert.equal(line(), `Backups: none yet. Back up with: envprofiles backup ${DEV} --verify`);
    const first = runCli(['backup', DEV, '--workspace', root, '--json']).json?.result.id;
    assert.equal(line(), `Backups: 1, newest ${first}; NONE VERIFIED yet (envprofiles verify ${first})`);
    const second = runCli(['backup', DEV, '--verify', '--workspace', root, '--json']).json?.result.id;
    const third = runCli(['backup', DEV, '--workspace', root, '--json']).json?.result.id;
    assert.equal(line(), `Backups: 3, newest ${third}; last verified ${second}`);
    assert.deepEqual(runCli(['status', '--workspace', root, '--json']).json?.result.activeBackups, { count: 3, newest: third, lastVerified: second });
    // The full the verified incremental builds on is gone, the catalog rebuilt without it: that one
    // cannot be restored, and verifying again would not help.
    fs.rmSync(path.join(root, '.envprofiles/backups', DEV, `${first}.zip`));
    assert.equal(runCli(['backups', DEV, '--rebuild-catalog', '--workspace', root]).status, 0);
    assert.equal(line(), `Backups: 2, newest ${third}; NONE VERIFIED that can be restored: ${second}'s chain lost ${first} (envprofiles backup ${DEV} --full --verify)`);
    assert.deepEqual(runCli(['status', '--workspace', root, '--json']).json?.result.activeBackups, { count: 2, newest: third });
  });

  it("status names the active profile's databases that are gone (the application would get new, empty ones through its links), with the restore that puts each back, or init-db for one no backup holds", async () => {
    const { root } = await demoWorkspace();
    assert.equal(runCli(['switch', DEV, '--workspace', root]).status, 0);
    const backupId = runCli(['backup', DEV, '--workspace', root, '--json']).json?.result.id as string;
    assert.deepEqual(runCli(['status', '--workspace', root, '--json']).json?.result.missingDatabases, []);
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(path.join(root, `data/dev/strategies.sqlite3${suffix}`), { force: true });
    const status = runCli(['status', '--workspace', root]);
    assert.equal(status.status, 0, status.stderr);
    const lines = status.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('Databases:'));
    assert.deepEqual(lines.slice(at, at + 3), [
      'Databases: 1 is MISSING (the application would find none there, and SQLite would make a new, empty one):',
      '  - strategies: data/dev/strategies.sqlite3 does not exist',
      `  Restore it from the newest backup that holds it: envprofiles restore ${backupId} --db strategies`,
    ]);
    assert.deepEqual(runCli(['status', '--workspace', root, '--json']).json?.result.missingDatabases, [{ name: 'strategies', path: 'data/dev/strategies.sqlite3' }]);
    // One no backup holds (the profile gained it after its last backup): made anew.
    const profileFile = path.join(root, `.envprofiles/profiles/${DEV}.yaml`);
    fs.writeFileSync(profileFile, fs.readFileSync(profileFile, 'utf8').replace('    market_data: "data/dev/market_data.sqlite3"', '    market_data: "data/dev/market_data.sqlite3"\n    audit: "data/dev/audit.sqlite3"'));
    const both = runCli(['status', '--workspace', root]).stdout;
    assert.match(both, /Databases: 2 are MISSING .*\n {2}- strategies: data\/dev\/strategies\.sqlite3 does not exist\n {2}- audit: data\/dev\/audit\.sqlite3 does not exist\n {2}Restore it from the newest backup that holds it: envprofiles restore \S+ --db strategies\n {2}No backup holds audit: make it anew \(envprofiles init-db dev_environment_001 \[--schema-from <profile>\]\), or fix the path in the profile\.\n/);
    // Put back as the line says: status no longer names it.
    assert.equal(runCli(['restore', backupId, '--db', 'strategies', '--workspace', root]).status, 0);
    assert.deepEqual(runCli(['status', '--workspace', root, '--json']).json?.result.missingDatabases, [{ name: 'audit', path: 'data/dev/audit.sqlite3' }]);
  });

  it('--workspace defaults to the current directory', async () => {
    const { root } = await demoWorkspace();
    const result = runCli(['list'], { cwd: root });
    assert.equal(result.status, 0);
    assert.match(result.stdout, /dev_environment_001/);
  });

  it('switch: exit 0; protected without --confirm exits 3 and never prompts when stdin is not a terminal', async () => {
    const { root } = await demoWorkspace();
    const ok = runCli(['switch', DEV, '--workspace', root, '--json']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.json?.result.to, DEV);
    const refused = runCli(['switch', PROD, '--workspace', root, '--json']);
    assert.equal(refused.status, 3);
    assert.match(refused.stderr, /error\[CONFIRMATION_REQUIRED\]/);
    assert.match(refused.stderr, /--confirm prod_environment_001/);
    assert.equal(refused.json?.ok, false);
    assert.equal(refused.json?.error.code, 'CONFIRMATION_REQUIRED');
    assert.equal(refused.json?.error.kind, 'refused');
    const wrong = runCli(['switch', PROD, '--confirm', 'prod', '--workspace', root]);
    assert.equal(wrong.status, 3);
    // A confirmation that does not match is named, not taken for none (before: "needs confirmation" alone).
    assert.equal(wrong.stderr, 'error[CONFIRMATION_REQUIRED]: Profile "prod_environment_001" is a PRODUCTION profile; switching to it needs confirmation. The confirmation given, "prod", is not its id; nothing was changed.\n  Repeat with --confirm prod_environment_001 (typing the id is the confirmation).\n');
    assert.match(runCli(['switch', PROD, '--confirm', 'PROD_ENVIRONMENT_001', '--workspace', root]).stderr, /The confirmation given, "PROD_ENVIRONMENT_001", is not its id \(ids tell upper and lower case apart\); nothing was changed\./);
    assert.doesNotMatch(refused.stderr, /confirmation given/);
    const confirmed = runCli(['switch', PROD, '--confirm', PROD, '--workspace', root]);
    assert.equal(confirmed.status, 0, confirmed.stderr);
    assert.match(confirmed.stdout, /Switched to prod_environment_001 .*from dev_environment_001/);
    // Again: it was the active profile already, and its outputs are written again (before: "Switched to", as if it had not been).
    const again = runCli(['switch', PROD, '--confirm', PROD, '--workspace', root]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^prod_environment_001 \(PRODUCTION, "[^"]+"\) was already the active profile; its outputs were written again in \d+ ms\.\n {2}wrote data\/settings\.sqlite3, /);
  });

  it('a --confirm that names another profile than the one a switch, delete or restore changes (not protected, so it needs none) is a usage error (exit 2) and changes nothing (before: it went on over that other profile)', async () => {
    const { root } = await demoWorkspace();
    const backedUp = runCli(['backup', DEV, '--workspace', root, '--json']);
    assert.equal(backedUp.status, 0, backedUp.stderr);
    const id = backedUp.json?.result.id as string;
    const before = snapshotTree(root, (rel) => rel.endsWith('.envprofiles/lock') || /-(wal|shm)$/.test(rel));
    const misdirected = (operation: string): string => `error[USAGE]: --confirm names ${PROD}, but ${operation}, which is not protected and needs no confirmation; nothing was changed.\n`;
    for (const [args, operation] of [
      [['switch', DEV], `this switch is to ${DEV}`],
      [['delete', DEV, '--delete-data'], `this deletes ${DEV}`],
      [['restore', id], `this restore replaces the data of ${DEV}`],
      [['restore', id, '--dry-run'], `this restore replaces the data of ${DEV}`],
      [['restore', id, '--as-new', 'dev_copy_001'], 'this restore makes the new profile dev_copy_001'],
    ] as const) {
      const refused = runCli([...args, '--confirm', PROD, '--workspace', root]);
      assert.equal(refused.status, 2, `${args.join(' ')}: ${refused.stderr}`);
      assert.ok(refused.stderr.startsWith(misdirected(operation)), refused.stderr);
    }
    assertSameTree(snapshotTree(root, (rel) => rel.endsWith('.envprofiles/lock') || /-(wal|shm)$/.test(rel)), before, 'nothing may change');
    // Its own id, or the backup's profile for a new one, is no mistake.
    assert.equal(runCli(['restore', id, '--as-new', 'dev_copy_001', '--confirm', DEV, '--workspace', root]).status, 0);
    assert.equal(runCli(['switch', DEV, '--confirm', DEV, '--workspace', root]).status, 0);
  });

  it('switch is refused with exit 3 while the busy guard is up', async () => {
    const { root } = await demoWorkspace();
    fs.writeFileSync(path.join(root, 'data/app.lock'), '');
    const result = runCli(['switch', DEV, '--workspace', root]);
    assert.equal(result.status, 3);
    assert.match(result.stderr, /error\[GUARD_ACTIVE\].*data\/app\.lock/);
  });

  it('exits 1 with the file, field and line for an invalid profile or config.yaml, named once, and no stack trace', async () => {
    const { root } = await demoWorkspace();
    const file = path.join(root, '.envprofiles/profiles', `${DEV}.yaml`);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('type: "DEVELOPMENT"', 'type: "DEVELOPPMENT"'));
    const result = runCli(['switch', DEV, '--workspace', root]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^error\[PROFILE_INVALID\]: \.envprofiles\/profiles\/dev_environment_001\.yaml:5:9 profile\.type: "DEVELOPPMENT" is not a profile type/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
    assert.doesNotMatch(result.stderr, /\n  file: /, 'the message names the file already');
    const list = runCli(['list', '--workspace', root]);
    assert.equal(list.status, 0, 'list still shows the other profiles');
    // Where in the file and which field, as its row can say them (before: the message alone).
    assert.match(list.stdout, /dev_environment_001\s+INVALID\s+-\s+no backups\s+line 5: type: "DEVELOPPMENT" is not a profile type/);
    // The same for config.yaml, whose error carries the file's absolute path.
    const config = path.join(root, '.envprofiles/config.yaml');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('compression: fast', 'compression: ultra'));
    const badConfig = runCli(['backup', TEST, '--workspace', root]);
    assert.equal(badConfig.status, 1);
    assert.match(badConfig.stderr, /^error\[CONFIG_INVALID\]: \.envprofiles\/config\.yaml:\d+:\d+ backups\.compression: must be store, fast or best, but it is the text "ultra"\n  Fix the file/);
    // Its word in any case, as a profile's type (before: FAST refused).
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('compression: ultra', 'compression: FAST'));
    const upperCase = runCli(['backup', TEST, '--full', '--workspace', root, '--json']);
    assert.equal(upperCase.status, 0, upperCase.stderr);
    const archive = upperCase.json?.result.archive as string;
    assert.equal(spawnSync('python3', ['-c', 'import sys, zipfile; print(sorted({i.compress_type for i in zipfile.ZipFile(sys.argv[1]).infolist() if i.filename.startswith("db/")}))', archive], { encoding: 'utf8' }).stdout.trim(), '[8]', 'the databases are deflated');
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('compression: FAST', 'compression: ultra'));
    // A misspelt key is not an error, but every command warns about it (stderr; stdout stays as it was).
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('compression: ultra', 'compresion: best'));
    const warned = runCli(['list', '--workspace', root, '--json']);
    assert.equal(warned.status, 0, warned.stderr);
    assert.equal(warned.json?.ok, true);
    assert.match(warned.stderr, /^warning: \.envprofiles\/config\.yaml:\d+:3 backups\.compresion: is not a key of backups \(directory, compression, max_chain, before_switch\), so it is ignored; did you mean compression\?\n$/);
  });

  it('exits 1 for an unknown profile and lists the known ones', async () => {
    const { root } = await demoWorkspace();
    const result = runCli(['show', 'nope_profile', '--workspace', root]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /error\[PROFILE_NOT_FOUND\][\s\S]*Known profiles: dev_environment_001, prod_environment_001, test_environment_001/);
    // The profile's file named instead of its id (as a shell completes it) gets the id (before: no "did
    // you mean", and a path was "contains a path separator" alone).
    for (const given of ['dev_environment_001.yaml', '.envprofiles/profiles/dev_environment_001.yaml']) {
      const named = runCli(['validate', given, '--workspace', root]);
      assert.equal(named.status, 1, named.stderr);
      assert.match(named.stderr, new RegExp(`^error\\[PROFILE_NOT_FOUND\\]: No profile "${given.replace(/\./g, '\\.')}" in \\.envprofiles/profiles\\.\\n(  file: .*\\n)? {2}Did you mean dev_environment_001\\? Known profiles: `));
    }
    assert.doesNotMatch(runCli(['validate', 'elsewhere/dev_environment_001.yaml', '--workspace', root]).stderr, /file: /, 'an id with a separator names no profile file');
  });

  it('restore and verify of a folder or of a ZIP archive that is not a backup say so, and what to give instead', async () => {
    const { root } = await demoWorkspace();
    const folder = runCli(['restore', path.join(root, 'data'), '--workspace', root]);
    assert.equal(folder.status, 1);
    assert.match(folder.stderr, /^error\[ARCHIVE_INVALID\]: \S+\/data: is a folder, not a backup archive\.\n  Give the id of a backup or the path of its \.zip file/);
    const foreign = path.join(root, 'notes.zip');
    const made = spawnSync('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1], "w").writestr("notes.txt", "not a backup")', foreign], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const restored = runCli(['restore', foreign, '--workspace', root]);
    assert.equal(restored.status, 1);
    assert.match(restored.stderr, /notes\.zip: is a ZIP archive without a manifest\.json: not an Environment Profiles backup/);
    const verified = runCli(['verify', foreign, '--workspace', root]);
    assert.equal(verified.status, 1);
    assert.match(verified.stdout, /^\S+notes\.zip is not a backup:\n {2}- \S+notes\.zip: is a ZIP archive without a manifest\.json: not an Environment Profiles backup/);
    // What to do is what restore says (before: "take a new full backup and verify it").
    assert.match(verified.stdout, /^ {2}Do not restore from it\. Give the id of a backup or the path of its \.zip file \("envprofiles backups" lists them\)\. A backup whose manifest is gone cannot be read: use another one\.$/m);
    // A folder is no backup at all: verify says so as restore does (before: "FAILED verification").
    const verifiedFolder = runCli(['verify', path.join(root, 'data'), '--workspace', root]);
    assert.equal(verifiedFolder.status, 1);
    assert.match(verifiedFolder.stderr, /^error\[ARCHIVE_INVALID\]: \S+\/data: is a folder, not a backup archive\.\n  Give the id of a backup or the path of its \.zip file/);
    assert.equal(verifiedFolder.stdout, '');
    // A named pipe is not opened (that waits for a writer for ever: before, verify and restore hung), nor is a device.
    const pipe = path.join(root, 'pipe.zip');
    spawnSync('mkfifo', [pipe]);
    for (const [command, special] of [['verify', pipe], ['restore', pipe], ['verify', '/dev/zero']]) {
      const refused = spawnSync(process.execPath, [CLI, command, special, '--workspace', root], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...NO_TEST_HOOKS } });
      assert.deepEqual([refused.status, refused.signal], [1, null], `${command} ${special}`);
      assert.match(refused.stderr, new RegExp(`^error\\[ARCHIVE_INVALID\\]: ${special.replace(/[.]/g, '\\.')}: is not a regular file \\(a pipe, a socket or a device\\), so not a backup archive\\.\n`));
    }
    // So is a file that is not a ZIP archive, or an empty one; a ZIP cut short is a damaged archive.
    const text = path.join(root, 'notes.txt.zip');
    fs.writeFileSync(text, 'a text file given by mistake\n');
    const empty = path.join(root, 'empty.zip');
    fs.writeFileSync(empty, '');
    for (const command of ['restore', 'verify']) {
      const notZip = runCli([command, text, '--workspace', root]);
      assert.equal(notZip.status, 1);
      assert.equal(notZip.stderr, `error[ARCHIVE_INVALID]: ${text}: is not a ZIP archive, so not a backup.\n  Give the id of a backup or the path of its .zip file ("envprofiles backups" lists them).\n`);
      assert.match(runCli([command, empty, '--workspace', root]).stderr, /^error\[ARCHIVE_INVALID\]: \S+empty\.zip: is empty, not a backup archive\.\n  Give the id of a backup or the path of its \.zip file \("envprofiles backups" lists them\)\. An archive left empty by an interrupted copy cannot be read: use another one\.\n$/);
    }
    const cut = path.join(root, 'cut.zip');
    fs.writeFileSync(cut, fs.readFileSync(foreign).subarray(0, 40));
    const verifiedCut = runCli(['verify', cut, '--workspace', root]);
    assert.equal(verifiedCut.status, 1);
    assert.match(verifiedCut.stdout, /cut\.zip: is not a readable ZIP archive: it begins like one, but its end is missing or damaged \(cut short, as by an interrupted copy\?\)/);
  });

  it('a profile id that leads outside the backups folder is refused before anything is read or written; a typo of an id gets "did you mean"', async () => {
    const { root } = await demoWorkspace();
    const rebuilt = runCli(['backups', '../profiles', '--rebuild-catalog', '--workspace', root]);
    assert.equal(rebuilt.status, 2, rebuilt.stderr);
    assert.match(rebuilt.stderr, /^error\[PROFILE_NOT_FOUND\]: No profile "\.\.\/profiles": "\.\.\/profiles" contains a path separator\./);
    assert.equal(fs.existsSync(path.join(root, '.envprofiles/profiles/catalog.json')), false, 'before, the rebuild wrote a catalog there');
    const typo = runCli(['backups', 'dev_environment_01', '--workspace', root]);
    assert.equal(typo.status, 1, 'before: "No backups of dev_environment_01", exit 0');
    assert.match(typo.stderr, /Did you mean dev_environment_001\? Known profiles: /);
    // A folder in the backups folder that no profile could have (a disk's own lost+found) is not listed as one.
    fs.mkdirSync(path.join(root, '.envprofiles/backups/lost+found'), { recursive: true });
    const listed = runCli(['backups', '--workspace', root, '--json']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual([listed.json?.result.backups, listed.json?.result.deletedProfiles], [[], []]);
  });

  it('validate exits 0 when valid and 1 when a check fails', async () => {
    const { root } = await demoWorkspace();
    assert.equal(runCli(['validate', DEV, '--workspace', root]).status, 0);
    const full = runCli(['validate', DEV, '--full', '--workspace', root, '--json']);
    assert.equal(full.status, 0, full.stderr);
    assert.equal(full.json?.result.level, 'full');
    fs.writeFileSync(path.join(root, 'data/dev/settings.sqlite3'), 'not a database at all'.repeat(10));
    const bad = runCli(['validate', DEV, '--workspace', root, '--json']);
    assert.equal(bad.status, 1);
    assert.equal(bad.json?.ok, false);
    assert.match(bad.json?.result.problems[0].message, /not a SQLite 3 database/);
  });

  it('create, clone and validate through the CLI', async () => {
    const { root } = await demoWorkspace();
    const created = runCli(['create', 'qa_env', '--type', 'testing', '--name', 'QA', '--set', 'LOG_LEVEL=WARN', '--set', 'retries=3', '--schema-from', DEV, '--workspace', root, '--json']);
    assert.equal(created.status, 0, created.stderr);
    assert.equal(created.json?.result.profile.type, 'TESTING');
    assert.deepEqual(created.json?.result.initialisedDatabases, ['settings', 'strategies', 'market_data']);
    assert.equal(created.json?.result.profile.configurations.retries, 3);
    assert.equal(runCli(['validate', 'qa_env', '--full', '--workspace', root]).status, 0);
    const cloned = runCli(['clone', DEV, 'dev_copy', '--workspace', root, '--json']);
    assert.equal(cloned.status, 0, cloned.stderr);
    assert.equal(cloned.json?.result.databases.settings, 'data/dev_copy/settings.sqlite3');
    // The text says what the new databases hold, as --data chose; its word is taken in any case, as --type's is
    // (before: "--data must be one of copy, schema, empty" for SCHEMA).
    for (const [data, held] of [['copy', 'copies of the source\'s'], ['schema', 'the source\'s schema, no rows'], ['empty', 'empty']]) {
      const text = runCli(['clone', DEV, `dev_${data}_clone`, '--data', data === 'schema' ? 'Schema' : data, '--workspace', root]);
      assert.equal(text.status, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^Cloned ${DEV} into dev_${data}_clone \\(DEVELOPMENT\\) in \\d+\\.\\d\\d s; its databases \\(${held}\\):\n {2}settings: data/dev_${data}_clone/settings\\.sqlite3\n`), text.stdout);
    }
    const again = runCli(['clone', DEV, 'dev_copy', '--workspace', root]);
    assert.equal(again.status, 3, 'refused: nothing is written over a profile');
    assert.match(again.stderr, /error\[PROFILE_EXISTS\]/);
  });

  it('create refuses a --db or --set name given twice, also in another case, and creates nothing (before: the last one won without a word, so a mistyped second --db replaced the first database)', async () => {
    const { root } = await demoWorkspace();
    const before = snapshotTree(root);
    const twice = runCli(['create', 'qa_env', '--db', 'settings=data/qa/settings.sqlite3', '--db', 'settings=data/qa/other.sqlite3', '--workspace', root]);
    assert.equal(twice.status, 2);
    assert.equal(twice.stderr, 'error[USAGE]: --db gives the same database twice: "settings=data/qa/settings.sqlite3" and "settings=data/qa/other.sqlite3"; nothing was created.\n  Give each database once.\n');
    const inCase = runCli(['create', 'qa_env', '--set', 'MAX=1', '--set', 'max=2', '--workspace', root, '--json']);
    assert.equal(inCase.status, 2);
    assert.equal(inCase.json?.error.message, '--set gives the same setting twice: "MAX=1" and "max=2" (names that differ only in case become the same variable); nothing was created.');
    assert.deepEqual(snapshotTree(root), before);
    // A --set still replaces the template's own value of that variable, in whatever case the template has it.
    const created = runCli(['create', 'qa_env', '--type', 'testing', '--set', 'LOG_LEVEL=WARN', '--workspace', root, '--json']);
    assert.equal(created.status, 0, created.stderr);
    assert.equal(created.json?.result.profile.configurations.log_level, 'WARN');
  });

  it('create --from-file takes the specification template as it is', async () => {
    const { root } = await emptyWorkspaceRoot();
    const file = path.join(root, 'profile_template.yaml');
    fs.writeFileSync(file, SPEC_TEMPLATE);
    const created = runCli(['create', '--from-file', file, '--workspace', root, '--json']);
    assert.equal(created.status, 0, created.stderr);
    assert.equal(created.json?.result.profile.name, '개발 환경');
    assert.equal(fs.readFileSync(path.join(root, '.envprofiles/profiles/dev_environment_001.yaml'), 'utf8'), SPEC_TEMPLATE);
    const again = runCli(['create', '--from-file', file, '--workspace', root]);
    assert.equal(again.status, 3, 'refused: nothing is written over a profile');
    assert.match(again.stderr, /error\[PROFILE_EXISTS\]/);
  });

  it('runs under the machine\'s own Node (no node:sqlite) with the sql.js engine', async () => {
    // Debian's Node 20 lacks node:sqlite; on a machine without a second Node, sql.js is forced instead.
    const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((candidate) => fs.existsSync(candidate));
    const options = systemNode ? { node: systemNode } : { env: { ENVPROFILES_SQLITE_ENGINE: 'sql.js' } };
    const { root } = await demoWorkspace();
    const status = runCli(['status', '--workspace', root, '--json'], options);
    assert.equal(status.status, 0, status.stderr);
    const version = systemNode ? (await import('node:child_process')).execFileSync(systemNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim() : '0.0';
    const [major, minor] = version.split('.').map(Number);
    const hasNodeSqlite = major > 22 || (major === 22 && minor >= 13);
    assert.equal(status.json?.result.engine, hasNodeSqlite ? 'node:sqlite' : 'sql.js');
    const switched = runCli(['switch', DEV, '--workspace', root], options);
    assert.equal(switched.status, 0, switched.stderr);
    assert.equal(runCli(['validate', DEV, '--full', '--workspace', root], options).status, 0);
    // Backups there too (VS Code hosts before 1.101 run Node 20): the runtime's fallbacks for the page
    // digests (no crypto.hash), CRC-32 (no zlib.crc32) and the hashing worker, end to end.
    for (const kind of ['--full', '--incremental']) {
      const backup = runCli(['backup', DEV, kind, '--workspace', root, '--json'], options);
      assert.equal(backup.status, 0, backup.stderr);
    }
    const listed = runCli(['backups', DEV, '--workspace', root, '--json'], options).json?.result;
    const newest = (Array.isArray(listed) ? listed : listed.backups)[0];
    assert.equal(newest.kind, 'incremental');
    const verified = runCli(['verify', newest.id, '--workspace', root], options);
    assert.equal(verified.status, 0, verified.stderr);
    assert.equal(runCli(['restore', newest.id, '--as-new', 'from_node20', '--workspace', root], options).status, 0);
    assert.ok(fs.existsSync(path.join(root, 'data/from_node20/market_data.sqlite3')));
  });

  it('forcing sql.js with ENVPROFILES_SQLITE_ENGINE works and reports it', async () => {
    const { root } = await demoWorkspace();
    const status = runCli(['status', '--workspace', root, '--json'], { env: { ENVPROFILES_SQLITE_ENGINE: 'sql.js' } });
    assert.equal(status.json?.result.engine, 'sql.js');
  });

  it('backup lowers its CPU priority on every thread, the ones started before and after; switch keeps the normal one', async function () {
    this.timeout(60_000);
    const { root } = await demoWorkspace();
    assert.equal(runCli(['backup', DEV, '--full', '--workspace', root]).status, 0);
    // An incremental with the hashing thread (forced on these small databases), held once its first
    // database is archived: by then the thread pool has deflated and the hashing thread has hashed.
    const backup = startHeld(['backup', DEV, '--incremental', '--workspace', root], 'archived:settings', { ENVPROFILES_HASHING_THREAD_FROM_MB: '0' });
    const backupThreads = threadNiceValues(await backup.reached);
    backup.release();
    assert.equal((await backup.finished).code, 0);
    assert.ok(backupThreads.length >= 8, `Node's threads, the pool's and the hashing thread: ${JSON.stringify(backupThreads)}`);
    assert.ok(backupThreads.some(([name]) => name === 'libuv-worker'), JSON.stringify(backupThreads));
    assert.deepEqual(backupThreads.filter(([, nice]) => nice !== 10), [], 'every thread of the backup runs at nice 10');

    const change = startHeld(['switch', PROD, '--confirm', PROD, '--workspace', root], 'journal-written');
    const switchThreads = threadNiceValues(await change.reached);
    change.release();
    assert.equal((await change.finished).code, 0);
    assert.deepEqual(switchThreads.filter(([, nice]) => nice !== 0), [], 'a switch runs at the normal priority');
  });

  it('backup, backups, verify, restore through the CLI with --json and exit codes', async () => {
    const { root } = await demoWorkspace();
    const full = runCli(['backup', DEV, '--full', '--reason', 'nightly', '--workspace', root, '--json']);
    assert.equal(full.status, 0, full.stderr);
    assert.equal(full.json?.result.kind, 'full');
    assert.equal(full.json?.result.reason, 'nightly');
    const id = full.json?.result.id as string;
    const incremental = runCli(['backup', DEV, '--incremental', '--workspace', root, '--json']);
    assert.equal(incremental.json?.result.kind, 'incremental');
    assert.equal(incremental.json?.result.parent, id);
    const list = runCli(['backups', DEV, '--workspace', root, '--json']);
    assert.deepEqual(list.json?.result.backups.map((b: { kind: string }) => b.kind), ['incremental', 'full']);
    // People read local time (prune's daily rules count in it) and sizes in KB or MB; --json keeps UTC and bytes.
    const seoul = (iso: string): string => new Date(Date.parse(iso) + 9 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
    const kilobytes = (bytes: number): string => (bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`);
    const seoulEnv = { env: { TZ: 'Asia/Seoul' } };
    const listed = runCli(['backups', DEV, '--workspace', root], seoulEnv).stdout.split('\n');
    assert.match(listed[0], /^ID +KIND +SIZE +CREATED \(Asia\/Seoul\) +REASON +VERIFIED$/);
    const fullRow = listed.find((line) => line.startsWith(`${id} `)) ?? '';
    assert.match(fullRow, new RegExp(`^${id.replace(/\./g, '\\.')} +full +${kilobytes(full.json?.result.sizeBytes)} +${seoul(full.json?.result.createdAt)} +nightly +no$`), fullRow);
    // The table names backups by id; the line under it says where their archives are.
    assert.equal(listed[listed.indexOf(fullRow) + 1], `Archives: ${path.join(root, '.envprofiles/backups', DEV, '<ID>.zip')}`);
    assert.ok(fs.existsSync(path.join(root, '.envprofiles/backups', DEV, `${id}.zip`)));
    // A TZ the time zone database does not know reads as UTC, as the C library reads it (before: an empty
    // TZ failed every command that shows a time with INTERNAL; a misspelt one was shown as "undefined").
    // A TZ that names a zone file (as systemd services set `:/etc/localtime`) is that file's zone.
    const utc = (iso: string): string => iso.slice(0, 19).replace('T', ' ');
    for (const [tz, zone, time] of [['', 'UTC', utc], ['Nowhere/Nothing', 'UTC', utc], ['Asia/Seoul', 'Asia/Seoul', seoul], [':/usr/share/zoneinfo/Asia/Seoul', 'Asia/Seoul', seoul]] as const) {
      for (const command of [['backups', DEV], ['prune', DEV, '--dry-run']]) {
        const shown = runCli([...command, '--workspace', root], { env: { TZ: tz } });
        assert.equal(shown.status, 0, `TZ=${tz} ${command[0]}: ${shown.stderr}`);
        assert.ok(shown.stdout.includes(`(${zone})`), `TZ=${tz} ${command[0]}: ${shown.stdout}`);
        if (command[0] === 'backups') assert.ok(shown.stdout.includes(` ${time(full.json?.result.createdAt)} `), shown.stdout);
      }
    }
    const pruneRows = runCli(['prune', DEV, '--dry-run', '--workspace', root], seoulEnv).stdout.split('\n');
    assert.match(pruneRows[0], /^ACTION +ID +CREATED \(Asia\/Seoul\) +KIND +WHY$/);
    assert.ok(pruneRows.some((line) => line.startsWith(`keep    ${id} `) && line.includes(` ${seoul(full.json?.result.createdAt)} `)), pruneRows.join('\n'));
    const verify = runCli(['verify', incremental.json?.result.id, '--workspace', root, '--json']);
    assert.equal(verify.status, 0, verify.stderr);
    assert.equal(verify.json?.result.ok, true);
    const restore = runCli(['restore', id, '--workspace', root, '--json']);
    assert.equal(restore.status, 0, restore.stderr);
    assert.match(restore.json?.result.safetyBackup, /^dev_environment_001\./);
    const missing = runCli(['verify', 'no_such_backup', '--workspace', root]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /error\[BACKUP_NOT_FOUND\]/);
    // A profile's id where a backup's belongs, a typo, and the beginning of several ids each get a way on.
    const safety = restore.json?.result.safetyBackup as string;
    const byProfile = runCli(['restore', DEV, '--workspace', root]);
    assert.equal(byProfile.status, 1);
    assert.equal(byProfile.stderr, `error[BACKUP_NOT_FOUND]: No backup with id "${DEV}".\n  "${DEV}" is a profile; name one of its backups by id. Its newest: ${safety} (verified), ${incremental.json?.result.id} (verified), ${id} (all of them: envprofiles backups ${DEV}).\n`);
    assert.match(runCli(['verify', TEST, '--workspace', root]).stderr, new RegExp(`"${TEST}" is a profile, and it has no backups yet\\. Make one: envprofiles backup ${TEST} --full --verify`));
    const typo = `${id.slice(0, -3)}x${id.slice(-2)}`;
    assert.match(runCli(['verify', typo, '--workspace', root]).stderr, new RegExp(`Did you mean ${id.replace(/\./g, '\\.')}\\?`));
    assert.match(runCli(['restore', `${DEV}.`, '--workspace', root]).stderr, /3 backups begin with it, such as .*; give the whole id/);
    // A bare archive name (as the backups folder shows it) of a listed backup, given where there is no such file, is said to be that backup.
    const byName = runCli(['verify', `${id}.zip`, '--workspace', root], { cwd: root });
    assert.equal(byName.status, 1);
    assert.equal(byName.stderr, `error[BACKUP_NOT_FOUND]: There is no archive at ${path.join(root, `${id}.zip`)}.\n  That is the archive name of backup ${id}, which is in the backups folder: name it by its id, ${id}, or by its archive's path, ${path.join(root, '.envprofiles/backups', DEV, `${id}.zip`)}.\n`);
    assert.match(runCli(['verify', `${DEV}.zip`, '--workspace', root], { cwd: root }).stderr, /\n {2}Check the path, or name the backup by its id \("envprofiles backups"\)\.\n$/);
    // An empty argument (an unset shell variable) is a usage error, not the beginning of every id.
    for (const command of ['verify', 'restore']) {
      const empty = runCli([command, '', '--workspace', root]);
      assert.equal(empty.status, 2, empty.stderr);
      assert.equal(empty.stderr, 'error[USAGE]: The backup was named by an empty argument (""); nothing was changed.\n  Give a backup id or the path of its .zip file ("envprofiles backups" lists them).\n');
    }
    assert.equal(runCli(['backup', '--workspace', root]).status, 2, 'backup needs an id or --all');
    assert.equal(runCli(['backup', DEV, '--full', '--incremental', '--workspace', root]).status, 2);
    const listedBefore = runCli(['backups', DEV, '--workspace', root, '--json']).json?.result.backups.length;
    for (const [reason, problem] of [['  ', /is empty/], ['two\nlines', /line break/], ['x'.repeat(81), /81 characters long \(at most 80\)/]] as const) {
      const badReason = runCli(['backup', DEV, '--reason', reason, '--workspace', root]);
      assert.equal(badReason.status, 2, badReason.stderr);
      assert.match(badReason.stderr, /error\[USAGE\]: The backup reason /);
      assert.match(badReason.stderr, problem);
      assert.equal(runCli(['backup', '--all', '--reason', reason, '--workspace', root]).status, 2);
    }
    assert.equal(runCli(['backups', DEV, '--workspace', root, '--json']).json?.result.backups.length, listedBefore, 'a refused reason backs nothing up');
    const all = runCli(['backup', '--all', '--reason', 'emergency', '--workspace', root, '--json']);
    assert.equal(all.status, 0, all.stderr);
    assert.equal(all.json?.result.backups.length, 3);
    assert.equal(runCli(['backup', DEV, '--reason', '  before migration ', '--workspace', root, '--json']).json?.result.reason, 'before migration', 'kept trimmed');
    const refused = runCli(['restore', id, '--workspace', root], { env: {} });
    assert.equal(refused.status, 0, 'dev is not protected');
    fs.writeFileSync(path.join(root, 'data/app.lock'), '');
    const guarded = runCli(['restore', id, '--workspace', root]);
    assert.equal(guarded.status, 3);
    assert.match(guarded.stderr, /error\[GUARD_ACTIVE\]/);
  });

  it('verify --all verifies every profile\'s backups, --unverified only those never verified; a damaged archive is named and fails it (exit 1), the others are still verified', async () => {
    const { root } = await demoWorkspace();
    const backupOf = (id: string, ...flags: string[]): string => {
      const made = runCli(['backup', id, ...flags, '--workspace', root, '--json']);
      assert.equal(made.status, 0, made.stderr);
      return made.json?.result.id;
    };
    const devBackup = backupOf(DEV);
    backupOf(TEST, '--verify');
    const prodBackup = backupOf(PROD);
    const unverified = runCli(['verify', '--all', '--unverified', '--workspace', root, '--json']);
    assert.equal(unverified.status, 0, unverified.stderr);
    const verifiedIds = (unverified.json?.result.profiles as { profileId: string; results: { backupId: string; ok: boolean }[] }[]).map((p) => [p.profileId, p.results.map((r) => `${r.backupId}:${r.ok}`)]);
    assert.deepEqual(verifiedIds, [[DEV, [`${devBackup}:true`]], [PROD, [`${prodBackup}:true`]]], 'the test profile\'s backup was verified already');
    const nothingLeft = runCli(['verify', '--all', '--unverified', '--workspace', root]);
    assert.equal(nothingLeft.status, 0);
    assert.match(nothingLeft.stdout, /Every backup \(3\) has been verified already/);

    // A byte of prod's archive changes on the disk: a scrub of everything finds it, and goes on.
    const archive = path.join(root, '.envprofiles/backups', PROD, `${prodBackup}.zip`);
    const bytes = fs.readFileSync(archive);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    fs.writeFileSync(archive, bytes);
    const scrub = runCli(['verify', '--all', '--workspace', root]);
    assert.equal(scrub.status, 1, scrub.stderr);
    assert.match(scrub.stdout, new RegExp(`${prodBackup.replace(/\./g, '\\.')}: FAILED verification:`));
    assert.match(scrub.stdout, /Verified 3 backups of 3 profiles: 2 sound, 1 FAILED\./);
    const catalog = JSON.parse(fs.readFileSync(path.join(root, '.envprofiles/backups', PROD, 'catalog.json'), 'utf8'));
    const recorded = (catalog.backups as { id: string; verified: { ok: boolean } | null }[]).find((b) => b.id === prodBackup);
    assert.equal(recorded?.verified?.ok, false, 'the failure is recorded in the catalog');
    // An archive that is gone cannot be verified at all: it is named with what to do, and the scrub goes on past it.
    fs.renameSync(path.join(root, '.envprofiles/backups', DEV, `${devBackup}.zip`), path.join(root, 'moved-away.zip'));
    const past = runCli(['verify', '--all', '--workspace', root, '--json']);
    assert.equal(past.status, 1);
    const outcomes = (past.json?.result.profiles as { profileId: string; results: { ok: boolean }[]; errors: { backupId: string; code: string }[] }[]).map((p) => [p.profileId, p.results.map((r) => r.ok), p.errors.map((e) => `${e.backupId}:${e.code}`)]);
    assert.deepEqual(outcomes, [[DEV, [], [`${devBackup}:BACKUP_NOT_FOUND`]], [PROD, [false], []], [TEST, [true], []]]);

    for (const args of [['verify', '--all', DEV], ['verify', '--unverified']]) assert.equal(runCli([...args, '--workspace', root]).status, 2, args.join(' '));
  });

  it('prune --all prunes every profile by its own rules (a deleted one too), goes on past one whose catalog disagrees, and exits 1 naming it', async () => {
    const { root } = await demoWorkspace();
    const cli = (...args: string[]) => runCli([...args, '--workspace', root]);
    const keepLastOne = (id: string): void => {
      const file = path.join(root, '.envprofiles/profiles', `${id}.yaml`);
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('    retention_days: 30', '    keep: { last: 1 }'));
    };
    keepLastOne(TEST);
    assert.equal(cli('clone', TEST, 'old_profile').status, 0);
    for (let i = 0; i < 2; i++) assert.equal(cli('backup', '--all', '--full').status, 0);
    const ids = (profile: string): string[] => cli('backups', profile, '--json').json?.result.backups.map((b: { id: string }) => b.id);
    // old_profile is deleted (its newest backup verified first), so its keep rules come from that backup.
    const [oldNewest, oldOldest] = ids('old_profile');
    assert.equal(cli('verify', oldNewest).status, 0);
    assert.equal(cli('delete', 'old_profile').status, 0);
    // A stray archive makes dev's catalog disagree with its folder.
    const devFolder = path.join(root, '.envprofiles/backups', DEV);
    fs.copyFileSync(path.join(devFolder, `${ids(DEV)[0]}.zip`), path.join(devFolder, 'stray.zip'));
    const backupsTree = () => snapshotTree(path.join(root, '.envprofiles/backups'));
    const before = backupsTree();

    const dry = cli('prune', '--all', '--dry-run');
    assert.equal(dry.status, 1, dry.stderr);
    assertSameTree(backupsTree(), before, 'a dry run deletes nothing');
    assert.match(dry.stdout, /^old_profile: 1 kept, 1 to delete$/m);
    assert.match(dry.stdout, new RegExp(`^ {2}The profile file of old_profile is gone: its keep rules were taken from its newest backup, ${oldNewest.replace(/\./g, '\\.')}\\.$`, 'm'));
    assert.match(dry.stdout, new RegExp(`^${PROD}: 2 kept, 0 to delete$`, 'm'));
    assert.match(dry.stdout, new RegExp(`^${TEST}: 1 kept, 1 to delete$`, 'm'));
    assert.match(dry.stdout, new RegExp(`^FAILED ${DEV} \\[CATALOG_MISMATCH\\]: The backup catalog of ${DEV} disagrees with the archives on disk: stray\\.zip is in .* but not in the catalog\\.$`, 'm'));
    assert.match(dry.stdout, /^Dry run: 2 backups of 3 profiles would be deleted \(\d+ KB\)\. Nothing was changed\. 1 profile could not be pruned \(see above\); its backups were all kept\.$/m);
    const json = cli('prune', '--all', '--dry-run', '--json').json?.result;
    assert.deepEqual(json.results.map((r: { profileId: string }) => r.profileId), ['old_profile', PROD, TEST]);
    assert.deepEqual(json.failures.map((f: { profileId: string; code: string }) => [f.profileId, f.code]), [[DEV, 'CATALOG_MISMATCH']]);

    const [testNewest, testOldest] = ids(TEST);
    const devBefore = ids(DEV);
    const pruned = cli('prune', '--all');
    assert.equal(pruned.status, 1, pruned.stderr);
    assert.match(pruned.stdout, /^Deleted 2 backups of 3 profiles, freed \d+ KB\. 1 profile could not be pruned/m);
    assert.deepEqual(ids(TEST), [testNewest]);
    assert.ok(!fs.existsSync(path.join(root, '.envprofiles/backups', TEST, `${testOldest}.zip`)), 'its archive is gone too');
    assert.deepEqual(ids('old_profile'), [oldNewest]);
    assert.ok(!fs.existsSync(path.join(root, '.envprofiles/backups/old_profile', `${oldOldest}.zip`)));
    assert.equal(ids(PROD).length, 2);
    assert.deepEqual(ids(DEV), devBefore, 'the profile that could not be pruned keeps every backup');
    assert.ok(fs.existsSync(path.join(devFolder, 'stray.zip')), 'nor is anything of its folder touched');
    // The rebuild the refusal points at cannot list the stray copy, and says what to do with it.
    const rebuilt = cli('backups', DEV, '--rebuild-catalog');
    assert.equal(rebuilt.status, 0, rebuilt.stderr);
    assert.match(rebuilt.stdout, new RegExp(`^ {2}skipped stray\\.zip: it is an identical copy of ${devBefore[0].replace(/\./g, '\\.')}\\.zip, which is in this folder; remove it, or move it out of the folder$`, 'm'));
    assert.match(rebuilt.stdout, /^ {2}prune refuses while a skipped \.zip file is in .*dev_environment_001: do what each line says$/m);
    assert.equal(cli('prune', DEV, '--dry-run').status, 1);
    // Once it is gone, --all prunes dev too (nothing more goes) and exits 0. A hidden file (macOS's
    // "._" files beside a copied archive) is no backup, for prune as for the rebuild.
    fs.rmSync(path.join(devFolder, 'stray.zip'));
    fs.writeFileSync(path.join(devFolder, `._${devBefore[0]}.zip`), 'Mac OS X resource fork');
    assert.match(cli('prune', '--all', '--dry-run').stdout, /^Dry run: no backup of 4 profiles would be deleted\. Nothing was changed\.$/m);
    const again = cli('prune', '--all');
    assert.equal(again.status, 0, again.stdout);
    assert.match(again.stdout, /^No backup of 4 profiles was deleted: each is kept\.$/m);

    assert.equal(cli('prune', '--all', DEV).status, 2, '--all names no profile');
    const neither = cli('prune');
    assert.equal(neither.status, 2);
    assert.match(neither.stderr, /^error\[USAGE\]: prune needs a profile id, or --all\./);
  });

  it('backup, verify and restore show their steps on stderr when it is a terminal (a real pseudo-terminal, util-linux script), and nothing of them when stderr is a pipe; stdout stays the same plain text', async () => {
    const { root } = await demoWorkspace(2000);
    const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
    // The command's stdout goes to a file, its stderr to the terminal that script(1) records.
    const inTerminal = (...args: string[]): { status: number | null; terminal: string; stdout: string } => {
      const stdoutFile = path.join(root, '.stdout');
      const command = [process.execPath, CLI, ...args, '--workspace', root].map(quote).join(' ');
      const run = spawnSync('script', ['-qec', `${command} > ${quote(stdoutFile)}`, '/dev/null'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...NO_TEST_HOOKS } });
      assert.equal(run.error, undefined, 'util-linux script runs');
      const stdout = fs.readFileSync(stdoutFile, 'utf8');
      fs.rmSync(stdoutFile);
      return { status: run.status, terminal: run.stdout, stdout };
    };
    const steps = (terminal: string): string[] => [...terminal.matchAll(/… ([^\r\n%]+?)(?: \d+ %)?(?:\x1b\[K)?(?=\r|\n)/g)].map((match) => match[1]);

    const backup = inTerminal('backup', DEV, '--full');
    assert.equal(backup.status, 0, backup.terminal);
    for (const step of ['Snapshotting settings (data/dev/settings.sqlite3), strategies (data/dev/strategies.sqlite3), market_data (data/dev/market_data.sqlite3)', 'Archiving settings', 'Archiving market_data']) assert.ok(steps(backup.terminal).includes(step), `${step} in ${JSON.stringify(backup.terminal)}`);
    assert.match(backup.stdout, /^Backed up dev_environment_001: dev_environment_001\.\S+\.full \(full, /);
    const id = /dev_environment_001\.\S+\.full/.exec(backup.stdout)?.[0] as string;

    const verify = inTerminal('verify', id);
    assert.equal(verify.status, 0, verify.terminal);
    for (const step of ['Rebuilding market_data', 'Checking market_data (integrity_check, foreign_key_check)', `Checking every entry of ${id}.zip (SHA-256)`]) assert.ok(steps(verify.terminal).includes(step), `${step} in ${JSON.stringify(verify.terminal)}`);
    assert.match(verify.stdout, new RegExp(`^${id.replace(/\./g, '\\.')} is sound: 3 databases rebuilt`));

    const restore = inTerminal('restore', id);
    assert.equal(restore.status, 0, restore.terminal);
    const restoreSteps = steps(restore.terminal);
    for (const step of ['Taking a safety backup of the current state', 'Archiving market_data', 'Rebuilding market_data']) assert.ok(restoreSteps.includes(step), `${step} in ${JSON.stringify(restore.terminal)}`);
    assert.ok(restoreSteps.some((step) => step.startsWith('Verifying the safety backup dev_environment_001.')), JSON.stringify(restore.terminal));
    assert.match(restore.stdout, /^Restored settings, strategies, market_data of dev_environment_001 from /);
    for (const { stdout } of [backup, verify, restore]) assert.doesNotMatch(stdout, /…|\r|\x1b/, 'no progress on stdout');

    // The same commands with stderr a pipe: no step lines, only what a script would want to read.
    for (const args of [['backup', DEV, '--full'], ['verify', id], ['restore', id]]) {
      const piped = runCli([...args, '--workspace', root]);
      assert.equal(piped.status, 0, piped.stderr);
      assert.doesNotMatch(piped.stderr, /…|\r|\x1b/, `${args[0]}: ${JSON.stringify(piped.stderr)}`);
    }
  });
});

/** Each thread of a process, as [name, nice value], from /proc (this suite runs on Linux). */
function threadNiceValues(pid: number): [string, number][] {
  return fs.readdirSync(`/proc/${pid}/task`).map((thread) => {
    const stat = fs.readFileSync(`/proc/${pid}/task/${thread}/stat`, 'utf8');
    // "tid (name) state ppid ...": the name may hold spaces; nice is the 19th field, the 17th after the name.
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    return [name, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
  });
}
