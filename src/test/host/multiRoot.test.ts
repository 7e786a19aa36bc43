// Two workspace folders, each with its own profiles (see scripts/run-host-tests.mjs, HOST_FIXTURE=multi-root).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EnvironmentProfilesApi } from '../../extension';
import type { TreeNode } from '../../tree/treeNode';

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
});
