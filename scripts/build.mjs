// Bundles the extension, the CLI, the demo generator and the tests with esbuild.
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
/**
 * `import * as fs from 'node:fs'` in a CommonJS bundle copies fs's properties into a new namespace
 * object in every module that imports it (esbuild's interop): 59 copies, ~5 ms of every CLI start.
 * Routing Node's built-ins through one shared re-export makes that one copy per built-in.
 */
const sharedBuiltins = {
  name: 'shared-builtins',
  setup(build) {
    // Only import statements: a require() (node:sqlite, which may be missing) stays as written.
    build.onResolve({ filter: /^node:(fs|path|os|zlib|crypto)$/ }, (args) => {
      if (args.namespace === 'shared-builtin') return { path: args.path, external: true };
      return args.kind === 'import-statement' ? { path: args.path, namespace: 'shared-builtin' } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'shared-builtin' }, (args) => ({ contents: `export * from ${JSON.stringify(args.path)};`, loader: 'js' }));
  },
};
const common = { define: { ENVPROFILES_VERSION: JSON.stringify(version) }, bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning', plugins: [sharedBuiltins] };

rmSync(join(root, 'dist'), { recursive: true, force: true });
rmSync(join(root, 'out'), { recursive: true, force: true });
mkdirSync(join(root, 'dist'), { recursive: true });

await esbuild.build({ ...common, entryPoints: [join(root, 'src/extension.ts')], outfile: join(root, 'dist/extension.js'), external: ['vscode'] });
await esbuild.build({ ...common, entryPoints: [join(root, 'src/cli/main.ts')], outfile: join(root, 'dist/cli-main.js') });
await esbuild.build({ ...common, entryPoints: [join(root, 'src/cli/launcher.ts')], outfile: join(root, 'dist/cli.js'), banner: { js: '#!/usr/bin/env node' }, external: ['./cli-main.js'] });
await esbuild.build({ ...common, entryPoints: [join(root, 'src/demo/main.ts')], outfile: join(root, 'dist/demo.js') });
// sql.js loads its WASM at run time from beside the bundle.
cpSync(join(root, 'node_modules/sql.js/dist/sql-wasm.wasm'), join(root, 'dist/sql-wasm.wasm'));

const testFiles = readdirSync(join(root, 'test')).filter((f) => f.endsWith('.test.ts')).map((f) => join(root, 'test', f));
await esbuild.build({ ...common, entryPoints: testFiles, outdir: join(root, 'out/test'), external: ['mocha'] });
// Tests that run inside the VS Code extension host (mocha from node_modules, vscode from the host).
await esbuild.build({ ...common, entryPoints: ['index', 'extension.test', 'multiRootIndex', 'multiRoot.test', 'untrustedIndex', 'untrusted.test', 'treeBench'].map((name) => join(root, `src/test/host/${name}.ts`)), outdir: join(root, 'out/host'), external: ['vscode', 'mocha'] });
const benchFiles = readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.bench.ts')).map((f) => join(root, 'bench', f));
await esbuild.build({ ...common, entryPoints: benchFiles, outdir: join(root, 'out/bench') });
