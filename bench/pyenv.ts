// The Python side of `npm run bench`: a virtual environment with the current PyTorch (2.x, CPU
// build), created on first use in the git-ignored .cache/bench-py from bench/requirements.txt and
// recreated when that file changes. FINETUNE_BENCH_PYTHON names an existing Python instead.
//
// pip's index: PIP_INDEX_URL when set; otherwise, when pip's own configuration names an index or
// extra index (e.g. a local package mirror, `pip config list`), the first of those becomes the
// index, so that pip does not also wait on the default index when it is unreachable.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface PyPeer {
  python: string;
  torch: string;
  label: string;
}

/** The torch version a Python has, or undefined when it has none. */
export function torchVersion(python: string): string | undefined {
  try {
    return execFileSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** The index URLs pip's configuration names (global.index-url first, then extra-index-url), if any. */
function configuredIndexes(python: string): string[] {
  let out = '';
  try {
    out = execFileSync(python, ['-m', 'pip', 'config', 'list'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return [];
  }
  const urls: string[] = [];
  for (const key of ['index-url', 'extra-index-url']) {
    for (const line of out.split('\n')) {
      const m = new RegExp(`^[\\w:.-]*\\.${key}='(.*)'$`).exec(line.trim());
      if (m) urls.push(...m[1].split(/\s+/).filter(Boolean));
    }
  }
  return [...new Set(urls)];
}

/** The environment pip runs with: PIP_INDEX_URL as the user set it, else the configured mirror. */
export function pipEnv(python: string): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (env.PIP_INDEX_URL) return env;
  const urls = configuredIndexes(python);
  if (urls.length) {
    env.PIP_INDEX_URL = urls[0];
    if (urls.length > 1 && !env.PIP_EXTRA_INDEX_URL) env.PIP_EXTRA_INDEX_URL = urls.slice(1).join(' ');
  }
  return env;
}

/** The bench's own Python with PyTorch 2.x: created or updated when bench/requirements.txt changed. */
export function benchPython(root: string, log: (s: string) => void): PyPeer {
  const given = process.env.FINETUNE_BENCH_PYTHON;
  if (given) {
    const torch = torchVersion(given);
    if (!torch) throw new Error(`FINETUNE_BENCH_PYTHON=${given} has no torch`);
    return { python: given, torch, label: `PyTorch ${torch}` };
  }
  const req = path.join(root, 'bench', 'requirements.txt');
  const venv = path.join(root, '.cache', 'bench-py');
  const python = path.join(venv, 'bin', 'python');
  const stamp = path.join(venv, 'requirements.sha256');
  const want = createHash('sha256').update(fs.readFileSync(req)).digest('hex');
  const have = fs.existsSync(stamp) ? fs.readFileSync(stamp, 'utf8').trim() : '';
  if (!fs.existsSync(python) || have !== want) {
    const base = process.env.PYTHON || 'python3';
    log(`bench: setting up ${path.relative(root, venv)} (PyTorch 2.x, from bench/requirements.txt)...`);
    if (!fs.existsSync(python)) execFileSync(base, ['-m', 'venv', venv], { stdio: 'inherit' });
    const env = pipEnv(python);
    if (env.PIP_INDEX_URL && !process.env.PIP_INDEX_URL)
      log(`bench: pip index ${env.PIP_INDEX_URL} (from pip's configuration; set PIP_INDEX_URL to use another)`);
    execFileSync(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', req], { stdio: 'inherit', env });
    fs.writeFileSync(stamp, want + '\n');
  }
  const torch = torchVersion(python);
  if (!torch) throw new Error(`${python} has no torch after installing ${req}`);
  return { python, torch, label: `PyTorch ${torch}` };
}

/** Debian's PyTorch (python3-torch, 1.x), as a second column only: /usr/bin/python3 when it has torch. */
export function systemPython(peer: PyPeer): PyPeer | undefined {
  const python = process.env.FINETUNE_BENCH_PYTHON2 || '/usr/bin/python3';
  if (!fs.existsSync(python)) return undefined;
  const torch = torchVersion(python);
  if (!torch || torch === peer.torch) return undefined;
  return { python, torch, label: `PyTorch ${torch}` };
}
