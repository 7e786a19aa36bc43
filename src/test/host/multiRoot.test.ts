// Two workspace folders, each with its own profiles (see scripts/run-host-tests.mjs, HOST_FIXTURE=multi-root).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EnvironmentProfilesApi } from '../../extension';
import type { TreeNode } from '../../tree/treeNode';
import { answeringAsTheUser } from './answering';

const label = (node: TreeNode): string => {
  const l = node.getTreeItem().label;
  return typeof l === 'string' ? l : l?.label ?? '';
};

suite('Environment Profiles in a multi-root workspace', () => {
  let api: EnvironmentProfilesApi;

  suiteSetup(async () => {
    api = (await vscode.extensions.getExtension<EnvironmentProfilesApi>('env-profiles.env-profiles')?.activate()) as EnvironmentProfilesApi;
  });

  test('each folder shows its own profiles under a folder node', () => {
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.name);
    assert.deepEqual(folders, ['trading-bot', 'data-pipeline']);
    const roots = api.tree.getChildren() as TreeNode[];
    assert.deepEqual(roots.map(label), ['trading-bot', 'data-pipeline']);
    assert.deepEqual(roots[0].getChildren().map(label), ['개발 환경', '운영 환경', '테스트 환경']);
    assert.deepEqual(roots[1].getChildren().map(label), ['Pipeline dev']);
  });

  test('a switch in one folder changes only that folder', async () => {
    const pipeline = (vscode.workspace.workspaceFolders ?? [])[1].uri.fsPath;
    await vscode.commands.executeCommand('envProfiles.switchProfile', { folder: pipeline, profileId: 'pipeline_dev' });
    assert.equal(JSON.parse(fs.readFileSync(path.join(pipeline, '.envprofiles/state.json'), 'utf8')).active, 'pipeline_dev');
    const bot = (vscode.workspace.workspaceFolders ?? [])[0].uri.fsPath;
    assert.ok(!fs.existsSync(path.join(bot, '.envprofiles/state.json')), 'the other folder is untouched');
    const roots = api.tree.getChildren() as TreeNode[];
    assert.match(String(roots[1].getTreeItem().description), /active: Pipeline dev/);
  });

  test('Prune Backups of Every Profile prunes every folder, naming each profile with its folder', async () => {
    const [bot, pipeline] = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const TEST = 'test_environment_001';
    const testFile = path.join(bot, '.envprofiles/profiles', `${TEST}.yaml`);
    fs.writeFileSync(testFile, fs.readFileSync(testFile, 'utf8').replace('    retention_days: 30', '    keep: { last: 1 }'));
    fs.appendFileSync(path.join(pipeline, '.envprofiles/profiles/pipeline_dev.yaml'), '  backup_schedule:\n    keep: { last: 1 }\n');
    const catalogOf = (folder: string, id: string): string[] => (JSON.parse(fs.readFileSync(path.join(folder, '.envprofiles/backups', id, 'catalog.json'), 'utf8')) as { backups: { id: string }[] }).backups.map((b) => b.id);
    for (const [folder, profileId] of [[bot, TEST], [pipeline, 'pipeline_dev']]) {
      for (let i = 0; i < 2; i++) assert.ok(await vscode.commands.executeCommand<string>('envProfiles.backupFull', { folder, profileId }), `${profileId} backed up`);
    }
    const newest = [catalogOf(bot, TEST).at(-1), catalogOf(pipeline, 'pipeline_dev').at(-1)];
    const asked = await answeringAsTheUser(undefined, async () => {
      await vscode.commands.executeCommand('envProfiles.pruneAllBackups');
    });
    assert.equal(asked.length, 1);
    assert.match(asked[0].message, /^Delete 2 backups of 2 profiles \(\d+ KB\)/);
    assert.match(asked[0].detail ?? '', new RegExp(`^trading-bot: ${TEST}: 1 of 2 \\(\\d+ KB\\)\ndata-pipeline: pipeline_dev: 1 of 2 \\(\\d+ KB\\)\n`));
    assert.equal(catalogOf(pipeline, 'pipeline_dev').length, 2, 'cancelled: nothing deleted');
    const deleted = await vscode.commands.executeCommand<string[]>('envProfiles.pruneAllBackups', { confirm: true });
    assert.equal(deleted.length, 2);
    assert.deepEqual([catalogOf(bot, TEST), catalogOf(pipeline, 'pipeline_dev')], [[newest[0]], [newest[1]]]);
  });

  test('Initialise makes the store of a folder and offers to create its first profile (before: the message alone)', async () => {
    const pipeline = (vscode.workspace.workspaceFolders ?? [])[1].uri.fsPath;
    const store = path.join(pipeline, '.envprofiles');
    const kept = path.join(pipeline, 'envprofiles.kept');
    // Copied away and back, not renamed: a file watcher keeps following a renamed folder under its old name.
    fs.cpSync(store, kept, { recursive: true });
    fs.rmSync(store, { recursive: true });
    const window = vscode.window as { showInformationMessage: unknown };
    const { showInformationMessage } = window;
    const told: string[][] = [];
    window.showInformationMessage = async (message: string, ...items: string[]) => void told.push([message, ...items]);
    try {
      await vscode.commands.executeCommand('envProfiles.initialise', { folder: pipeline });
      assert.deepEqual(told, [['Initialised Environment Profiles in data-pipeline: created .envprofiles/, .envprofiles/profiles/, .envprofiles/templates/, .envprofiles/config.yaml, .envprofiles/.gitignore. Next, create its first profile.', 'Create Profile…']]);
      assert.ok(fs.statSync(path.join(store, 'config.yaml')).isFile());
    } finally {
      window.showInformationMessage = showInformationMessage;
      fs.rmSync(store, { recursive: true, force: true });
      fs.cpSync(kept, store, { recursive: true });
      fs.rmSync(kept, { recursive: true });
    }
    const deadline = Date.now() + 10000;
    while (!(api.tree.getChildren() as TreeNode[])[1].getChildren().map(label).includes('Pipeline dev')) {
      if (Date.now() > deadline) assert.fail('the tree never showed Pipeline dev again');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  test("a folder's first profile asks for its databases: the SQLite files found in the folder, all picked, or NAME=PATH pairs typed (before: refused, its hint a CLI option)", async () => {
    const pipeline = (vscode.workspace.workspaceFolders ?? [])[1].uri.fsPath;
    const profiles = path.join(pipeline, '.envprofiles/profiles');
    const kept = path.join(pipeline, 'pipeline_dev.yaml.kept');
    fs.renameSync(path.join(profiles, 'pipeline_dev.yaml'), kept);
    const window = vscode.window as { showQuickPick: unknown; showInputBox: unknown };
    const { showQuickPick, showInputBox } = window;
    const offered: { items: vscode.QuickPickItem[]; options?: vscode.QuickPickOptions }[] = [];
    const typedPrompts: (string | undefined)[] = [];
    try {
      const folderNode = (): TreeNode => (api.tree.getChildren() as TreeNode[])[1];
      // Its profiles' names (the deleted profile whose backups the test above made is listed by its id).
      const shows = async (what: string, names: string[]): Promise<void> => {
        const deadline = Date.now() + 10000;
        const shown = (): string[] => folderNode().getChildren().map(label).filter((l) => l !== 'pipeline_dev');
        while (JSON.stringify(shown()) !== JSON.stringify(names)) {
          if (Date.now() > deadline) assert.fail(`the tree never showed ${what}: ${folderNode().getChildren().map(label).join(', ')}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await shows('no profile in data-pipeline', []);
      // The files found: the user keeps them as picked.
      window.showQuickPick = async (items: readonly vscode.QuickPickItem[], options?: vscode.QuickPickOptions) => {
        offered.push({ items: [...items], options });
        return options?.canPickMany ? items.filter((item) => item.picked) : items[0];
      };
      assert.equal(await vscode.commands.executeCommand('envProfiles.createProfile', { folder: pipeline, newId: 'first_env', type: 'DEVELOPMENT', name: 'First' }), 'first_env');
      assert.deepEqual(offered.map((o) => [o.options?.title, o.items.map((i) => `${i.label} ${i.description}`)]), [['New profile (4/4): its databases', ['jobs db/jobs.sqlite3']]]);
      assert.match(fs.readFileSync(path.join(profiles, 'first_env.yaml'), 'utf8'), /\n {2}databases:\n {4}jobs: db\/jobs\.sqlite3\n/);
      await shows('the first profile', ['First']);
      fs.rmSync(path.join(profiles, 'first_env.yaml'));
      await shows('no profile again', []);
      // None kept: typed instead, the whole input asked (no arguments), and a file that does not exist yet made empty, as the last pick offers.
      window.showQuickPick = async (items: readonly (vscode.QuickPickItem & { initialise?: { kind: string } })[], options?: vscode.QuickPickOptions) =>
        options?.canPickMany ? [] : items.find((item) => item.label === 'DEVELOPMENT' || item.initialise?.kind === 'empty');
      window.showInputBox = async (options?: vscode.InputBoxOptions) => {
        typedPrompts.push(options?.title);
        if (options?.title === 'New profile (1/4): id') return 'typed_env';
        if (options?.title === 'New profile (3/4): name') {
          // A name on two lines, or none, is said as it is typed (before: only the create that followed refused it).
          assert.match(String(await options?.validateInput?.('Typed\nTwice')), /^"Typed\\nTwice" \(in JSON notation\) holds a line break or another control character: a name is shown on one line/);
          assert.equal(await options?.validateInput?.('  '), 'Give the profile a name.');
          assert.equal(await options?.validateInput?.('Typed'), undefined);
          return 'Typed';
        }
        assert.equal(await options?.validateInput?.('jobs=db/jobs.sqlite3, jobs=x.db'), '"jobs" is given twice.');
        assert.equal(await options?.validateInput?.('db/jobs.sqlite3'), '"db/jobs.sqlite3" is not NAME=PATH.');
        // A path the profile could not have is said as it is typed too (before: by the create, as "--db jobs: …").
        assert.equal(await options?.validateInput?.('jobs=db/jobs.sqlite3, audit=../audit.sqlite3'), 'audit: "../audit.sqlite3" points outside the workspace folder.');
        assert.equal(await options?.validateInput?.('jobs=.envprofiles/jobs.sqlite3'), 'jobs: ".envprofiles/jobs.sqlite3" is inside .envprofiles, where this tool keeps its own files.');
        return 'jobs=db/jobs.sqlite3, audit=db/audit.sqlite3';
      };
      assert.equal(await vscode.commands.executeCommand('envProfiles.createProfile', { folder: pipeline }), 'typed_env');
      assert.deepEqual(typedPrompts, ['New profile (1/4): id', 'New profile (3/4): name', 'New profile (4/4): its databases']);
      assert.match(fs.readFileSync(path.join(profiles, 'typed_env.yaml'), 'utf8'), /\n {4}jobs: db\/jobs\.sqlite3\n {4}audit: db\/audit\.sqlite3\n/);
      assert.ok(fs.statSync(path.join(pipeline, 'db/audit.sqlite3')).isFile(), 'made empty, as picked');
      for (const end of ['', '-wal', '-shm']) fs.rmSync(path.join(pipeline, `db/audit.sqlite3${end}`), { force: true });
      fs.rmSync(path.join(profiles, 'typed_env.yaml'));
    } finally {
      window.showQuickPick = showQuickPick;
      window.showInputBox = showInputBox;
      fs.renameSync(kept, path.join(profiles, 'pipeline_dev.yaml'));
    }
  });
});
