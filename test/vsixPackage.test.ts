import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { builtinModules } from 'node:module';
import { REPO_ROOT, tempDir } from './support/workspaces';

describe('the packaged extension (.vsix)', function () {
  this.timeout(120_000);

  it('npm run package writes a .vsix offline that holds every runtime asset and nothing else', () => {
    const out = path.join(tempDir(), 'env-profiles.vsix');
    const vsce = path.join(REPO_ROOT, 'node_modules/@vscode/vsce/vsce');
    const packaged = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(packaged.status, 0, packaged.stdout + packaged.stderr);
    const listing = spawnSync('unzip', ['-Z1', out], { encoding: 'utf8' });
    assert.equal(listing.status, 0, listing.stderr);
    const entries = listing.stdout.trim().split('\n').sort();
    // The CLI is packaged too: the extension runs backups and verification in it, as a child process.
    for (const required of ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/cli.js', 'extension/dist/cli-main.js', 'extension/dist/sql-wasm.wasm', 'extension/media/environments.svg', 'extension/readme.md']) {
      assert.ok(entries.includes(required), `${required} is in the package`);
    }
    assert.deepEqual(entries.filter((e) => /^extension\/(src|test|node_modules|scripts|bench|out)\//.test(e)), [], 'no sources, tests or node_modules');
    const manifest = JSON.parse(spawnSync('unzip', ['-p', out, 'extension/package.json'], { encoding: 'utf8' }).stdout);
    assert.equal(manifest.main, './dist/extension.js');
    assert.ok(!manifest.activationEvents.includes('*'), 'activation is lazy');
    // Everything the bundle loads at run time is in the package: only vscode and Node built-ins stay external.
    for (const [file, own] of [['extension.js', 'vscode'], ['cli.js', './cli-main.js'], ['cli-main.js', '']]) {
      const bundle = spawnSync('unzip', ['-p', out, `extension/dist/${file}`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).stdout;
      const required = new Set([...bundle.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]));
      const external = [...required].filter((name) => name !== own && !name.startsWith('node:') && !builtinModules.includes(name));
      assert.deepEqual(external, [], `${file} needs nothing outside the package`);
    }
    // The packaged CLI runs on its own (unpacked, away from the repository's node_modules).
    const unpacked = tempDir('envprofiles-vsix-');
    assert.equal(spawnSync('unzip', ['-q', out, '-d', unpacked]).status, 0);
    const version = spawnSync(process.execPath, [path.join(unpacked, 'extension/dist/cli.js'), '--version'], { encoding: 'utf8' });
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), manifest.version);
    assert.ok(fs.statSync(out).size < 5 * 1024 * 1024);
  });
});
