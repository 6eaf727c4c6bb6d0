#!/usr/bin/env node
// Packages the extension as a platform-targeted VSIX (default linux-x64) with @vscode/vsce, then
// checks it: lists what went in, unzips it into a temp folder and runs the packaged trainer's
// engine check from there (proves onnxruntime-node and its runtime dependency are inside and that
// everything else the trainer needs is bundled).
//
// Usage: node scripts/e2e/package.mjs [--out <file.vsix>] [--target linux-x64] [--no-build] [--verify full|check|none]
//   --no-build   use dist/ as it is (when the caller has just built it)
//   --verify     full (default): `trainer.js check` and a 4-step training of examples/ner from the
//                unzipped VSIX (tokenizer, config schema, data, checkpoint, ONNX export);
//                check: the engine check only; none: no run
//
// What goes in is decided by .vscodeignore (an allow-list). The production build runs here unless
// package.json defines `vscode:prepublish` (vsce runs that itself).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function fail(step, message) {
  throw new Error(`package: ${step} failed: ${message}`);
}

function run(step, cmd, args, opts = {}) {
  // Child output goes to stderr: stdout stays clean for a caller's TAP stream (the e2e).
  const r = spawnSync(cmd, args, { cwd: root, stdio: opts.capture ? 'pipe' : ['ignore', 2, 2], encoding: 'utf8', ...opts });
  if (r.error) fail(step, `${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(step, `${cmd} ${args.join(' ')} exited with ${r.status}${opts.capture ? `\n${r.stdout}\n${r.stderr}` : ''}`);
  return r;
}

const VSCE_TARGETS = {
  'linux-x64': ['linux', 'x64'],
  'linux-arm64': ['linux', 'arm64'],
  'darwin-arm64': ['darwin', 'arm64'],
  'win32-x64': ['win32', 'x64'],
  'win32-arm64': ['win32', 'arm64'],
};

export async function packageVsix({ target = 'linux-x64', out, build = true, verify = 'full', log = console.log } = {}) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const platform = VSCE_TARGETS[target];
  if (!platform) fail('target', `unsupported target ${target} (one of ${Object.keys(VSCE_TARGETS).join(', ')})`);
  out = path.resolve(root, out ?? `${pkg.name}-${target}-${pkg.version}.vsix`);

  // 1. Build (minified, no source maps) unless vsce will run vscode:prepublish.
  if (build && !pkg.scripts?.['vscode:prepublish']) {
    log('package: building (production)');
    run('build', process.execPath, ['scripts/build.mjs', '--production']);
  }

  // 2. The native binaries for the target must be there (npm installs all platforms' CPU builds).
  const binDir = path.join(root, 'node_modules/onnxruntime-node/bin/napi-v6', ...platform);
  if (!fs.existsSync(path.join(binDir, 'onnxruntime_binding.node'))) fail('onnxruntime-node binaries', `${binDir} has no onnxruntime_binding.node; run npm ci`);
  if (!fs.existsSync(path.join(root, 'LICENSE'))) fail('license', 'LICENSE is missing (vsce asks for one)');

  // 3. vsce. `--allow-missing-repository` and `--no-rewrite-relative-links` only while package.json
  // has no repository (vsce cannot make README links absolute without one).
  const vsce = path.join(root, 'node_modules/@vscode/vsce/vsce');
  const args = [vsce, 'package', '--target', target, '--out', out];
  if (!pkg.repository) args.push('--allow-missing-repository', '--no-rewrite-relative-links');
  fs.rmSync(out, { force: true });
  log(`package: vsce ${args.slice(1).join(' ')}`);
  // vsce asks y/N questions on a TTY for some warnings; stdin closed answers "no" instead of hanging.
  run('vsce package', process.execPath, args);
  if (!fs.existsSync(out)) fail('vsce package', `${out} was not written`);

  // 4. What went in.
  const listing = run('list', 'unzip', ['-Z1', out], { capture: true })
    .stdout.split('\n')
    .filter((f) => f && !f.endsWith('/'));
  const size = fs.statSync(out).size;
  const groups = new Map();
  for (const f of listing) {
    const parts = f.split('/');
    const key = parts[0] !== 'extension' ? parts[0] : parts[1] === 'node_modules' ? parts.slice(1, 3).join('/') : parts.length > 2 ? parts[1] + '/' : parts[1];
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  log(`package: ${path.relative(process.cwd(), out)}: ${(size / 1024 / 1024).toFixed(1)} MiB, ${listing.length} files`);
  for (const [k, n] of groups) log(`  ${k}${n > 1 ? ` (${n} files)` : ''}`);
  const forbidden = listing.filter(
    (f) =>
      /\/node_modules\/(?!onnxruntime-node\/|onnxruntime-common\/)/.test(f) || /\.map$|\.ts$|\/src\/|\/test\//.test(f) || /napi-v6\/(?!linux\/x64)/.test(f),
  );
  if (target === 'linux-x64' && forbidden.length) fail('contents', `unexpected files in the VSIX:\n  ${forbidden.slice(0, 20).join('\n  ')}`);
  for (const need of [pkg.main?.replace(/^\.\//, ''), 'dist/trainer.js', 'package.json']) {
    if (need && !listing.includes(`extension/${need}`)) fail('contents', `extension/${need} is not in the VSIX`);
  }

  // 5. The packaged trainer runs on its own (only on the host's own platform).
  if (verify !== 'none' && platform[0] === process.platform && platform[1] === process.arch) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-vsix-'));
    try {
      run('unzip', 'unzip', ['-q', out, '-d', tmp]);
      log('package: verify: node extension/dist/trainer.js check (from the unzipped VSIX)');
      const r = spawnSync(process.execPath, ['extension/dist/trainer.js', 'check'], { cwd: tmp, encoding: 'utf8', timeout: 120_000 });
      const text = `${r.stdout}${r.stderr}`.trim();
      if (r.status !== 0) fail('verify (packaged trainer check)', `exit ${r.status ?? r.signal}\n${text}`);
      log(
        text
          .split('\n')
          .map((l) => `  | ${l}`)
          .join('\n'),
      );
      if (verify === 'full') {
        const ner = path.join(tmp, 'ner');
        fs.cpSync(path.join(root, 'examples/ner'), ner, { recursive: true, filter: (src) => !src.includes(`${path.sep}.finetune`) });
        const cfg = fs.readdirSync(ner).find((f) => /\.finetune\.ya?ml$/.test(f));
        if (!cfg) fail('verify (packaged trainer train)', 'examples/ner has no *.finetune.yaml');
        log(`package: verify: node extension/dist/trainer.js train ner/${cfg} --set training.max_steps=4 --set training.epochs=1`);
        const t = spawnSync(
          process.execPath,
          ['extension/dist/trainer.js', 'train', `ner/${cfg}`, '--set', 'training.max_steps=4', '--set', 'training.epochs=1'],
          { cwd: tmp, encoding: 'utf8', timeout: 300_000 },
        );
        const ttext = `${t.stdout}${t.stderr}`.trim();
        if (t.status !== 0) fail('verify (packaged trainer train)', `exit ${t.status ?? t.signal}\n${ttext}`);
        log(`  | ${ttext.split('\n').at(-1)}`);
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  return { out, size, files: listing };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await packageVsix({
      target: arg('--target', 'linux-x64'),
      out: arg('--out', undefined),
      build: !process.argv.includes('--no-build'),
      verify: arg('--verify', 'full'),
    });
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
