#!/usr/bin/env node
// `npm run test:e2e`: the extension end to end in a real VS Code (code-server) in headless Chromium.
// The test itself (test/e2e/vscode.e2e.mjs) installs what is missing into the cache (Node 24,
// code-server, Debian's chromium and libkrb5-dev), builds and packages the VSIX, installs it,
// starts code-server on 127.0.0.1 and drives the workbench. Output is TAP; the last lines are
// node:test's summary (# tests, # pass, # fail, ...). Screenshots and logs: test-output/e2e/.
//
// Usage: node scripts/e2e/run.mjs [--setup-only]
//   --setup-only   install the cached tools and exit (CI can warm the cache while other things run)
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { setup, ROOT } from './setup.mjs';

if (process.argv.includes('--setup-only')) {
  try {
    const t0 = Date.now();
    const r = setup();
    console.log(`e2e setup: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${r.nodeVersion}; code-server and chromium in place)`);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
  process.exit(0);
}

const test = path.join(ROOT, 'test/e2e/vscode.e2e.mjs');
const r = spawnSync(process.execPath, ['--test-reporter=tap', test], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
});
process.exit(r.status ?? 1);
