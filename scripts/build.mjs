// One esbuild build, four bundles:
//   dist/extension.js  the VS Code extension (CommonJS, `vscode` external)
//   dist/trainer.js    the trainer, a Node program and the `finetune` CLI (`onnxruntime-node` external)
//   dist/webview.js    the dashboard webview (browser)
//   dist/table.js      the experiments table webview (browser)
// and dist/finetune.schema.json, the config JSON Schema (CONFIG_SCHEMA) that package.json
// contributes for *.finetune.json (jsonValidation) and *.finetune.yaml|yml (yamlValidation).
// Usage: node scripts/build.mjs [--watch] [--production]
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };

const builds = [
  {
    ...common,
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    external: ['vscode'],
  },
  {
    ...common,
    entryPoints: ['src/trainer/cli.ts'],
    outfile: 'dist/trainer.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['onnxruntime-node'],
    banner: { js: '#!/usr/bin/env node' },
  },
  { ...common, entryPoints: ['src/webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife', target: 'es2022' },
  { ...common, entryPoints: ['src/webview/table/main.ts'], outfile: 'dist/table.js', platform: 'browser', format: 'iife', target: 'es2022' },
];

/** Bundles the schema module to CommonJS in memory, evaluates it and writes its CONFIG_SCHEMA as JSON. */
async function writeSchema() {
  const out = await esbuild.build({
    entryPoints: ['src/shared/config/schema.ts'],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
  });
  const mod = { exports: {} };
  new Function('module', 'exports', 'require', out.outputFiles[0].text)(mod, mod.exports, () => {
    throw new Error('schema.ts must not import anything');
  });
  fs.mkdirSync('dist', { recursive: true });
  fs.writeFileSync('dist/finetune.schema.json', JSON.stringify(mod.exports.CONFIG_SCHEMA, null, 2) + '\n');
}

await writeSchema();

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  console.log('watching src/ for changes');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
