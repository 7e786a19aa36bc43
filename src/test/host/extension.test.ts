// Tests of the extension inside a real VS Code extension host (see scripts/run-host-tests.mjs).
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { idValidator } from '../../commands/profileCommands';
import type { EnvironmentProfilesApi } from '../../extension';
import type { TreeNode } from '../../tree/treeNode';
import { answeringAsTheUser, collectingLogLines, collectingProgress } from './answering';
import { withEntryDamaged } from '../../../test/support/entryDamage';

const EXTENSION_ID = 'env-profiles.env-profiles';
const DEV = 'dev_environment_001';
const PROD = 'prod_environment_001';
const TEST = 'test_environment_001';

let api: EnvironmentProfilesApi;
const workspace = (): string => (vscode.workspace.workspaceFolders ?? [])[0].uri.fsPath;

// 30 s: file-watcher events can come late on a busy machine (a run once waited more than 15 s); a
// probe that holds returns at once, so only a failure waits this long.
async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function labelOf(node: TreeNode): string {
  const label = node.getTreeItem().label;
  return typeof label === 'string' ? label : label?.label ?? '';
}

/** An entry of a ZIP archive as Info-ZIP's unzip reads it. */
function execUnzip(archive: string, entry: string): string {
  const run = spawnSync('unzip', ['-p', archive, entry], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

function roots(): TreeNode[] {
  return api.tree.getChildren() as TreeNode[];
}

function child(node: TreeNode, label: string): TreeNode {
  const found = node.getChildren().find((c) => labelOf(c) === label);
  assert.ok(found, `no child "${label}" under ${labelOf(node)}: ${node.getChildren().map(labelOf).join(', ')}`);
  return found;
}

suite('Environment Profiles in a real VS Code', () => {
  suiteSetup(async () => {
    const extension = vscode.extensions.getExtension<EnvironmentProfilesApi>(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is installed in the host`);
    api = await extension.activate();
    assert.equal(extension.isActive, true);
  });

  test('activates on the fixture workspace and reads it with node:sqlite', () => {
    assert.ok(api.services.model.initialised().length === 1);
    assert.equal(api.services.model.all()[0].context.engine.name, 'node:sqlite');
    assert.ok(api.activatedInMs < 5000, `activated in ${api.activatedInMs} ms`);
  });

  test('every command in package.json is registered, and every registered command is declared', async () => {
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as { contributes: { commands: { command: string }[] } };
    const declared = manifest.contributes.commands.map((c) => c.command).sort();
    // VS Code adds its own commands for the view (envProfiles.profiles.focus, …); those are not ours.
    const registered = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith('envProfiles.') && !c.startsWith('envProfiles.profiles.')).sort();
    assert.deepEqual(registered, declared);
    assert.ok(declared.length >= 19);
  });

  test('the tree lists the profiles with their databases, grouped configuration and backups', () => {
    const profiles = roots();
    assert.deepEqual(profiles.map(labelOf), ['개발 환경', '운영 환경', '테스트 환경']);
    const prod = profiles[1].getTreeItem();
    assert.match(String(prod.description), /prod_environment_001 · PRODUCTION · protected/);
    assert.equal(prod.contextValue, 'envProfiles.profile');
    const dev = profiles[0];
    assert.deepEqual(dev.getChildren().map(labelOf), ['Databases', 'Configuration', 'Backups']);
    const databases = child(dev, 'Databases').getChildren();
    assert.deepEqual(databases.map(labelOf), ['settings', 'strategies', 'market_data']);
    assert.match(String(databases[2].getTreeItem().description), /KB · WAL · valid/);
    const configuration = child(dev, 'Configuration').getChildren();
    assert.deepEqual(configuration.map(labelOf), ['Logging', 'API', 'System']);
    assert.deepEqual(child(dev, 'Configuration').getChildren()[0].getChildren().map(labelOf), ['LOG_LEVEL = DEBUG']);
    assert.deepEqual(child(dev, 'Backups').getChildren().map(labelOf), ['No backups yet']);
    // The section's tooltip says what prune keeps, from the profile's backup_schedule.
    assert.equal(child(dev, 'Backups').getTreeItem().tooltip, 'Keep rules: within 30 days');
  });

  test('the status bar shows no environment before the first switch', () => {
    assert.equal(api.statusBar.item.text, '$(database) No environment');
  });

  test('switching through the command changes the status bar text and colour and the files on disk', async () => {
    const result = await vscode.commands.executeCommand('envProfiles.switchProfile', { profileId: PROD, confirm: PROD });
    assert.equal(result, PROD);
    await waitFor('the status bar to show production', () => api.statusBar.item.text === '$(database) PROD · 운영 환경');
    assert.equal((api.statusBar.item.backgroundColor as unknown as { id: string } | undefined)?.id, 'statusBarItem.errorBackground');
    const env = fs.readFileSync(path.join(workspace(), '.env'), 'utf8');
    assert.match(env, /ENVPROFILE_ID='prod_environment_001'/);
    assert.equal(fs.readlinkSync(path.join(workspace(), 'data/settings.sqlite3')), 'prod/settings.sqlite3');
    assert.match(String((api.statusBar.item.tooltip as vscode.MarkdownString).value), /settings: `data\/prod\/settings\.sqlite3`/);
    await vscode.commands.executeCommand('envProfiles.switchProfile', { profileId: TEST });
    await waitFor('the status bar to show testing', () => api.statusBar.item.text === '$(database) TEST · 테스트 환경');
    assert.equal((api.statusBar.item.backgroundColor as unknown as { id: string } | undefined)?.id, 'statusBarItem.warningBackground');
    assert.equal(roots()[2].getTreeItem().contextValue, 'envProfiles.profile.active');
    // The active profile again: its outputs are written again, and the message says so (not "Switched").
    const window = vscode.window as { showInformationMessage: unknown };
    const { showInformationMessage } = window;
    const told: string[] = [];
    window.showInformationMessage = async (message: string) => void told.push(message);
    try {
      assert.equal(await vscode.commands.executeCommand('envProfiles.switchProfile', { profileId: TEST }), TEST);
    } finally {
      window.showInformationMessage = showInformationMessage;
    }
    assert.equal(told.length, 1, told.join('\n'));
    assert.match(told[0], /^테스트 환경 \(TESTING\) was already the active profile; its outputs were written again in \d+ ms\.$/);
    // A warning of the profile's validation (here a database file dev uses too) does not refuse the switch: a
    // warning message says it (before: nothing).
    const testFile = path.join(workspace(), '.envprofiles/profiles', `${TEST}.yaml`);
    const goodTest = fs.readFileSync(testFile, 'utf8');
    fs.writeFileSync(testFile, goodTest.replace('data/test/market_data.sqlite3', 'data/dev/market_data.sqlite3'));
    const warnings = vscode.window as { showWarningMessage: unknown };
    const { showWarningMessage } = warnings;
    const warned: string[][] = [];
    warnings.showWarningMessage = async (message: string, ...items: string[]) => void warned.push([message, ...items]);
    try {
      assert.equal(await vscode.commands.executeCommand('envProfiles.switchProfile', { profileId: TEST }), TEST);
    } finally {
      warnings.showWarningMessage = showWarningMessage;
      fs.writeFileSync(testFile, goodTest);
    }
    assert.equal(warned.length, 1, JSON.stringify(warned));
    assert.match(warned[0][0], new RegExp(`^테스트 환경 \\(TESTING\\) was already the active profile; its outputs were written again in \\d+ ms\\. Warning: data/dev/market_data\\.sqlite3 is also ${DEV}'s "market_data": the two profiles share this one file`));
    assert.deepEqual(warned[0].slice(1), ['Show Log']);
    // The env file edited by hand since: the switch keeps a copy, says where, and opens it when asked.
    const envFile = path.join(workspace(), '.env');
    fs.appendFileSync(envFile, 'API_KEY=added-by-hand\n');
    const edited = fs.readFileSync(envFile, 'utf8');
    const offered: string[][] = [];
    window.showInformationMessage = async (message: string, ...items: string[]) => {
      offered.push([message, ...items]);
      return items[0];
    };
    try {
      assert.equal(await vscode.commands.executeCommand('envProfiles.switchProfile', { profileId: TEST }), TEST);
    } finally {
      window.showInformationMessage = showInformationMessage;
    }
    assert.equal(offered.length, 1, JSON.stringify(offered));
    const saved = /The previous env file had been edited since the last switch wrote it; it was saved to (\S+)\.$/.exec(offered[0][0])?.[1];
    assert.ok(saved, offered[0][0]);
    assert.deepEqual(offered[0].slice(1), ['Open Saved Copy']);
    assert.equal(fs.readFileSync(path.join(workspace(), saved), 'utf8'), edited);
    await waitFor('the saved copy open in an editor', () => vscode.window.activeTextEditor?.document.uri.fsPath === path.join(workspace(), saved));
    assert.doesNotMatch(fs.readFileSync(envFile, 'utf8'), /API_KEY/);
  });

  test('a damaged state.json shows the environment as unknown, not as none; a switch writes it again', async () => {
    const state = path.join(workspace(), '.envprofiles/state.json');
    const before = fs.readFileSync(state, 'utf8');
    fs.writeFileSync(state, '{"active": "test_envi');
    await vscode.commands.executeCommand('envProfiles.refresh');
    await waitFor('the status bar to show the environment as unknown', () => api.statusBar.item.text === '$(warning) Environment unknown');
    assert.match(String((api.statusBar.item.tooltip as vscode.MarkdownString).value), /is unknown: `\.envprofiles\/state\.json` cannot be read \(damaged\)/);
    await vscode.commands.executeCommand('envProfiles.switchProfile', { profileId: TEST });
    await waitFor('the status bar to show testing again', () => api.statusBar.item.text === '$(database) TEST · 테스트 환경');
    assert.equal(JSON.parse(fs.readFileSync(state, 'utf8')).active, JSON.parse(before).active);
  });

  test('new terminals get the active profile\'s variables; the setting turns this off', async () => {
    const folder = (vscode.workspace.workspaceFolders ?? [])[0];
    const scoped = api.services.terminals.scopedFor(folder);
    assert.equal(scoped.get('ENVPROFILE_ID')?.value, TEST);
    assert.equal(scoped.get('API_MODE')?.value, 'sandbox');
    assert.equal(scoped.get('ENVPROFILE_DB_SETTINGS')?.value, path.join(workspace(), 'data/test/settings.sqlite3'));
    await vscode.workspace.getConfiguration('envProfiles').update('terminal.applyVariables', false, vscode.ConfigurationTarget.Workspace);
    try {
      await waitFor('the variables to be withdrawn', () => scoped.get('ENVPROFILE_ID') === undefined);
    } finally {
      await vscode.workspace.getConfiguration('envProfiles').update('terminal.applyVariables', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await waitFor('the variables to come back', () => scoped.get('ENVPROFILE_ID')?.value === TEST);
  });

  test('terminals open before a switch are offered a relaunch, and a relaunched one has the new profile\'s variables', async () => {
    const written = path.join(workspace(), 'relaunched-terminal.txt');
    // A shell that reads no rc files: a user's ~/.bashrc (here it runs pyenv, which waits up to 60 s on a
    // lock a killed shell left) is not what is tested. The relaunch keeps the terminal's options.
    const before = vscode.window.createTerminal({ name: 'app shell', shellPath: '/bin/bash', shellArgs: ['--norc', '--noprofile'] });
    await before.processId;
    const terminals = api.services.terminals;
    const ask = terminals.askToRelaunch;
    let asked = '';
    terminals.askToRelaunch = async (message, action) => {
      asked = message;
      return action;
    };
    try {
      await vscode.commands.executeCommand('envProfiles.switchProfile', { profileId: DEV });
      await waitFor('the offer to relaunch', () => asked);
      assert.match(asked, /^1 open terminal \("app shell"\) still has the previous environment; new terminals get 개발 환경\.$/);
      const relaunched = await waitFor('the relaunched terminal', () => vscode.window.terminals.find((t) => t.name === 'app shell' && t !== before));
      await waitFor('the stale terminal to close', () => !vscode.window.terminals.includes(before));
      await relaunched.processId;
      relaunched.sendText(`echo "$ENVPROFILE_ID $API_MODE" > '${written}'`);
      const line = await waitFor('the relaunched terminal to write its variables', () => fs.existsSync(written) && fs.readFileSync(written, 'utf8').trim());
      assert.equal(line, `${DEV} sandbox`);
      relaunched.dispose();
    } finally {
      terminals.askToRelaunch = ask;
      fs.rmSync(written, { force: true });
    }
    // Back to where the next tests expect to be; no terminal is open now, so nothing is offered.
    asked = '';
    await vscode.commands.executeCommand('envProfiles.switchProfile', { profileId: TEST });
    await waitFor('the status bar to show testing', () => api.statusBar.item.text === '$(database) TEST · 테스트 환경');
  });

  test('a failing operation shows an error message (and logs it)', async () => {
    api.services.lastError = undefined;
    await vscode.commands.executeCommand('envProfiles.switchProfile', { profileId: PROD, confirm: 'not-the-id' });
    assert.match(api.services.lastError ?? '', /PRODUCTION profile; switching to it needs confirmation/);
    api.services.lastError = undefined;
    await vscode.commands.executeCommand('envProfiles.switchProfile', { profileId: 'no_such_profile' });
    assert.match(api.services.lastError ?? '', /No valid profile "no_such_profile"/);
  });

  test('a backup made through the command appears under the profile, newest first', async () => {
    const id = await vscode.commands.executeCommand<string>('envProfiles.backupFull', { profileId: DEV });
    assert.ok(id);
    // It ran in a child process, at lowered priority; the extension host kept its own.
    const run = api.services.lastChildProcess;
    assert.equal(run?.command, 'backup');
    assert.notEqual(run?.pid, process.pid);
    assert.equal(run?.priority, 10);
    assert.equal(os.getPriority(), 0, 'the extension host keeps its priority');
    const backups = await waitFor('the backup in the tree', () => {
      const nodes = child(roots()[0], 'Backups').getChildren();
      return nodes.length === 1 && labelOf(nodes[0]) !== 'No backups yet' ? nodes : undefined;
    });
    assert.match(String(backups[0].getTreeItem().description), /^full · .* · not verified$/);
    // The section says whether the profile is covered, as `envprofiles list` does.
    assert.equal(child(roots()[0], 'Backups').getTreeItem().description, '1 · none verified');
    assert.equal(await vscode.commands.executeCommand('envProfiles.verifyBackup', { backupId: id }), true);
    assert.equal(api.services.lastChildProcess?.command, 'verify');
    await waitFor('the backup to show verified', () => /verified$/.test(String(child(roots()[0], 'Backups').getChildren()[0].getTreeItem().description)) && !/not verified/.test(String(child(roots()[0], 'Backups').getChildren()[0].getTreeItem().description)));
    assert.match(String(child(roots()[0], 'Backups').getTreeItem().description), /^1 · last verified \d+ s ago$/);
    // An incremental hashes its pages on a worker thread inside the extension host, and verify checks
    // what it rebuilds to page by page.
    const incremental = await vscode.commands.executeCommand<string>('envProfiles.backupIncremental', { profileId: DEV });
    assert.match(String(incremental), /\.incr$/);
    assert.equal(await vscode.commands.executeCommand('envProfiles.verifyBackup', { backupId: incremental }), true);
    await waitFor('the incremental first, verified', () => {
      const nodes = child(roots()[0], 'Backups').getChildren();
      return nodes.length === 2 && /^incremental 2 in chain · .* · verified$/.test(String(nodes[0].getTreeItem().description));
    });
  });

  test('a lost backup catalog is rebuilt from the archives through the command, and the tree lists them again', async () => {
    fs.rmSync(path.join(workspace(), '.envprofiles/backups', DEV, 'catalog.json'));
    // The tree does not just say "No backups yet": it says the list is incomplete, and a click rebuilds.
    const [warning] = await waitFor('the backups gone from the tree, with a warning above', () => {
      const nodes = child(roots()[0], 'Backups').getChildren();
      return nodes.length === 2 && labelOf(nodes[1]) === 'No backups yet' ? nodes : undefined;
    });
    const item = warning.getTreeItem();
    assert.match(String(item.label), /^This list may be incomplete: the catalog disagrees with its folder: \S+\.full\.zip is in \S+ but not in the catalog \(and 1 more\)$/);
    assert.equal(item.command?.command, 'envProfiles.rebuildBackupCatalog');
    assert.deepEqual(item.command?.arguments, [{ folder: workspace(), profileId: DEV }]);
    // The message after the rebuild offers to verify them (answered by the test: nothing can click it here).
    const window = vscode.window as { showInformationMessage: unknown };
    const { showInformationMessage } = window;
    const offered: string[][] = [];
    window.showInformationMessage = async (message: string, ...items: string[]) => {
      offered.push([message, ...items]);
      return undefined;
    };
    try {
      assert.equal(await vscode.commands.executeCommand('envProfiles.rebuildBackupCatalog', { ...item.command?.arguments?.[0], confirm: DEV }), 2);
    } finally {
      window.showInformationMessage = showInformationMessage;
    }
    assert.deepEqual(offered.map((o) => o.slice(1)), [['Verify Them']]);
    assert.match(offered[0][0], /: 2 backups\. 2 of them are not verified\.$/);
    await waitFor('both backups back, not verified, and no warning', () => {
      const nodes = child(roots()[0], 'Backups').getChildren();
      return nodes.length === 2 && nodes.every((n) => /· not verified$/.test(String(n.getTreeItem().description)));
    });
    // What "Verify Them" runs: every unverified backup of the profile, in a child process.
    api.services.lastError = undefined;
    assert.equal(await vscode.commands.executeCommand('envProfiles.verifyUnverifiedBackups', { profileId: DEV }), 0, 'none failed');
    assert.equal(api.services.lastError, undefined);
    await waitFor('both backups verified in the tree', () => {
      const nodes = child(roots()[0], 'Backups').getChildren();
      return nodes.length === 2 && nodes.every((n) => /· verified$/.test(String(n.getTreeItem().description)));
    });
  });

  test('a backup archive on disk, copied out of the backups folder: picked as "Archive file…" it verifies, and by its path it restores as a new profile', async () => {
    const folder = path.join(workspace(), '.envprofiles/backups', DEV);
    const [incremental] = fs.readdirSync(folder).filter((name) => name.endsWith('.incr.zip'));
    assert.ok(incremental, 'an incremental from the tests above');
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'envprofiles-sent-'));
    const archive = path.join(elsewhere, 'sent.zip');
    fs.copyFileSync(path.join(folder, incremental), archive);
    // Picked through the command's own quick pick and file dialog (answered by the test).
    const window = vscode.window as unknown as Record<string, unknown>;
    const { showQuickPick, showOpenDialog, showInformationMessage } = window;
    const offered: string[] = [];
    const told: string[] = [];
    window.showInformationMessage = async (message: string) => void told.push(message);
    window.showQuickPick = async (items: readonly (vscode.QuickPickItem & { archiveFile?: boolean })[]) => {
      offered.push(...items.map((i) => i.label));
      return items.find((i) => i.archiveFile);
    };
    window.showOpenDialog = async (options: vscode.OpenDialogOptions) => {
      assert.deepEqual(options.filters, { 'Backup archives': ['zip'] });
      return [vscode.Uri.file(archive)];
    };
    try {
      api.services.lastError = undefined;
      assert.equal(await vscode.commands.executeCommand('envProfiles.verifyBackup'), true, api.services.lastError);
    } finally {
      window.showQuickPick = showQuickPick;
      window.showOpenDialog = showOpenDialog;
      window.showInformationMessage = showInformationMessage;
    }
    // A copy's result is not recorded in the catalog, and the message says so.
    assert.deepEqual(told.map((m) => m.replace(/^Backup \S+ is sound: \d+ databases? rebuilt and checked\./, '')), [` Not recorded: ${archive} is not an archive this workspace's catalog lists (a copy, or one from elsewhere), so the result is not kept; only a listed archive's verification is recorded.`]);
    assert.equal(offered[offered.length - 1], '$(file-zip) Archive file…', 'offered after the listed backups');
    assert.ok(offered.length > 1);
    const run = api.services.lastChildProcess;
    assert.equal(run?.command, 'verify');
    // Its parent is found in the backups folder; restored by its path as a new profile.
    const newId = 'dev_from_archive';
    try {
      assert.equal(await vscode.commands.executeCommand('envProfiles.restoreBackupAsNew', { archive, newId }), newId, api.services.lastError);
      assert.ok(fs.existsSync(path.join(workspace(), '.envprofiles/profiles', `${newId}.yaml`)));
      assert.ok(fs.statSync(path.join(workspace(), 'data', newId, 'market_data.sqlite3')).size > 0);
    } finally {
      fs.rmSync(path.join(workspace(), '.envprofiles/profiles', `${newId}.yaml`), { force: true });
      fs.rmSync(path.join(workspace(), 'data', newId), { recursive: true, force: true });
      fs.rmSync(elsewhere, { recursive: true, force: true });
      await vscode.commands.executeCommand('envProfiles.refresh');
    }
  });

  test('a backup whose chain lost an archive says it cannot be restored (and which archive is missing), until it is back', async () => {
    const folder = path.join(workspace(), '.envprofiles/backups', DEV);
    const [full] = fs.readdirSync(folder).filter((name) => name.endsWith('.full.zip'));
    assert.ok(full, 'a full backup from the tests above');
    const fullId = full.replace(/\.zip$/, '');
    const aside = path.join(os.tmpdir(), `envprofiles-aside-${process.pid}.zip`);
    fs.renameSync(path.join(folder, full), aside);
    try {
      await vscode.commands.executeCommand('envProfiles.refresh');
      const descriptions = await waitFor('the missing archive in the Backups list', () => {
        const texts = child(roots()[0], 'Backups').getChildren().map((n) => String(n.getTreeItem().description ?? ''));
        return texts.some((t) => t.endsWith(' · its archive is missing')) ? texts : undefined;
      });
      assert.ok(descriptions.some((t) => t.startsWith('incremental') && t.endsWith(` · cannot be restored: ${fullId} is missing`)), descriptions.join('\n'));
    } finally {
      fs.renameSync(aside, path.join(folder, full));
    }
    await vscode.commands.executeCommand('envProfiles.refresh');
    await waitFor('the list whole again', () => child(roots()[0], 'Backups').getChildren().every((n) => !/missing/.test(String(n.getTreeItem().description ?? ''))));
  });

  test('a verification that finds the full under an incremental damaged records it FAILED, and the incrementals on it say they cannot be restored', async () => {
    const folder = path.join(workspace(), '.envprofiles/backups', DEV);
    const catalog = path.join(folder, 'catalog.json');
    const listed = (JSON.parse(fs.readFileSync(catalog, 'utf8')) as { backups: { id: string; chain: string[] }[] }).backups;
    const incrementalId = listed.find((e) => e.chain.length > 0)?.id;
    assert.ok(incrementalId, 'an incremental from the tests above');
    const fullId = listed.find((e) => e.id === incrementalId)?.chain[0] as string;
    const full = `${fullId}.zip`;
    const [catalogBefore, fullBefore] = [fs.readFileSync(catalog), fs.readFileSync(path.join(folder, full))];
    fs.writeFileSync(path.join(folder, full), withEntryDamaged(fullBefore, 'db/market_data.sqlite3'));
    try {
      api.services.lastError = undefined;
      const { value, lines } = await collectingLogLines(api.services.log, () => Promise.resolve(vscode.commands.executeCommand('envProfiles.verifyBackup', { backupId: incrementalId })));
      assert.equal(value, undefined, 'the command failed');
      assert.match(String(api.services.lastError), new RegExp(`Backup ${incrementalId.replace(/\./g, '\\.')} failed verification: .*${full.replace(/\./g, '\\.')}`));
      assert.ok(lines.some((l) => l.startsWith('error: ') && l.endsWith(`recorded as FAILED too: ${fullId}, which it builds on: its archive changed since it was written`)), lines.join('\n'));
      await vscode.commands.executeCommand('envProfiles.refresh');
      const descriptions = await waitFor('the failed full in the Backups list', () => {
        const texts = child(roots()[0], 'Backups').getChildren().map((n) => String(n.getTreeItem().description ?? ''));
        return texts.some((t) => t.startsWith('full') && t.endsWith(' · verification FAILED')) ? texts : undefined;
      });
      assert.ok(descriptions.some((t) => t.startsWith('incremental') && t.endsWith(` · do not count on it: ${fullId}, which it builds on, FAILED verification`)), descriptions.join('\n'));
      // The backup picker (Restore, Verify from the palette) says so too.
      let offered: readonly vscode.QuickPickItem[] = [];
      await answeringAsTheUser<vscode.QuickPickItem>((items) => ((offered = items), undefined), async () => {
        await vscode.commands.executeCommand('envProfiles.verifyBackup');
      });
      const line = offered.find((item) => item.detail === incrementalId);
      assert.ok(line?.description?.endsWith(` · do not count on it: ${fullId}, which it builds on, FAILED verification`), JSON.stringify(line));
    } finally {
      fs.writeFileSync(path.join(folder, full), fullBefore);
      fs.writeFileSync(catalog, catalogBefore);
    }
    await vscode.commands.executeCommand('envProfiles.refresh');
    await waitFor('the list as it was', () => child(roots()[0], 'Backups').getChildren().every((n) => !/FAILED/.test(String(n.getTreeItem().description ?? ''))));
  });

  test('Show Backup Manifest, Reveal Backup Archive and Copy Backup Archive Path: from a backup in the tree, or an archive outside the workspace; a damaged or missing archive is named', async () => {
    const node = child(roots()[0], 'Backups').getChildren()[0];
    const id = (node as unknown as { entry: { id: string } }).entry.id;
    const archive = path.join(workspace(), '.envprofiles/backups', DEV, `${id}.zip`);
    assert.ok(fs.existsSync(archive));
    assert.ok(((node.getTreeItem().tooltip as vscode.MarkdownString).value).includes(`- archive: \`${archive}\``), 'the tooltip names the archive');
    api.services.lastError = undefined;
    await vscode.env.clipboard.writeText('');
    assert.equal(await vscode.commands.executeCommand('envProfiles.copyArchivePath', node), archive);
    assert.equal(await vscode.env.clipboard.readText(), archive);
    // Its manifest, read out of the archive, in a read-only JSON document.
    const manifest = await vscode.commands.executeCommand<vscode.TextDocument>('envProfiles.showBackupManifest', node);
    assert.equal(manifest.uri.scheme, 'envprofiles-manifest');
    assert.equal(manifest.languageId, 'json');
    assert.equal(vscode.window.activeTextEditor?.document, manifest);
    const shown = JSON.parse(manifest.getText()) as { backupId: string; profileId: string; files: { role: string; entrySha256?: string; sha256?: string }[] };
    assert.deepEqual([shown.backupId, shown.profileId], [id, DEV]);
    assert.deepEqual(shown.files.filter((f) => f.role === 'database').length, 3);
    assert.ok(shown.files.every((f) => /^[0-9a-f]{64}$/.test(f.role === 'database' ? f.entrySha256 ?? '' : f.sha256 ?? '')), manifest.getText());
    assert.equal(manifest.getText(), `${JSON.stringify(JSON.parse(execUnzip(archive, 'manifest.json')), null, 2)}\n`, 'the same as unzip reads');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    // The default backups folder is in the workspace: the Explorer shows the archive.
    assert.equal(await vscode.commands.executeCommand('envProfiles.revealArchive', node), 'explorer');
    assert.equal(api.services.lastError, undefined);
    // An archive kept elsewhere: this host is VS Code in a browser (code-server), which cannot open the
    // server's file manager, so a message names the path (a desktop VS Code opens the file manager).
    const outside = path.join(os.tmpdir(), `envprofiles-reveal-${process.pid}.zip`);
    fs.copyFileSync(archive, outside);
    try {
      const expected = vscode.env.uiKind === vscode.UIKind.Web || vscode.env.remoteName !== undefined ? 'message' : 'file-manager';
      assert.equal(await vscode.commands.executeCommand('envProfiles.revealArchive', { archive: outside }), expected);
      assert.equal(await vscode.commands.executeCommand('envProfiles.copyArchivePath', { archive: outside }), outside);
      assert.equal(api.services.lastError, undefined);
      // A damaged archive: its manifest is not shown, and the error says what is wrong with the file.
      fs.truncateSync(outside, fs.statSync(outside).size - 100);
      assert.equal(await vscode.commands.executeCommand('envProfiles.showBackupManifest', { archive: outside }), undefined);
      assert.match(api.services.lastError ?? '', /is not a readable ZIP archive/);
      api.services.lastError = undefined;
    } finally {
      fs.rmSync(outside, { force: true });
    }
    // An archive the catalog lists but that is gone: an error that names it and the way out.
    const aside = `${archive}.aside`;
    fs.renameSync(archive, aside);
    try {
      assert.equal(await vscode.commands.executeCommand('envProfiles.revealArchive', node), undefined);
      assert.match(api.services.lastError ?? '', new RegExp(`^Backup ${id.replace(/\./g, '\\.')} is in the catalog, but its archive \\S+ is missing \\(moved or deleted\\)\\. Nothing was changed\\. Put the archive back`));
    } finally {
      fs.renameSync(aside, archive);
    }
  });

  test('an error that names its fix offers it as a button: an unreadable catalog, and Rebuild Backup Catalog… runs for that profile', async () => {
    const catalog = path.join(workspace(), '.envprofiles/backups', DEV, 'catalog.json');
    const before = fs.readFileSync(catalog);
    fs.writeFileSync(catalog, '{ "backups": [');
    const window = vscode.window as { showErrorMessage: unknown };
    const { showErrorMessage } = window;
    const shown: { message: string; items: string[] }[] = [];
    // Nothing can click the error's button here: the test chooses it, as the user would.
    window.showErrorMessage = async (message: string, ...items: string[]) => {
      shown.push({ message, items });
      return items[0];
    };
    try {
      const asked = await answeringAsTheUser(undefined, async (questions) => {
        assert.equal(await vscode.commands.executeCommand('envProfiles.pruneBackups', { profileId: DEV, confirm: true }), undefined);
        await waitFor('the rebuild, started from the button, to ask', () => questions.length > 0);
      });
      assert.equal(shown.length, 1);
      assert.match(shown[0].message, /^The backup catalog \S+catalog\.json cannot be read: .* Rebuild it from the archives: envprofiles backups dev_environment_001 --rebuild-catalog/);
      assert.deepEqual(shown[0].items, ['Rebuild Backup Catalog…', 'Show Log']);
      // The button ran the rebuild of that profile, which showed what it would change first (answered Cancel).
      assert.equal(asked.length, 1, JSON.stringify(asked));
      assert.match(asked[0].message, /^Rebuild the backup catalog of 개발 환경 from its \d+ archives?\?$/);
      assert.equal(fs.readFileSync(catalog, 'utf8'), '{ "backups": [', 'cancelled: nothing changed');
    } finally {
      window.showErrorMessage = showErrorMessage;
      fs.writeFileSync(catalog, before);
    }
    await vscode.commands.executeCommand('envProfiles.refresh');
  });

  test('an error that names a file to edit offers to open it there: a wrong value in config.yaml, and the editor opens at its line; a damaged database offers the backup that keeps it as found instead', async () => {
    const config = path.join(workspace(), '.envprofiles/config.yaml');
    const before = fs.readFileSync(config, 'utf8');
    fs.writeFileSync(config, before.replace(/compression: \S+/, 'compression: zstd'));
    const line = before.split('\n').findIndex((l) => /compression: /.test(l)) + 1;
    const window = vscode.window as { showErrorMessage: unknown };
    const { showErrorMessage } = window;
    const shown: { message: string; items: string[] }[] = [];
    window.showErrorMessage = async (message: string, ...items: string[]) => {
      shown.push({ message, items });
      return items.find((item) => item.startsWith('Open ') || item.endsWith('Keeping the Damaged File'));
    };
    try {
      assert.equal(await vscode.commands.executeCommand('envProfiles.backupFull', { profileId: DEV }), undefined);
      assert.equal(shown.length, 1);
      assert.match(shown[0].message, new RegExp(`^\\.envprofiles/config\\.yaml:${line}:\\d+ backups\\.compression: must be store, fast or best, but it is the text "zstd"`));
      assert.deepEqual(shown[0].items, ['Open config.yaml', 'Show Log']);
      const editor = await waitFor('config.yaml open in an editor', () => (vscode.window.activeTextEditor?.document.uri.fsPath === config ? vscode.window.activeTextEditor : undefined));
      assert.equal(editor.selection.active.line, line - 1, 'at the line of the wrong value');
      // A file that is no text to edit (a database) is never offered.
      shown.length = 0;
      fs.writeFileSync(config, before);
      await vscode.commands.executeCommand('envProfiles.refresh');
      const database = path.join(workspace(), 'data/dev/settings.sqlite3');
      const saved = fs.readFileSync(database);
      const damaged = Buffer.concat([Buffer.from('not a database\0'), Buffer.alloc(4096)]);
      fs.writeFileSync(database, damaged);
      const catalogFile = path.join(workspace(), '.envprofiles/backups', DEV, 'catalog.json');
      const backupsNow = (): { file: string; leftOut?: string[]; keptAsFound?: string[] }[] => (JSON.parse(fs.readFileSync(catalogFile, 'utf8')) as { backups: { file: string; leftOut?: string[]; keptAsFound?: string[] }[] }).backups;
      const count = backupsNow().length;
      const warnings: string[] = [];
      const { showWarningMessage } = vscode.window;
      (vscode.window as { showWarningMessage: unknown }).showWarningMessage = async (message: string) => {
        warnings.push(message);
        return undefined;
      };
      try {
        assert.equal(await vscode.commands.executeCommand('envProfiles.backupFull', { profileId: DEV }), undefined);
        // Its button backs up the rest and keeps the damaged file as found (backup --keep-damaged).
        const made = await waitFor('the backup the button started', () => (backupsNow().length > count ? backupsNow().at(-1) : undefined));
        assert.deepEqual([made.leftOut, made.keptAsFound], [['settings'], ['settings']]);
        const kept = spawnSync('unzip', ['-p', path.join(workspace(), '.envprofiles/backups', DEV, made.file), 'damaged/settings/settings.sqlite3'], { maxBuffer: 64 * 1024 * 1024 });
        assert.ok(kept.stdout.equals(damaged), `byte for byte (unzip: ${kept.stderr})`);
        // The tree says what it holds, as `envprofiles backups` does.
        const node = await waitFor('the backup in the tree', () => child(roots().find((n) => n.getTreeItem().description?.toString().startsWith(DEV)) ?? roots()[0], 'Backups').getChildren().find((n) => n.getTreeItem().tooltip instanceof vscode.MarkdownString && (n.getTreeItem().tooltip as vscode.MarkdownString).value.includes(made.file.replace(/\.zip$/, ''))));
        assert.match(String(node.getTreeItem().description), / · without settings; settings kept as found · /);
        assert.match((node.getTreeItem().tooltip as vscode.MarkdownString).value, /- databases: strategies, market_data \(without settings; settings kept as found: byte for byte under damaged\/ in the archive, which a restore does not write back\)/);
        // Its message is a warning that says so (not the information a whole backup gets).
        const warning = await waitFor('the backup\'s warning', () => warnings.find((w) => w.startsWith('Backed up dev_environment_001: ')));
        assert.match(warning, /\(settings was left out of this backup: .* its file is in the archive as found, byte for byte \(damaged\/settings\/settings\.sqlite3: /);
      } finally {
        (vscode.window as { showWarningMessage: unknown }).showWarningMessage = showWarningMessage;
        fs.writeFileSync(database, saved);
      }
      assert.equal(shown.length, 1, JSON.stringify(shown));
      assert.match(shown[0].message, /^data\/dev\/settings\.sqlite3 .* is not a SQLite 3 database/);
      assert.deepEqual(shown[0].items, ['Back Up dev_environment_001, Keeping the Damaged File', 'Show Log'], 'no file to open (a database is no text to edit), the backup that keeps it');
    } finally {
      window.showErrorMessage = showErrorMessage;
      fs.writeFileSync(config, before);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('envProfiles.refresh');
    }
  });

  test('a backups folder on a disk that is not mounted: the Backups list says so, and a click opens config.yaml', async () => {
    const config = path.join(workspace(), '.envprofiles/config.yaml');
    const before = fs.readFileSync(config, 'utf8');
    const missing = path.join(os.tmpdir(), `envprofiles-unmounted-${process.pid}`, 'backups');
    fs.writeFileSync(config, before.replace(/directory: \S+/, `directory: ${missing}`));
    // Refreshed at once, not left to the file watcher, whose events can come late on a busy machine (one
    // run timed out here after the heavier tests above); the watcher has its own test below.
    await vscode.commands.executeCommand('envProfiles.refresh');
    try {
      const [warning] = await waitFor('a warning in place of the list', () => {
        const nodes = child(roots()[0], 'Backups').getChildren();
        return nodes.length === 1 && /does not exist/.test(labelOf(nodes[0])) ? nodes : undefined;
      });
      const item = warning.getTreeItem();
      assert.equal(item.label, `The backups folder ${missing} does not exist: mount its disk (or create it)`);
      assert.equal(item.command?.command, 'vscode.open');
      assert.equal((item.command?.arguments?.[0] as vscode.Uri).fsPath, config);
      assert.equal(await vscode.commands.executeCommand('envProfiles.backupFull', { profileId: DEV }), undefined, 'the backup is refused');
      assert.match(api.services.lastError ?? '', /^The backups folder \S+ \(backups\.directory in \.envprofiles\/config\.yaml\) does not exist/);
      assert.ok(!fs.existsSync(missing), 'and not created');
      // Once made and backed up into, the folder holds this workspace's mark; an empty one in its place
      // (the mount point of a disk that is not mounted) is said to be one, and not written to.
      fs.mkdirSync(missing, { recursive: true });
      await vscode.commands.executeCommand('envProfiles.backupFull', { profileId: DEV });
      assert.ok(fs.existsSync(path.join(missing, '.envprofiles-backups-folder')));
      fs.renameSync(missing, `${missing}.mounted`);
      fs.mkdirSync(missing);
      await vscode.commands.executeCommand('envProfiles.refresh');
      const [unmarked] = await waitFor('a warning in place of the list', () => {
        const nodes = child(roots()[0], 'Backups').getChildren();
        return nodes.length === 1 && /mark is not there/.test(labelOf(nodes[0])) ? nodes : undefined;
      });
      assert.equal(labelOf(unmarked), `The backups folder ${missing} is not the one this workspace backed up into (this workspace's mark is not there): mount its disk`);
      assert.equal(await vscode.commands.executeCommand('envProfiles.backupFull', { profileId: DEV }), undefined, 'the backup is refused');
      assert.match(api.services.lastError ?? '', /is not the one this workspace has backed up into/);
      // A scrub and a prune of every profile fail too, instead of "No profile has backups yet".
      assert.equal(await vscode.commands.executeCommand('envProfiles.verifyAllBackups'), undefined);
      assert.match(api.services.lastError ?? '', /is not the one this workspace has backed up into: .* Nothing was verified\. Mount the disk it is on/);
      assert.equal(await vscode.commands.executeCommand('envProfiles.pruneAllBackups'), undefined);
      assert.match(api.services.lastError ?? '', /is not the one this workspace has backed up into: .* The dry run has nothing to list\. Mount the disk it is on/);
      assert.deepEqual(fs.readdirSync(missing), []);
    } finally {
      fs.writeFileSync(config, before);
      fs.rmSync(path.join(workspace(), '.envprofiles/backups-folder.json'), { force: true });
      fs.rmSync(path.dirname(missing), { recursive: true, force: true });
    }
    await vscode.commands.executeCommand('envProfiles.refresh');
    await waitFor('the list back', () => child(roots()[0], 'Backups').getChildren().every((n) => !/does not exist/.test(labelOf(n))));
  });

  test('a backups folder set to another folder: the Backups list says how many of the profile\'s backups stay in the one before, and a click opens config.yaml', async () => {
    const config = path.join(workspace(), '.envprofiles/config.yaml');
    const before = fs.readFileSync(config, 'utf8');
    const earlier = JSON.parse(fs.readFileSync(path.join(workspace(), '.envprofiles/backups', DEV, 'catalog.json'), 'utf8')).backups.length as number;
    assert.ok(earlier > 0, 'the tests above made backups of the profile');
    const moved = fs.mkdtempSync(path.join(os.tmpdir(), 'envprofiles-moved-'));
    fs.writeFileSync(config, before.replace(/directory: \S+/, `directory: ${moved}`));
    await vscode.commands.executeCommand('envProfiles.refresh');
    try {
      const nodes = await waitFor('the note in the list', () => {
        const listed = child(roots()[0], 'Backups').getChildren();
        return listed.some((n) => /more backup/.test(labelOf(n))) ? listed : undefined;
      });
      const folder = path.join(workspace(), '.envprofiles/backups');
      assert.deepEqual(nodes.map(labelOf), [`${earlier} more backup${earlier === 1 ? '' : 's'} in ${folder}, the backups folder before it was changed: not listed here (move ${earlier === 1 ? 'it' : 'them'} into the folder set now, or set it back)`, 'No backups in the backups folder set now']);
      const item = nodes[0].getTreeItem();
      assert.equal(item.command?.command, 'vscode.open');
      assert.equal((item.command?.arguments?.[0] as vscode.Uri).fsPath, config);
    } finally {
      fs.writeFileSync(config, before);
      fs.rmSync(moved, { recursive: true, force: true });
    }
    await vscode.commands.executeCommand('envProfiles.refresh');
    await waitFor('the list back', () => child(roots()[0], 'Backups').getChildren().every((n) => !/more backup/.test(labelOf(n))));
  });

  test('a change made on disk by the CLI appears in the tree', async () => {
    const cli = path.join(vscode.extensions.getExtension(EXTENSION_ID)?.extensionPath ?? '', 'dist/cli.js');
    const result = spawnSync(process.execPath, [cli, 'clone', DEV, 'cli_clone', '--name', 'Made by the CLI', '--workspace', workspace()], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    await waitFor('the clone in the tree', () => roots().some((n) => labelOf(n) === 'Made by the CLI'));
  });

  test('a validation error shows in the Problems panel at its line, and clears when fixed, and an unknown key of backup_schedule or config.yaml is a warning', async () => {
    const file = path.join(workspace(), '.envprofiles/profiles', `${DEV}.yaml`);
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, good.replace('type: "DEVELOPMENT"', 'type: "DEVELOPPMENT"'));
    const uri = vscode.Uri.file(file);
    const diagnostics = await waitFor('a diagnostic', () => {
      const found = vscode.languages.getDiagnostics(uri);
      return found.length > 0 ? found : undefined;
    });
    assert.equal(diagnostics[0].range.start.line, 4);
    assert.match(diagnostics[0].message, /profile\.type: "DEVELOPPMENT" is not a profile type/);
    // The tree's item says where and what too (before: the message alone).
    const invalid = await waitFor('the profile shown invalid', () => roots().find((node) => labelOf(node) === DEV && node.getTreeItem().description === 'invalid'));
    assert.match(String(invalid.getTreeItem().tooltip), /^line 5: type: "DEVELOPPMENT" is not a profile type/);
    // A quote left open is placed where it opens (the parser finds it where the file ends).
    fs.writeFileSync(file, good.replace('log_level: "DEBUG"', 'log_level: "DEBUG'));
    const unclosed = await waitFor('the unclosed quote', () => vscode.languages.getDiagnostics(uri).find((d) => /no closing/.test(d.message)));
    assert.equal(unclosed.range.start.line, good.split('\n').findIndex((line) => line.includes('log_level: "DEBUG"')));
    assert.match(unclosed.message, /YAML syntax error: the quoted value that opens here has no closing "/);
    fs.writeFileSync(file, good);
    await waitFor('the diagnostic to clear', () => vscode.languages.getDiagnostics(uri).length === 0);
    // A misspelt backup_schedule key leaves the profile usable, but would turn retention off: a warning at its line.
    fs.writeFileSync(file, good.replace('retention_days: 30', 'retention_day: 30'));
    const warning = await waitFor('a warning', () => vscode.languages.getDiagnostics(uri)[0]);
    assert.equal(warning.severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(warning.range.start.line, good.split('\n').findIndex((line) => line.includes('retention_days: 30')));
    assert.match(warning.message, /profile\.backup_schedule\.retention_day: is not a backup_schedule key .*did you mean retention_days\?/);
    fs.writeFileSync(file, good);
    await waitFor('the warning to clear', () => vscode.languages.getDiagnostics(uri).length === 0);
    // A database file that another profile uses too: a warning on its line in each of them (before: none anywhere).
    const testFile = path.join(workspace(), '.envprofiles/profiles', `${TEST}.yaml`);
    const testUri = vscode.Uri.file(testFile);
    const goodTest = fs.readFileSync(testFile, 'utf8');
    fs.writeFileSync(testFile, goodTest.replace('data/test/market_data.sqlite3', 'data/dev/market_data.sqlite3'));
    const shared = await waitFor('the shared database warnings', () => {
      const [mine, theirs] = [vscode.languages.getDiagnostics(testUri), vscode.languages.getDiagnostics(uri)];
      return mine.length > 0 && theirs.length > 0 ? { mine: mine[0], theirs: theirs[0] } : undefined;
    });
    assert.equal(shared.mine.severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(shared.mine.range.start.line, goodTest.split('\n').findIndex((line) => line.includes('data/test/market_data.sqlite3')));
    assert.equal(shared.mine.message, `profile.databases.market_data: data/dev/market_data.sqlite3 is also ${DEV}'s "market_data": the two profiles share this one file: switching between them keeps the application on it, and restoring a backup of either replaces it for both; give market_data a file of its own unless sharing it is meant`);
    assert.equal(shared.theirs.range.start.line, good.split('\n').findIndex((line) => line.includes('data/dev/market_data.sqlite3')));
    assert.match(shared.theirs.message, new RegExp(`^profile\\.databases\\.market_data: data/dev/market_data\\.sqlite3 is also ${TEST}'s "market_data"`));
    // The tree marks the database in both profiles, its tooltip saying why (before: shown as any other).
    const marketData = (name: string): vscode.TreeItem => child(child(roots().find((n) => labelOf(n) === name) as TreeNode, 'Databases'), 'market_data').getTreeItem();
    for (const [name, other] of [['테스트 환경', DEV], ['개발 환경', TEST]]) {
      const item = marketData(name);
      assert.match(String(item.description), / · shared with another profile$/);
      assert.equal((item.iconPath as vscode.ThemeIcon).id, 'warning');
      assert.ok((item.tooltip as vscode.MarkdownString).value.includes(`shared: data/dev/market_data.sqlite3 is also ${other}'s "market_data"`), (item.tooltip as vscode.MarkdownString).value);
    }
    assert.doesNotMatch(String(child(child(roots().find((n) => labelOf(n) === '운영 환경') as TreeNode, 'Databases'), 'market_data').getTreeItem().description), /shared/);
    // The profile picker says it too, under each of the two (before: only a failing profile's first problem).
    let offered: readonly vscode.QuickPickItem[] = [];
    await answeringAsTheUser((items) => void (offered = items), async () => {
      await vscode.commands.executeCommand('envProfiles.switchProfile');
    });
    const detailOf = (id: string): string => offered.find((item) => item.description?.startsWith(`${id} ·`))?.detail ?? '';
    assert.ok(detailOf(TEST).includes(`$(warning) data/dev/market_data.sqlite3 is also ${DEV}'s "market_data": the two profiles share this one file`), JSON.stringify(offered));
    assert.ok(detailOf(DEV).includes(`$(warning) data/dev/market_data.sqlite3 is also ${TEST}'s "market_data"`), JSON.stringify(offered));
    assert.doesNotMatch(detailOf(PROD), /\$\((warning|error)\)/);
    fs.writeFileSync(testFile, goodTest);
    await waitFor('the shared database warnings to clear', () => vscode.languages.getDiagnostics(uri).length === 0 && vscode.languages.getDiagnostics(testUri).length === 0);
    // The same for config.yaml: a misspelt section is ignored, so it is a warning at its key.
    const configFile = path.join(workspace(), '.envprofiles/config.yaml');
    const configUri = vscode.Uri.file(configFile);
    const goodConfig = fs.readFileSync(configFile, 'utf8');
    fs.writeFileSync(configFile, goodConfig.replace(/^backups:/m, 'backup:'));
    const configWarning = await waitFor('a config.yaml warning', () => vscode.languages.getDiagnostics(configUri)[0]);
    assert.equal(configWarning.severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(configWarning.range.start.line, goodConfig.split('\n').indexOf('backups:'));
    assert.match(configWarning.message, /^backup: is not a config\.yaml section/);
    fs.writeFileSync(configFile, goodConfig);
    await waitFor('the config.yaml warning to clear', () => vscode.languages.getDiagnostics(configUri).length === 0);
  });

  test('a folder re-reads its files when they differ from what it last read, without waiting for a file event (a safety net: after .envprofiles was made again, the watcher missed a profile file moved away, and the tree kept it)', async () => {
    const folder = api.services.model.initialised()[0];
    const file = path.join(workspace(), '.envprofiles/profiles/stale_check.yaml');
    // Let the events of the tests before settle, so that no refresh is pending.
    await new Promise((r) => setTimeout(r, 500));
    let fired = 0;
    const listening = folder.onDidChange(() => fired++);
    try {
      folder.refreshIfStale();
      assert.equal(fired, 0, 'nothing changed: nothing is read again');
      // Between the write and the check no event can be handled (one JavaScript thread): only the check can see it.
      fs.writeFileSync(file, 'profile:\n  id: stale_check\n  name: Stale check\n  type: TESTING\n  databases:\n    app: data/stale_check/app.sqlite3\n');
      folder.refreshIfStale();
      assert.equal(fired, 1);
      assert.ok(folder.data.profiles.some((p) => p.id === 'stale_check'));
      fs.rmSync(file);
      folder.refreshIfStale();
      assert.ok(!folder.data.profiles.some((p) => p.id === 'stale_check'));
      // An edit in place is seen too (its size and time change).
      const configFile = path.join(workspace(), '.envprofiles/config.yaml');
      const config = fs.readFileSync(configFile, 'utf8');
      fs.writeFileSync(configFile, `${config}\n# an edit\n`);
      const before = fired;
      folder.refreshIfStale();
      assert.equal(fired, before + 1);
      fs.writeFileSync(configFile, config);
    } finally {
      listening.dispose();
      fs.rmSync(file, { force: true });
    }
  });

  test('Validate All Profiles (Full) validates every profile as validate --all --full does: a message of how many are valid, naming one that is not with its first problem, every problem in the log (before: one profile at a time)', async () => {
    const window = vscode.window as { showInformationMessage: unknown; showErrorMessage: unknown };
    const { showInformationMessage, showErrorMessage } = window;
    const told: string[] = [];
    window.showInformationMessage = async (message: string) => void told.push(message);
    window.showErrorMessage = async (message: string) => void told.push(message);
    const settings = path.join(workspace(), 'data/prod/settings.sqlite3');
    try {
      const all = await vscode.commands.executeCommand<{ profile: string; ok: boolean }[]>('envProfiles.validateAllProfiles');
      assert.ok(all.length >= 3 && all.every((o) => o.ok), JSON.stringify(all));
      assert.match(told[0], new RegExp(`^All ${all.length} profiles are valid \\(full(, \\d+ warnings?: see the log)?\\)\\.$`));
      fs.renameSync(settings, `${settings}.away`);
      const { value: outcomes, lines } = await collectingLogLines(api.services.log, async () => vscode.commands.executeCommand<{ profile: string; ok: boolean }[]>('envProfiles.validateAllProfiles'));
      assert.deepEqual(outcomes.filter((o) => !o.ok).map((o) => o.profile), [PROD]);
      assert.equal(told[1], `1 of ${outcomes.length} profiles is not valid: ${PROD} (data/prod/settings.sqlite3 does not exist). See the log.`);
      assert.ok(lines.includes(`error: full validation of ${PROD} in ${path.basename(workspace())}: NOT valid`), lines.join('\n'));
      assert.ok(lines.includes('error:   data/prod/settings.sqlite3 does not exist'), lines.join('\n'));
    } finally {
      window.showInformationMessage = showInformationMessage;
      window.showErrorMessage = showErrorMessage;
      if (fs.existsSync(`${settings}.away`)) fs.renameSync(`${settings}.away`, settings);
    }
  });

  test('data with a foreign key violation: its backup shows "archive intact, its data FAILED checks", and still covers Delete Profile; the deleted profile\'s backups stay listed, and a restore brings it back', async () => {
    const cli = path.join(vscode.extensions.getExtension(EXTENSION_ID)?.extensionPath ?? '', 'dist/cli.js');
    const cloned = spawnSync(process.execPath, [cli, 'clone', DEV, 'orphan_rows', '--name', 'Orphan rows', '--workspace', workspace()], { encoding: 'utf8' });
    assert.equal(cloned.status, 0, cloned.stderr);
    // As an application that never turns foreign keys on would leave it.
    const orphan = spawnSync(process.execPath, ['-e', `const { DatabaseSync } = require('node:sqlite'); const db = new DatabaseSync(process.argv[1], { enableForeignKeyConstraints: false }); db.exec("INSERT INTO trading_conditions (strategy_id, expression, weight) VALUES (999999, 'orphan', 1)"); db.close();`, path.join(workspace(), 'data/orphan_rows/strategies.sqlite3')], { encoding: 'utf8' });
    assert.equal(orphan.status, 0, orphan.stderr);
    const profile = await waitFor('the clone in the tree', () => roots().find((n) => labelOf(n) === 'Orphan rows'));
    await new Promise((r) => setTimeout(r, 50)); // the backup must start after the data's last change
    const id = await vscode.commands.executeCommand<string>('envProfiles.backupFull', { profileId: 'orphan_rows' });
    assert.ok(id);
    api.services.lastError = undefined;
    assert.equal(await vscode.commands.executeCommand('envProfiles.verifyBackup', { backupId: id }), undefined, 'verify reports a failure');
    assert.match(api.services.lastError ?? '', /failed verification: .*database "strategies" rebuilds to exactly what was backed up, .* 1 foreign key violation: trading_conditions row \d+ -> strategy_profiles/);
    const node = await waitFor('the backup marked as failing for its data', () => {
      const [first] = child(profile, 'Backups').getChildren();
      return first && /· archive intact, its data FAILED checks$/.test(String(first.getTreeItem().description)) ? first : undefined;
    });
    assert.equal((node.getTreeItem().iconPath as vscode.ThemeIcon).id, 'warning');
    api.services.lastError = undefined;
    await vscode.commands.executeCommand('envProfiles.deleteProfile', { profileId: 'orphan_rows' });
    assert.equal(api.services.lastError, undefined);
    assert.ok(!fs.existsSync(path.join(workspace(), '.envprofiles/profiles/orphan_rows.yaml')));
    await waitFor('the profile gone from the tree', () => !roots().some((n) => labelOf(n) === 'Orphan rows'));
    // Its backups are kept, and listed under the deleted profile; restoring one brings the profile back.
    const deleted = await waitFor('the deleted profile with its backup', () => roots().find((n) => labelOf(n) === 'orphan_rows'));
    assert.equal(deleted.getTreeItem().description, 'deleted · 1 backup kept');
    assert.deepEqual(deleted.getChildren().map((n) => (n.getTreeItem().id ?? '').endsWith(`/backup/${id}`)), [true]);
    api.services.lastError = undefined;
    assert.equal(await vscode.commands.executeCommand('envProfiles.restoreBackup', { backupId: id }), 'orphan_rows');
    assert.equal(api.services.lastError, undefined);
    await waitFor('the profile back in the tree', () => roots().some((n) => labelOf(n) === 'Orphan rows') && !roots().some((n) => labelOf(n) === 'orphan_rows'));
  });

  test('Restore Backup asks with what it will replace, from a dry run (the pick and the modal answered by the test: nothing can click them here)', async () => {
    const id = await vscode.commands.executeCommand<string>('envProfiles.backupFull', { profileId: TEST });
    assert.ok(id);
    // "Cancel" to the modal: nothing is restored.
    await answeringAsTheUser((items) => items.find((item) => item.detail === id), async (asked) => {
      const catalog = path.join(workspace(), '.envprofiles/backups', TEST, 'catalog.json');
      const before = fs.readFileSync(catalog, 'utf8');
      api.services.lastError = undefined;
      assert.equal(await vscode.commands.executeCommand('envProfiles.restoreBackup', { profileId: TEST }), undefined);
      assert.equal(api.services.lastError, undefined);
      assert.equal(asked.length, 1);
      assert.match(asked[0].message, /^Restore test_environment_001 from the backup of /);
      assert.match(asked[0].detail ?? '', /^It replaces data\/test\/settings\.sqlite3, data\/test\/strategies\.sqlite3, data\/test\/market_data\.sqlite3\. The current state is backed up first, and that safety backup verified\. This backup has not passed a verification: the restore checks every entry before it replaces anything; "Verify, Then Restore" also rebuilds and checks each database/);
      assert.deepEqual(asked[0].buttons, ['Restore', 'Verify, Then Restore']);
      assert.equal(fs.readFileSync(catalog, 'utf8'), before, 'cancelled: no safety backup either');
    });
  });

  test('Verify, Then Restore: a sound backup is verified (recorded), then restored; a damaged one stops at its verification with nothing restored; a verified backup is not offered it', async () => {
    const catalogOf = (): { id: string; reason: string; verified: { ok: boolean } | null }[] => JSON.parse(fs.readFileSync(path.join(workspace(), '.envprofiles/backups', TEST, 'catalog.json'), 'utf8')).backups;
    const dataOf = (): string[] => ['settings', 'strategies', 'market_data'].map((name) => fs.readFileSync(path.join(workspace(), `data/test/${name}.sqlite3`)).toString('base64'));
    const sound = await vscode.commands.executeCommand<string>('envProfiles.backupFull', { profileId: TEST });
    assert.ok(sound);
    const pickIt = (id: string) => (items: readonly vscode.QuickPickItem[]) => items.find((item) => item.detail === id);
    await answeringAsTheUser(pickIt(sound), async (asked) => {
      api.services.lastError = undefined;
      assert.equal(await vscode.commands.executeCommand('envProfiles.restoreBackup', { profileId: TEST }), TEST);
      assert.equal(api.services.lastError, undefined);
      assert.deepEqual(asked.map((a) => a.buttons), [['Restore', 'Verify, Then Restore']]);
    }, () => 'Verify, Then Restore');
    assert.equal(catalogOf().find((e) => e.id === sound)?.verified?.ok, true, 'verified first, and recorded');
    assert.ok(catalogOf().some((e) => e.reason !== 'manual'), 'then restored, after its safety backup');
    // Verified now: the confirmation has no second button, and says nothing of it.
    await answeringAsTheUser(pickIt(sound), async (asked) => {
      await vscode.commands.executeCommand('envProfiles.restoreBackup', { profileId: TEST });
      assert.deepEqual(asked.map((a) => a.buttons), [['Restore']]);
      assert.doesNotMatch(asked[0].detail ?? '', /has not passed a verification/);
    });
    // Changed on the disk since it was verified (one byte, same size): the confirmation says so and offers the verification again.
    const soundArchive = path.join(workspace(), '.envprofiles/backups', TEST, `${sound}.zip`);
    const soundBytes = fs.readFileSync(soundArchive);
    soundBytes[Math.floor(soundBytes.length / 2)] ^= 0x10;
    fs.writeFileSync(soundArchive, soundBytes);
    await answeringAsTheUser(pickIt(sound), async (asked) => {
      assert.equal(await vscode.commands.executeCommand('envProfiles.restoreBackup', { profileId: TEST }), undefined);
      assert.deepEqual(asked.map((a) => a.buttons), [['Restore', 'Verify, Then Restore']]);
      assert.match(asked[0].detail ?? '', /This backup passed a verification, but its archive changed since it was verified: the restore checks every entry before it replaces anything/);
    });
    soundBytes[Math.floor(soundBytes.length / 2)] ^= 0x10;
    fs.writeFileSync(soundArchive, soundBytes);
    // A backup whose archive was damaged after it was written (one byte changed, same size).
    const damaged = await vscode.commands.executeCommand<string>('envProfiles.backupFull', { profileId: TEST });
    assert.ok(damaged);
    const archive = path.join(workspace(), '.envprofiles/backups', TEST, `${damaged}.zip`);
    const bytes = fs.readFileSync(archive);
    bytes[Math.floor(bytes.length / 2)] ^= 0x10;
    fs.writeFileSync(archive, bytes);
    const before = dataOf();
    const backupsBefore = catalogOf().length;
    await answeringAsTheUser(pickIt(damaged), async () => {
      api.services.lastError = undefined;
      assert.equal(await vscode.commands.executeCommand('envProfiles.restoreBackup', { profileId: TEST }), undefined);
      assert.match(api.services.lastError ?? '', new RegExp(`${damaged}`));
    }, () => 'Verify, Then Restore');
    assert.deepEqual(dataOf(), before, 'nothing restored');
    assert.equal(catalogOf().length, backupsBefore, 'no safety backup either');
    assert.equal(catalogOf().find((e) => e.id === damaged)?.verified?.ok, false, 'the failed verification is recorded');
    // The byte put back, for the tests after this one (which verify and prune every backup).
    bytes[Math.floor(bytes.length / 2)] ^= 0x10;
    fs.writeFileSync(archive, bytes);
  });

  test('Delete Profile asks naming the verified backup that covers the profile, from a dry run (answered by the test: Cancel, so nothing is deleted); the active profile is refused before any question', async () => {
    const active = api.services.model.initialised()[0].data.status?.active;
    assert.ok(active, 'a profile is active after the switching tests above');
    const target = [DEV, TEST].find((id) => id !== active) as string;
    const id = await vscode.commands.executeCommand<string>('envProfiles.backupFull', { profileId: target });
    assert.equal(await vscode.commands.executeCommand('envProfiles.verifyBackup', { backupId: id }), true);
    let picking = target;
    await answeringAsTheUser((items: readonly (vscode.QuickPickItem & { profile?: { id: string } })[]) => items.find((item) => item.profile?.id === picking), async (asked) => {
      api.services.lastError = undefined;
      await vscode.commands.executeCommand('envProfiles.deleteProfile');
      assert.equal(api.services.lastError, undefined);
      assert.equal(asked.length, 1);
      assert.match(asked[0].message, new RegExp(`^Delete the profile ".+" \\(${target}\\)\\?$`));
      assert.equal(asked[0].detail, `It is covered by the verified backup ${id}. Its backups are always kept. Its database files are kept unless you choose to delete them too.`);
      assert.ok(fs.existsSync(path.join(workspace(), '.envprofiles/profiles', `${target}.yaml`)), 'cancelled: nothing deleted');
      picking = active;
      await vscode.commands.executeCommand('envProfiles.deleteProfile');
      assert.match(api.services.lastError ?? '', new RegExp(`^Profile "${active}" is the active profile and cannot be deleted\\. Switch to another profile first\\.`));
      assert.equal(asked.length, 1, 'refused before the question');
    });
  });

  test('a restore through the command, in the extension host itself: the data comes back, after a safety backup; refused while the application has the database open', async () => {
    const market = path.join(workspace(), 'data/test/market_data.sqlite3');
    const sql = (statement: string): string => {
      const run = spawnSync(process.execPath, ['-e', `const { DatabaseSync } = require('node:sqlite'); const db = new DatabaseSync(process.argv[1]); const rows = db.prepare(process.argv[2]).all(); db.close(); process.stdout.write(JSON.stringify(rows));`, market, statement], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      return run.stdout;
    };
    const before = sql('SELECT count(*) AS n FROM price_data');
    await new Promise((r) => setTimeout(r, 50));
    const id = await vscode.commands.executeCommand<string>('envProfiles.backupFull', { profileId: TEST });
    assert.ok(id);
    sql('DELETE FROM price_data');
    assert.notEqual(sql('SELECT count(*) AS n FROM price_data'), before);
    api.services.lastError = undefined;
    assert.equal(await vscode.commands.executeCommand('envProfiles.restoreBackup', { backupId: id }), TEST);
    assert.equal(api.services.lastError, undefined);
    assert.equal(sql('SELECT count(*) AS n FROM price_data'), before);
    const catalog = JSON.parse(fs.readFileSync(path.join(workspace(), '.envprofiles/backups', TEST, 'catalog.json'), 'utf8')) as { backups: { reason: string; verified: { ok: boolean } | null }[] };
    assert.equal(catalog.backups.at(-1)?.reason, 'before-restore');
    assert.equal(catalog.backups.at(-1)?.verified?.ok, true, 'the safety backup was verified');

    // The application keeps a connection open: the restore is refused and changes nothing.
    const app = spawn(process.execPath, ['-e', `const { DatabaseSync } = require('node:sqlite'); const db = new DatabaseSync(process.argv[1]); db.prepare('SELECT 1 FROM price_data LIMIT 1').all(); process.stdout.write('open\\n'); process.stdin.once('data', () => { db.close(); process.exit(0); });`, market], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        app.stdout?.once('data', () => resolve());
        app.once('exit', (code) => reject(new Error(`the application exited early (${code})`)));
      });
      const backups = catalog.backups.length;
      assert.equal(await vscode.commands.executeCommand('envProfiles.restoreBackup', { backupId: id }), undefined);
      assert.match(api.services.lastError ?? '', new RegExp(`^market_data \\(data/test/market_data\\.sqlite3\\) is open in .*pid ${app.pid}.*, so restoring ${id.replace(/\./g, '\\.')} over it was refused; nothing was changed\\.`));
      const after = JSON.parse(fs.readFileSync(path.join(workspace(), '.envprofiles/backups', TEST, 'catalog.json'), 'utf8')) as { backups: unknown[] };
      assert.equal(after.backups.length, backups, 'not even a safety backup');
    } finally {
      app.stdin?.write('close\n');
    }
  });

  test('the emergency backup saves every profile, one of them without the database it lost (a warning, not an error)', async () => {
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(path.join(workspace(), `data/cli_clone/settings.sqlite3${suffix}`), { force: true });
    const profiles = fs.readdirSync(path.join(workspace(), '.envprofiles/profiles')).filter((f) => f.endsWith('.yaml')).length;
    api.services.lastError = undefined;
    assert.equal(await vscode.commands.executeCommand('envProfiles.emergencyBackup'), profiles);
    assert.equal(api.services.lastError, undefined);
    const catalog = JSON.parse(fs.readFileSync(path.join(workspace(), '.envprofiles/backups/cli_clone/catalog.json'), 'utf8')) as { backups: { reason: string; databases: string[] }[] };
    assert.deepEqual(catalog.backups.map((b) => [b.reason, b.databases.join(',')]), [['emergency', 'strategies,market_data']]);
  });

  test('Delete Profile of a profile whose database file is gone and another damaged: "Back Up, Verify and Delete" backs up the rest (--skip-missing), keeps the damaged file as found (--keep-damaged) and deletes it', async () => {
    // Before, a damaged database made that backup fail, so the profile could not be deleted from VS Code.
    const damaged = path.join(workspace(), 'data/cli_clone/strategies.sqlite3');
    for (const suffix of ['-wal', '-shm']) fs.rmSync(`${damaged}${suffix}`, { force: true });
    const sound = fs.readFileSync(damaged);
    const handle = fs.openSync(damaged, 'r+');
    fs.writeSync(handle, Buffer.from('not SQLite'), 0, 10, 0);
    fs.closeSync(handle);
    const bytes = fs.readFileSync(damaged);
    api.services.lastError = undefined;
    await vscode.commands.executeCommand('envProfiles.deleteProfile', { profileId: 'cli_clone', backUpFirst: true });
    assert.equal(api.services.lastError, undefined);
    assert.ok(!fs.existsSync(path.join(workspace(), '.envprofiles/profiles/cli_clone.yaml')));
    const catalog = JSON.parse(fs.readFileSync(path.join(workspace(), '.envprofiles/backups/cli_clone/catalog.json'), 'utf8')) as { backups: { file: string; reason: string; leftOut?: string[]; keptAsFound?: string[]; verified: { ok: boolean } | null }[] };
    const last = catalog.backups.at(-1);
    assert.deepEqual([last?.reason, last?.leftOut, last?.keptAsFound, last?.verified?.ok], ['before-delete', ['settings', 'strategies'], ['strategies'], true]);
    const kept = spawnSync('unzip', ['-p', path.join(workspace(), '.envprofiles/backups/cli_clone', last?.file ?? ''), 'damaged/strategies/strategies.sqlite3'], { maxBuffer: 64 * 1024 * 1024 });
    assert.ok(kept.stdout.equals(bytes), `the damaged file, byte for byte (unzip: ${kept.stderr})`);
    // Mended: a later test makes a new profile over these files.
    fs.writeFileSync(damaged, sound);
    await waitFor('the deleted profile listed with its two backups', () => roots().some((n) => labelOf(n) === 'cli_clone' && n.getTreeItem().description === 'deleted · 2 backups kept'));
  });

  test('Prune Backups works on a deleted profile, from its tree node (before: "No valid profile")', async () => {
    const deleted = await waitFor('the deleted profile', () => roots().find((n) => labelOf(n) === 'cli_clone'));
    api.services.lastError = undefined;
    // Its keep rules (from its newest backup: retention_days 30) keep both backups, and the message says which rules.
    const window = vscode.window as { showInformationMessage: unknown };
    const { showInformationMessage } = window;
    const told: string[] = [];
    window.showInformationMessage = async (message: string) => void told.push(message);
    try {
      assert.deepEqual(await vscode.commands.executeCommand('envProfiles.pruneBackups', deleted), []);
    } finally {
      window.showInformationMessage = showInformationMessage;
    }
    assert.deepEqual(told, ['Nothing to prune for cli_clone (deleted): its keep rules (within 30 days) keep all 2 backups.']);
    assert.equal(api.services.lastError, undefined);
    assert.deepEqual(await vscode.commands.executeCommand('envProfiles.pruneBackups', { profileId: 'cli_clone', confirm: true }), []);
    assert.equal(api.services.lastError, undefined);
  });

  test('a backup (in a child process), a prune (in the extension host) and the dry run of a Delete confirmation started while another operation holds the workspace wait for it (their notification says so), then run', async () => {
    // The lock taken as a CLI job would take it (this process stands in for that job).
    const lockFile = path.join(workspace(), '.envprofiles/lock');
    const holdTheWorkspace = (): Promise<void> => {
      fs.writeFileSync(lockFile, JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString(), operation: 'a job of the test' }));
      return new Promise<void>((resolve) => setTimeout(() => {
        fs.rmSync(lockFile, { force: true });
        resolve();
      }, 1500));
    };
    const waitedFor = /Another operation is running in this workspace: a job of the test .*: waiting for it to finish, then going on\./;
    for (const [what, command, args] of [['backup', 'envProfiles.backupFull', { profileId: TEST }], ['prune', 'envProfiles.pruneBackups', { profileId: TEST, confirm: true }]] as const) {
      const released = holdTheWorkspace();
      api.services.lastError = undefined;
      const shown = await collectingProgress(() => collectingLogLines(api.services.log, () => Promise.resolve(vscode.commands.executeCommand(command, args))));
      await released;
      assert.equal(api.services.lastError, undefined, what);
      assert.ok(shown.value.value !== undefined, `${what} returned its result`);
      assert.ok(shown.messages.includes('Waiting for another operation to finish'), `${what}: ${JSON.stringify(shown.messages)}`);
      assert.ok(shown.value.lines.some((line) => waitedFor.test(line)), `${what}: ${shown.value.lines.join('\n')}`);
    }
    // The dry run a Delete confirmation is made from waits too, then asks (answered by the test: Cancel).
    const active = api.services.model.initialised()[0].data.status?.active;
    const target = [DEV, TEST].find((id) => id !== active) as string;
    const released = holdTheWorkspace();
    const shown = await collectingProgress(() => answeringAsTheUser((items: readonly (vscode.QuickPickItem & { profile?: { id: string } })[]) => items.find((item) => item.profile?.id === target), async (asked) => {
      api.services.lastError = undefined;
      await vscode.commands.executeCommand('envProfiles.deleteProfile');
      assert.equal(api.services.lastError, undefined);
      assert.equal(asked.length, 1, 'asked once the workspace was free');
    }));
    await released;
    assert.ok(shown.messages.includes('Waiting for another operation to finish'), `delete: ${JSON.stringify(shown.messages)}`);
    assert.ok(fs.existsSync(path.join(workspace(), '.envprofiles/profiles', `${target}.yaml`)), 'cancelled: nothing deleted');
  });

  test('Verify Every Backup of Every Profile verifies them all in a child process, and names an archive damaged on the disk', async () => {
    const catalogOf = (id: string) => (JSON.parse(fs.readFileSync(path.join(workspace(), '.envprofiles/backups', id, 'catalog.json'), 'utf8')) as { backups: { id: string; file: string }[] }).backups;
    assert.ok(await vscode.commands.executeCommand<string>('envProfiles.backupFull', { profileId: TEST }));
    api.services.lastError = undefined;
    const everyBackup = await collectingLogLines(api.services.log, () => Promise.resolve(vscode.commands.executeCommand('envProfiles.verifyAllBackups')));
    assert.deepEqual(everyBackup.value, [], `none failed; the log said:\n${everyBackup.lines.join('\n')}`);
    // Another operation the scrub had to wait for is worth knowing of (it once made every backup fail here).
    for (const line of everyBackup.lines.filter((l) => l.includes('waiting for it to finish'))) console.log(`      (the scrub waited) ${line}`);
    assert.equal(api.services.lastError, undefined);
    // One byte of an archive changes on the disk: the scrub names that backup.
    const damaged = catalogOf(TEST).at(-1) as { id: string; file: string };
    const archive = path.join(workspace(), '.envprofiles/backups', TEST, damaged.file);
    const original = fs.readFileSync(archive);
    const changed = Buffer.from(original);
    changed[Math.floor(changed.length / 2)] ^= 0x01;
    fs.writeFileSync(archive, changed);
    try {
      let returned: unknown;
      const failed = await answeringAsTheUser(undefined, async () => {
        returned = await vscode.commands.executeCommand('envProfiles.verifyAllBackups');
      });
      assert.deepEqual(returned, [damaged.id]);
      assert.ok(failed.some((m) => new RegExp(`^Verified \\d+ backups?: 1 FAILED \\(${damaged.id.replace(/\./g, '\\.')}\\)(; .*)?\\. See the log\\.$`).test(m.message)), JSON.stringify(failed));
    } finally {
      fs.writeFileSync(archive, original);
    }
    // Put back, it verifies again (and the catalog records it so).
    assert.deepEqual(await vscode.commands.executeCommand('envProfiles.verifyAllBackups'), []);
    // Written by a newer version (a backups folder shared with it): not verified, and not called FAILED.
    const rewrite = 'import json, sys, zipfile\nsrc = zipfile.ZipFile(sys.argv[1])\nm = json.loads(src.read("manifest.json"))\nm["formatVersion"] = 9\nfor f in m["files"]: f.pop("segments", None)\nwith zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as out:\n    for info in src.infolist(): out.writestr(info.filename, json.dumps(m) if info.filename == "manifest.json" else src.read(info.filename))\n';
    const newer = `${archive}.newer`;
    assert.equal(spawnSync('python3', ['-c', rewrite, archive, newer], { encoding: 'utf8' }).status, 0);
    fs.renameSync(newer, archive);
    try {
      let returned: unknown;
      const told = await answeringAsTheUser(undefined, async () => {
        returned = await vscode.commands.executeCommand('envProfiles.verifyAllBackups');
      });
      assert.deepEqual(returned, []);
      assert.ok(told.some((m) => new RegExp(`^Verified \\d+ backups?: (.*; )?1 not verified: written by a newer version of Environment Profiles, update it to verify that one \\(${damaged.id.replace(/\./g, '\\.')}\\)\\. See the log\\.$`).test(m.message)), JSON.stringify(told));
    } finally {
      fs.writeFileSync(archive, original);
    }
  });

  test('Prune Backups with no backup verified: the review says that prune verifies first; the prune verifies the newest, keeps it, and logs it', async () => {
    const profileFile = path.join(workspace(), '.envprofiles/profiles', `${TEST}.yaml`);
    const catalogFile = path.join(workspace(), '.envprofiles/backups', TEST, 'catalog.json');
    const original = fs.readFileSync(profileFile, 'utf8');
    type Listed = { id: string; verified: { ok: boolean } | null };
    const catalog = (): Listed[] => (JSON.parse(fs.readFileSync(catalogFile, 'utf8')) as { backups: Listed[] }).backups;
    try {
      for (let i = 0; i < 2; i++) assert.ok(await vscode.commands.executeCommand<string>('envProfiles.backupFull', { profileId: TEST }));
      fs.writeFileSync(profileFile, original.replace('    retention_days: 30', '    keep: { last: 1 }'));
      // As a rebuild of the catalog leaves it (every archive listed anew): no backup verified.
      const reset = JSON.parse(fs.readFileSync(catalogFile, 'utf8')) as { backups: Listed[] };
      for (const backup of reset.backups) backup.verified = null;
      fs.writeFileSync(catalogFile, JSON.stringify(reset, null, 2));
      const before = catalog().map((b) => b.id);
      const newest = before.at(-1) as string;
      let offered: readonly vscode.QuickPickItem[] = [];
      let deleted: string[] = [];
      api.services.lastError = undefined;
      const { lines } = await collectingLogLines(api.services.log, () => answeringAsTheUser<vscode.QuickPickItem>((items) => {
        offered = items;
        return items.find((item) => item.description === 'confirm');
      }, async () => {
        deleted = await vscode.commands.executeCommand<string[]>('envProfiles.pruneBackups', { profileId: TEST });
      }));
      assert.equal(api.services.lastError, undefined);
      const note = offered.find((item) => item.label === '$(shield) Prune verifies first');
      assert.match(note?.detail ?? '', new RegExp(`^none of these backups has been verified, so before it deletes anything, prune verifies them, newest first, until one passes.*The decisions above assume the newest, ${newest.replace(/\./g, '\\.')}, passes`), JSON.stringify(offered));
      assert.ok(lines.includes(`info: prune ${TEST}: verified before pruning: ${newest} (none had been verified) passed`), lines.join('\n'));
      assert.deepEqual(catalog().map((b) => `${b.id} ${b.verified?.ok ?? 'never'}`), [`${newest} true`]);
      assert.deepEqual([...deleted].sort(), before.filter((id) => id !== newest).sort());
    } finally {
      fs.writeFileSync(profileFile, original);
    }
  });

  test('Prune Backups of Every Profile deletes what each profile\'s own rules no longer keep, and nothing of the others', async () => {
    const profileFile = path.join(workspace(), '.envprofiles/profiles', `${TEST}.yaml`);
    const original = fs.readFileSync(profileFile, 'utf8');
    const catalogOf = (id: string) => (JSON.parse(fs.readFileSync(path.join(workspace(), '.envprofiles/backups', id, 'catalog.json'), 'utf8')) as { backups: { id: string }[] }).backups.map((b) => b.id);
    try {
      for (let i = 0; i < 2; i++) assert.ok(await vscode.commands.executeCommand<string>('envProfiles.backupFull', { profileId: TEST }));
      fs.writeFileSync(profileFile, original.replace('    retention_days: 30', '    keep: { last: 1 }'));
      const before = catalogOf(TEST);
      const devBefore = catalogOf(DEV);
      // Asked first (the modal answered by the test: nothing can click it here): Cancel deletes nothing.
      const asked = await answeringAsTheUser(undefined, async () => {
        api.services.lastError = undefined;
        await vscode.commands.executeCommand('envProfiles.pruneAllBackups');
      });
      assert.equal(api.services.lastError, undefined, 'a cancel is no error');
      assert.equal(asked.length, 1);
      // The sizes in KB or MB (as formatSize gives them): how many backups the tests before made moves it.
      assert.match(asked[0].message, /^Delete \d+ backups? of 1 profile \([\d.]+ [KM]B\) that its keep rules no longer keep\?$/);
      assert.match(asked[0].detail ?? '', new RegExp(`^${TEST}: \\d+ of ${before.length} \\([\\d.]+ [KM]B\\)\n\nThe newest backup of each profile, its newest verified one`));
      assert.deepEqual(catalogOf(TEST), before, 'cancelled: nothing deleted');
      const deleted = await vscode.commands.executeCommand<string[]>('envProfiles.pruneAllBackups', { confirm: true });
      assert.equal(api.services.lastError, undefined);
      assert.ok(deleted.length >= 1 && deleted.length < before.length, `${deleted.length} of ${before.length}`);
      assert.deepEqual(catalogOf(TEST), before.filter((id) => !deleted.includes(id)));
      assert.ok(catalogOf(TEST).includes(before.at(-1) as string), 'the newest is kept (last 1)');
      for (const id of deleted) assert.ok(!fs.existsSync(path.join(workspace(), '.envprofiles/backups', TEST, `${id}.zip`)), id);
      assert.deepEqual(catalogOf(DEV), devBefore, 'retention_days 30 keeps every backup of dev');
      // Run again: nothing left to delete.
      assert.deepEqual(await vscode.commands.executeCommand('envProfiles.pruneAllBackups', { confirm: true }), []);
    } finally {
      fs.writeFileSync(profileFile, original);
    }
  });

  test('a new profile with the deleted one\'s id: its backups are marked as an earlier profile\'s, and its first backup is full', async () => {
    // Typing the id in Create Profile or Clone Profile warns first (an existing id is an error).
    const validate = idValidator(api.services.model.initialised()[0]);
    assert.deepEqual(validate('cli_clone'), { message: 'A deleted profile had this id; its 2 backups will list under the new profile, marked "earlier profile". Its first backup will be full.', severity: vscode.InputBoxValidationSeverity.Warning });
    assert.equal(validate(DEV), `A profile "${DEV}" already exists.`);
    assert.equal(validate('a_fresh_id'), undefined);
    api.services.lastError = undefined;
    assert.equal(await vscode.commands.executeCommand('envProfiles.createProfile', { newId: 'cli_clone', type: 'DEVELOPMENT', name: 'Recreated' }), 'cli_clone');
    assert.equal(api.services.lastError, undefined);
    const profile = await waitFor('the new profile in the tree', () => roots().find((n) => labelOf(n) === 'Recreated'));
    assert.ok(!roots().some((n) => labelOf(n) === 'cli_clone'), 'no longer listed as deleted');
    const marked = () => child(profile, 'Backups').getChildren().map((n) => String(n.getTreeItem().description).includes('· earlier profile (deleted) ·'));
    assert.deepEqual(marked(), [true, true]);
    // The tooltip says which earlier profile: each backup records its profile's created_at.
    const tooltip = child(profile, 'Backups').getChildren()[0].getTreeItem().tooltip as vscode.MarkdownString;
    assert.match(tooltip.value, /earlier profile with the id cli_clone \(created \d{4}-\d\d-\d\dT[^)]*\), which was deleted/);
    // Its databases are the ones the deleted profile left in data/cli_clone/, but for settings, which was lost.
    fs.copyFileSync(path.join(workspace(), 'data/dev/settings.sqlite3'), path.join(workspace(), 'data/cli_clone/settings.sqlite3'));
    await new Promise((r) => setTimeout(r, 50)); // created_at and the backup's time must differ
    const id = await vscode.commands.executeCommand<string>('envProfiles.backupIncremental', { profileId: 'cli_clone' });
    assert.equal(api.services.lastError, undefined);
    assert.match(id ?? '', /^cli_clone\.\S+\.full$/, 'an incremental on the deleted profile\'s backups would hold a different profile\'s pages');
    await waitFor('the new backup, not marked, above the two', () => {
      const now = child(roots().find((n) => labelOf(n) === 'Recreated') as typeof profile, 'Backups').getChildren().map((n) => String(n.getTreeItem().description).includes('earlier profile'));
      return now.length === 3 && now.join() === 'false,true,true';
    });
  });

  test('Make Missing Databases: a database whose file is missing offers it in the tree; it makes the missing ones with another profile\'s schema and leaves the one there alone', async () => {
    // Created without its databases: the warning that says so offers to make them (not clicked here: it would open a picker).
    const warned: { message: string; items: string[] }[] = [];
    const { showWarningMessage } = vscode.window;
    (vscode.window as { showWarningMessage: unknown }).showWarningMessage = async (message: string, ...items: string[]) => void warned.push({ message, items });
    try {
      assert.equal(await vscode.commands.executeCommand('envProfiles.createProfile', { newId: 'made_later', type: 'DEVELOPMENT', name: 'Made Later' }), 'made_later');
    } finally {
      (vscode.window as { showWarningMessage: unknown }).showWarningMessage = showWarningMessage;
    }
    assert.equal(warned.length, 1, JSON.stringify(warned));
    assert.match(warned[0].message, /^Created profile Made Later \(DEVELOPMENT\)\. its 3 database files, .* do not exist yet/);
    assert.deepEqual(warned[0].items, ['Make Missing Databases…']);
    const databasesOf = () => child(roots().find((n) => labelOf(n) === 'Made Later') as TreeNode, 'Databases').getChildren().map((n) => n.getTreeItem().contextValue);
    await waitFor('its databases, missing, in the tree', () => roots().some((n) => labelOf(n) === 'Made Later') && databasesOf().every((c) => c === 'envProfiles.database.missing'));
    const sectionOf = () => child(roots().find((n) => labelOf(n) === 'Made Later') as TreeNode, 'Databases').getTreeItem().description;
    assert.equal(sectionOf(), '3 · 3 missing');
    assert.deepEqual(child(roots().find((n) => labelOf(n) === 'Made Later') as TreeNode, 'Databases').getChildren().map((n) => n.getTreeItem().description), ['missing', 'missing', 'missing']);
    fs.mkdirSync(path.join(workspace(), 'data/made_later'), { recursive: true });
    fs.copyFileSync(path.join(workspace(), 'data/dev/settings.sqlite3'), path.join(workspace(), 'data/made_later/settings.sqlite3'));
    const settingsBytes = fs.readFileSync(path.join(workspace(), 'data/made_later/settings.sqlite3'));
    const window = vscode.window as { showInformationMessage: unknown };
    const { showInformationMessage } = window;
    const told: string[] = [];
    window.showInformationMessage = async (message: string) => void told.push(message);
    try {
      api.services.lastError = undefined;
      const result = await vscode.commands.executeCommand<{ made: string[]; alreadyThere: string[] }>('envProfiles.initialiseDatabases', { profileId: 'made_later', schemaFrom: DEV });
      assert.equal(api.services.lastError, undefined);
      assert.deepEqual({ made: result?.made, alreadyThere: result?.alreadyThere }, { made: ['strategies', 'market_data'], alreadyThere: ['settings'] });
      assert.deepEqual(told, [`Made 2 databases of Made Later with the schema of ${DEV}: strategies, market_data. It can be switched to and backed up now.`]);
      assert.ok(fs.readFileSync(path.join(workspace(), 'data/made_later/settings.sqlite3')).equals(settingsBytes), 'the database that was there is untouched');
      await waitFor('no database missing in the tree', () => databasesOf().every((c) => c === 'envProfiles.database'));
      assert.equal(sectionOf(), '3');
      // Run again: nothing is missing, so nothing is asked or made.
      assert.equal(await vscode.commands.executeCommand('envProfiles.initialiseDatabases', { profileId: 'made_later' }), undefined);
      assert.equal(told.at(-1), 'Every database of Made Later exists already; nothing was made.');
    } finally {
      window.showInformationMessage = showInformationMessage;
      // The tests after this one count the workspace's profiles as they were.
      fs.rmSync(path.join(workspace(), '.envprofiles/profiles/made_later.yaml'), { force: true });
      fs.rmSync(path.join(workspace(), 'data/made_later'), { recursive: true, force: true });
    }
    await waitFor('the profile gone from the tree', () => !roots().some((n) => labelOf(n) === 'Made Later'));
  });

  test('a database of the active profile removed under it: the status bar warns (its tooltip names it, with what to do), and stops once it is back', async () => {
    const folder = api.services.model.initialised()[0];
    const active = folder.activeProfile();
    assert.ok(active, 'a profile is active by now');
    const [logical, written] = Object.entries(active.databases)[1];
    const file = folder.context.layout.resolve(written);
    const aside = `${file}.aside`;
    fs.renameSync(file, aside);
    try {
      // Redrawn each minute (AgeRedraw); the test redraws at once.
      api.statusBar.update();
      assert.match(api.statusBar.item.text, /^\$\(warning\) /);
      const tooltip = (api.statusBar.item.tooltip as vscode.MarkdownString).value;
      assert.ok(tooltip.includes(`$(error) ${logical}: \`${written}\` **does not exist**`), tooltip);
      const link = (command: string, args: object) => `(command:${command}?${encodeURIComponent(JSON.stringify(args))})`;
      assert.ok(tooltip.includes(`A database is missing: the application would find none there, and SQLite would make a new, empty one. Restore it from a backup ([Restore One Database…]${link('envProfiles.restoreDatabase', { profileId: active.id, database: logical })}), or make it anew ([Make Missing Databases…]${link('envProfiles.initialiseDatabases', { profileId: active.id })}).`), tooltip);
      assert.deepEqual((api.statusBar.item.tooltip as vscode.MarkdownString).isTrusted, { enabledCommands: ['envProfiles.restoreDatabase', 'envProfiles.initialiseDatabases'] });
      assert.match(api.statusBar.item.accessibilityInformation?.label ?? '', /, 1 database missing\. Click to switch\.$/);
    } finally {
      fs.renameSync(aside, file);
    }
    api.statusBar.update();
    assert.match(api.statusBar.item.text, /^\$\(database\) /);
  });

  test('Restore One Database: the pick says where each database goes, a database renamed in the profile since the backup is restored under its new name, one no longer listed comes last and says how to get it back', async () => {
    const profileFile = path.join(workspace(), '.envprofiles/profiles', `${TEST}.yaml`);
    const market = path.join(workspace(), 'data/test/market_data.sqlite3');
    const count = (): string => {
      const run = spawnSync(process.execPath, ['-e', `const { DatabaseSync } = require('node:sqlite'); const db = new DatabaseSync(process.argv[1]); process.stdout.write(JSON.stringify(db.prepare('SELECT count(*) AS n FROM price_data').all())); db.close();`, market], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      return run.stdout;
    };
    const folder = api.services.model.initialised()[0];
    const before = count();
    api.services.lastError = undefined;
    const id = await vscode.commands.executeCommand<string>('envProfiles.backupFull', { profileId: TEST });
    assert.ok(id, api.services.lastError);
    const yaml = fs.readFileSync(profileFile, 'utf8');
    try {
      // market_data is prices in the profile now (the same file); strategies is no longer in it.
      assert.match(yaml, /^ {4}market_data: /m);
      // (also in schema.required_tables, which names databases of the profile)
      fs.writeFileSync(profileFile, yaml.replace(/^( {4}| {6})market_data: /gm, '$1prices: ').replace(/^( {4}| {6})strategies: .*\n/gm, ''));
      await waitFor('the renamed database in the model', () => folder.profile(TEST)?.databases.prices);
      const emptied = spawnSync(process.execPath, ['-e', `const { DatabaseSync } = require('node:sqlite'); const db = new DatabaseSync(process.argv[1]); db.exec('DELETE FROM price_data'); db.close();`, market], { encoding: 'utf8' });
      assert.equal(emptied.status, 0, emptied.stderr);
      assert.notEqual(count(), before);
      let offered: readonly (vscode.QuickPickItem & { name: string })[] = [];
      // Through both picks (the backup, then the database) and the modal, which names the database as the profile does now.
      const asked = await answeringAsTheUser<vscode.QuickPickItem & { name: string }>(
        (items) => {
          const backup = items.find((i) => i.detail === id);
          if (backup) return backup;
          offered = items;
          return items.find((i) => i.label === 'market_data');
        },
        async () => assert.equal(await vscode.commands.executeCommand('envProfiles.restoreDatabase', { profileId: TEST }), TEST, api.services.lastError),
        () => 'Restore',
      );
      assert.equal(asked.length, 1);
      assert.match(asked[0].message, /^Restore the database "prices" \(named "market_data" in the backup\) of test_environment_001 from the backup of /);
      assert.match(asked[0].detail ?? '', /^It replaces data\/test\/market_data\.sqlite3\. .*\n\n• market_data of this backup is prices in the profile now \(the same file, data\/test\/market_data\.sqlite3\), so it would be restored as prices\.$/);
      assert.deepEqual(
        offered.map((i) => [i.label, i.description]),
        [
          ['settings', 'data/test/settings.sqlite3'],
          ['market_data', 'data/test/market_data.sqlite3 · prices in the profile now, restored as prices'],
          ['strategies', 'data/test/strategies.sqlite3 · no longer in the profile'],
        ],
      );
      assert.match(offered[2].detail ?? '', /restore the backup as a new profile to get it back/);
      assert.equal(count(), before, 'market_data restored (as prices)');
    } finally {
      fs.writeFileSync(profileFile, yaml);
      await waitFor('the profile as it was in the model', () => folder.profile(TEST)?.databases.market_data);
    }
  });
});
