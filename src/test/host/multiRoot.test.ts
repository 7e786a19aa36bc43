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
});
