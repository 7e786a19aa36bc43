// An untrusted workspace: the views are read-only, nothing is switched or backed up.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EnvironmentProfilesApi } from '../../extension';
import type { TreeNode } from '../../tree/treeNode';

suite('Environment Profiles in an untrusted workspace', () => {
  let api: EnvironmentProfilesApi;

  suiteSetup(async () => {
    api = (await vscode.extensions.getExtension<EnvironmentProfilesApi>('env-profiles.env-profiles')?.activate()) as EnvironmentProfilesApi;
  });

  test('the workspace is untrusted, and the tree still shows the profiles', () => {
    assert.equal(vscode.workspace.isTrusted, false);
    assert.equal((api.tree.getChildren() as TreeNode[]).length, 3);
  });

  test('switching and backing up are refused, and nothing is written', async () => {
    const root = (vscode.workspace.workspaceFolders ?? [])[0].uri.fsPath;
    api.services.lastError = undefined;
    await vscode.commands.executeCommand('envProfiles.switchProfile', { profileId: 'dev_environment_001' });
    assert.match(api.services.lastError ?? '', /not trusted.*read-only.*switching was not run/);
    await vscode.commands.executeCommand('envProfiles.backupFull', { profileId: 'dev_environment_001' });
    assert.match(api.services.lastError ?? '', /backing up was not run/);
    assert.ok(!fs.existsSync(path.join(root, '.envprofiles/state.json')));
    assert.ok(!fs.existsSync(path.join(root, '.env')));
    assert.ok(!fs.existsSync(path.join(root, '.envprofiles/backups')));
  });
});
