// End-to-end: the packaged extension in a real VS Code (code-server, in headless Chromium), used the
// way a person uses it. Run with `npm run test:e2e` (scripts/e2e/run.mjs); prints TAP and ends
// with node:test's summary. Each step is one test; a step whose prerequisite failed is skipped and
// says which one. A failing step saves a screenshot, the extension host's logs (Output channels
// included), code-server's log and the browser console into test-output/e2e/ and names itself in
// the message. Screenshots of every step are saved there too.
//
// Environment:
//   FINETUNE_E2E_CACHE   where Node 24 and code-server are installed (default .cache/e2e)
//   FINETUNE_E2E_EPOCHS  epochs of the example config in the test workspace (default 2)
//   FINETUNE_E2E_VSIX    use this VSIX instead of building and packaging one
//   FINETUNE_E2E_KEEP=1  keep the temp folder (workspace, user data) for a look afterwards
//   FINETUNE_E2E_BUDGET_MIN  minutes for all steps together, setup included (default 20); steps
//                        past it fail at once, so CI stays inside its limit
import { after, test } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { setup, codeServerEnv, ROOT } from '../../scripts/e2e/setup.mjs';
import { packageVsix } from '../../scripts/e2e/package.mjs';
import { Workbench, rowStatus, sleep, waitFor } from './workbench.mjs';
import { decodePng, inkStats } from './png.mjs';

const OUT = path.join(ROOT, 'test-output/e2e');
const EPOCHS = Number(process.env.FINETUNE_E2E_EPOCHS ?? 2);
const BUDGET_MS = Number(process.env.FINETUNE_E2E_BUDGET_MIN ?? 20) * 60_000; // all steps together, setup included
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--disable-quic',
];
const CONFIG_NAME = 'ner.finetune.yaml';
const EXTENSION_ID = 'finetune.finetune';

const t0 = Date.now();
const log = (m) => process.stderr.write(`[e2e ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}\n`);

fs.rmSync(OUT, { recursive: true, force: true });
fs.mkdirSync(OUT, { recursive: true });

/** Everything the steps share. */
const E = {
  tools: undefined,
  vsix: undefined,
  tmp: undefined,
  ws: undefined,
  config: undefined,
  ud: undefined,
  ext: undefined,
  port: 0,
  cs: undefined,
  csExit: undefined,
  browser: undefined,
  page: undefined,
  wb: undefined,
  firstRun: undefined,
  secondRun: undefined,
  lrRuns: undefined,
  lrLine: 0,
  hub: undefined,
  hubProc: undefined,
  doing: '',
  stepFile: '',
};

// ---- steps ----------------------------------------------------------------------------------------

const passed = new Set();
let n = 0;

/**
 * One step: a test named "NN what", run only when the steps it needs passed, with its own deadline.
 * Pass: a screenshot NN-name.png. Fail: NN-name-FAILED.png, logs, and an error naming the step.
 */
function step(name, { needs = [], timeout = 60_000, screenshot = true } = {}, fn) {
  const id = String(++n).padStart(2, '0');
  const full = `${id} ${name}`;
  const file = `${id}-${name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60)}`;
  test(full, async (t) => {
    const blocked = needs.filter((x) => !passed.has(x));
    if (blocked.length) {
      t.skip(`not run: needs step${blocked.length > 1 ? 's' : ''} ${blocked.map((b) => `"${b}"`).join(', ')} to pass first`);
      return;
    }
    const left = BUDGET_MS - (Date.now() - t0);
    if (left < 5_000) throw new Error(`e2e step "${full}" failed: not run, the e2e's time budget (FINETUNE_E2E_BUDGET_MIN=${BUDGET_MS / 60_000}) is used up`);
    timeout = Math.min(timeout, left);
    E.doing = '';
    E.stepFile = file;
    log(`step ${full}`);
    const started = Date.now();
    let timer;
    try {
      await Promise.race([
        fn(t),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${timeout / 1000} s${E.doing ? ` while ${E.doing}` : ''}`)), timeout);
        }),
      ]);
      passed.add(name);
      if (screenshot && E.page) await E.page.screenshot({ path: path.join(OUT, `${file}.png`) }).catch(() => {});
      log(`  ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      const saved = await saveFailure(file);
      const msg = e instanceof Error ? e.message : String(e);
      log(`  FAILED: ${msg.split('\n')[0]}`);
      const err = new Error(`e2e step "${full}" failed: ${msg}${saved.length ? `\n  saved: ${saved.join(', ')}` : ''}`);
      err.stack = err.message;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  });
  return name;
}

async function saveFailure(file) {
  const saved = [];
  if (E.page) {
    const shot = path.join(OUT, `${file}-FAILED.png`);
    if (
      await E.page.screenshot({ path: shot }).then(
        () => true,
        () => false,
      )
    )
      saved.push(path.relative(ROOT, shot));
  }
  saved.push(...copyLogs());
  return saved;
}

/** code-server's logs folder (remote agent, extension host, Output channels) into test-output/e2e/logs. */
function copyLogs() {
  const saved = [];
  if (E.ud && fs.existsSync(path.join(E.ud, 'logs'))) {
    const dest = path.join(OUT, 'logs');
    fs.rmSync(dest, { recursive: true, force: true });
    fs.cpSync(path.join(E.ud, 'logs'), dest, { recursive: true });
    const exthost = listFiles(dest).filter((f) => /exthost|Fine-tune|finetune/i.test(f));
    saved.push(`${path.relative(ROOT, dest)}/ (${exthost.length ? exthost.map((f) => path.relative(dest, f)).join(', ') : 'no extension host log yet'})`);
  }
  if (fs.existsSync(path.join(OUT, 'code-server.log'))) saved.push('test-output/e2e/code-server.log');
  if (fs.existsSync(path.join(OUT, 'browser-console.log'))) saved.push('test-output/e2e/browser-console.log');
  return saved;
}

function listFiles(dir) {
  const out = [];
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

// ---- run folders in the test workspace (the ground truth the UI is checked against) ----------------

function findRuns() {
  const runs = [];
  const walk = (dir, depth) => {
    if (depth > 6) return;
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of entries) {
      if (!d.isDirectory() || d.name === 'node_modules' || d.name === 'checkpoints' || d.name === 'tensorboard') continue;
      const p = path.join(dir, d.name);
      if (path.basename(dir) === 'runs' && path.basename(path.dirname(dir)) === '.finetune') {
        try {
          const info = JSON.parse(fs.readFileSync(path.join(p, 'run.json'), 'utf8'));
          runs.push({ ...info, dir: p });
        } catch {
          /* being written, or not a run */
        }
      } else walk(p, depth + 1);
    }
  };
  walk(E.ws, 0);
  return runs.sort((a, b) => String(a.createdAt ?? a.id).localeCompare(String(b.createdAt ?? b.id)));
}

const runById = (id) => findRuns().find((r) => r.id === id);
const isAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};
const describeRun = (r) =>
  r
    ? `${r.id}: ${r.status}${r.step !== undefined ? `, step ${r.step}/${r.totalSteps ?? '?'}` : ''}${r.error ? `, error ${JSON.stringify(r.error).slice(0, 300)}` : ''}`
    : 'no such run';

/** Trainer lines of a run (train.log) for messages. */
function runLogTail(r, lines = 15) {
  try {
    return fs.readFileSync(path.join(r.dir, 'train.log'), 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no train.log)';
  }
}

/** The run's key metric (as the sidebar shows it) and the ways it may be printed. */
function keyMetric(run) {
  const name = run.config?.evaluation?.metric ?? run.best?.metric ?? 'f1';
  const value = run.final?.[`test_${name}`] ?? run.best?.value ?? run.final?.[`best_${name}`];
  if (typeof value !== 'number') return undefined;
  const texts = [...new Set([value.toFixed(2), value.toFixed(3), value.toFixed(4), (value * 100).toFixed(1), (value * 100).toFixed(2)])];
  return { name, value, texts };
}

async function waitRunStatus(id, want, timeout) {
  const bad = ['failed', 'completed', 'stopped'].filter((s) => !want.includes(s));
  return waitFor(
    `run ${id} to be ${want.join(' or ')} (run.json)`,
    () => {
      const r = runById(id);
      if (r && bad.includes(r.status))
        throw Object.assign(new Error(`run ${id} is ${r.status}, expected ${want.join(' or ')}: ${describeRun(r)}\n--- train.log ---\n${runLogTail(r)}`), {
          fatal: true,
        });
      return r && want.includes(r.status) ? r : false;
    },
    { timeout, interval: 500 },
  ).catch((e) => {
    if (e.fatal || !/not within/.test(e.message)) throw e;
    const r = runById(id);
    throw new Error(`${e.message}; it is ${describeRun(r)}${r ? `\n--- train.log ---\n${runLogTail(r)}` : ''}`);
  });
}

/** Rows of the Fine-tune Runs view that are runs (not config groups). */
async function runRows() {
  const rows = await E.wb.sidebarTreeRows();
  return rows.some((r) => r.level >= 2) ? rows.filter((r) => r.level >= 2) : rows;
}
const showRows = (rows) => rows.map((r) => `[${rowStatus(r)}] ${r.label} — ${r.description}`).join('; ') || 'no rows';

async function waitRows(what, pred, timeout = 30_000) {
  E.doing = `waiting for the Runs view to show ${what}`;
  return waitFor(
    `the Fine-tune Runs view to show ${what}`,
    async () => {
      const rows = await runRows();
      return pred(rows) ? rows : false;
    },
    { timeout },
  ).catch(async (e) => {
    throw new Error(`${e.message.split(';')[0]}; it shows: ${showRows(await runRows())}`);
  });
}

async function startRunFromPalette(config = CONFIG_NAME, { timeout = 30_000 } = {}) {
  const before = new Set(findRuns().map((r) => r.id));
  await E.wb.openFile(config, { timeout });
  E.doing = 'running "Fine-tune: Start" from the command palette';
  await E.wb.runCommand('Fine-tune: Start', { timeout });
  await E.wb.answerQuickPick(new RegExp(config.split('.')[0], 'i'));
  E.doing = 'waiting for a new run folder';
  const run = await waitFor(`a new run folder under ${E.ws}/**/.finetune/runs after "Fine-tune: Start"`, () => findRuns().find((r) => !before.has(r.id)), {
    timeout: 60_000,
  });
  log(`  new run ${run.id}`);
  return run;
}

// ---- the steps ----------------------------------------------------------------------------------------

const SETUP = step('setup: Node 24, code-server and chromium in the cache', { timeout: 25 * 60_000, screenshot: false }, async () => {
  const s0 = Date.now();
  E.tools = setup({ log });
  log(`  ${E.tools.nodeVersion}, code-server, chromium ready in ${((Date.now() - s0) / 1000).toFixed(1)} s (${JSON.stringify(E.tools.timings)})`);
});

const PACKAGE = step('package: build and package the linux-x64 VSIX', { timeout: 5 * 60_000, screenshot: false }, async () => {
  if (process.env.FINETUNE_E2E_VSIX) {
    E.vsix = path.resolve(process.env.FINETUNE_E2E_VSIX);
    if (!fs.existsSync(E.vsix)) throw new Error(`FINETUNE_E2E_VSIX=${E.vsix} does not exist`);
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-vsix-'));
  const r = await packageVsix({ out: path.join(tmp, 'finetune-linux-x64.vsix'), verify: 'check', log: (m) => log(`  ${m}`) });
  E.vsix = r.out;
  log(`  ${(r.size / 1024 / 1024).toFixed(1)} MiB, ${r.files.length} files`);
});

const INSTALL = step('install: the VSIX installs into code-server', { needs: [SETUP, PACKAGE], timeout: 2 * 60_000, screenshot: false }, async () => {
  E.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-e2e-'));
  E.ud = path.join(E.tmp, 'user-data');
  E.ext = path.join(E.tmp, 'extensions');
  fs.mkdirSync(path.join(E.ud, 'User'), { recursive: true });
  // Settings for a quiet, predictable window: no welcome page, tips, AI panels or update checks;
  // no completion pop-ups or auto-indent while the test types into the editor.
  fs.writeFileSync(
    path.join(E.ud, 'User/settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'extensions.ignoreRecommendations': true,
        'chat.disableAIFeatures': true,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'security.workspace.trust.enabled': false,
        'files.autoSave': 'off',
        'editor.hover.delay': 300,
        'editor.autoIndent': 'none',
        'editor.quickSuggestions': { other: false, comments: false, strings: false },
        'editor.suggestOnTriggerCharacters': false,
        'editor.acceptSuggestionOnEnter': 'off',
        'editor.wordBasedSuggestions': 'off',
        'editor.autoClosingBrackets': 'never',
        'editor.autoClosingQuotes': 'never',
        'editor.minimap.enabled': false,
        'workbench.colorTheme': 'Default Dark Modern',
      },
      null,
      2,
    ),
  );
  const env = codeServerEnv({ node: E.tools.node, cache: E.tools.cache });
  const cs = (args) =>
    spawnSync(E.tools.node, [E.tools.codeServer, ...args, '--extensions-dir', E.ext, '--user-data-dir', E.ud], { env, encoding: 'utf8', timeout: 90_000 });
  const inst = cs(['--install-extension', E.vsix, '--force']);
  if (inst.status !== 0) throw new Error(`code-server --install-extension exited ${inst.status ?? inst.signal}:\n${inst.stdout}${inst.stderr}`);
  const list = cs(['--list-extensions', '--show-versions']);
  if (!list.stdout.toLowerCase().includes(EXTENSION_ID))
    throw new Error(`code-server --list-extensions does not list ${EXTENSION_ID}:\n${list.stdout}${list.stderr}`);
  log(`  installed: ${list.stdout.trim()}`);

  // The workspace: a copy of examples/ (no run folders), the NER config shortened for CI.
  E.ws = path.join(E.tmp, 'workspace');
  fs.cpSync(path.join(ROOT, 'examples'), E.ws, { recursive: true, filter: (src) => path.basename(src) !== '.finetune' });
  E.config = path.join(E.ws, 'ner', CONFIG_NAME);
  let yaml = fs.readFileSync(E.config, 'utf8');
  if (!/^ {2}epochs: \d+/m.test(yaml)) throw new Error(`${CONFIG_NAME} has no "  epochs: N" line to shorten`);
  yaml = yaml.replace(/^( {2}epochs: )\d+/m, `$1${EPOCHS}`);
  fs.writeFileSync(E.config, yaml);
  E.lrLine = yaml.split('\n').findIndex((l) => /^\s+lr:\s/.test(l)) + 1;
  if (!E.lrLine) throw new Error(`${CONFIG_NAME} has no "lr:" line`);
  // The run-identity steps' config, written before the workbench opens: quick open does not
  // find a file written after its first search.
  fs.writeFileSync(path.join(E.ws, 'ner', LR_CONFIG), lrConfig(LR_VALUES[0]));
  writeSweepWorkspace();
});

// The Hub side: the test Hub server (test/helpers/hubserver.ts) on 127.0.0.1 and a Hugging Face
// cache in the temp folder holding one of its models, downloaded by the trainer's own resolver
// (test/e2e/hubfixture.ts). code-server (and so the extension and the trainers it forks) gets
// HF_HOME and HF_ENDPOINT pointing at them. Two configs use them: one with the cached model, one
// with a model that is not cached (its download trickles, so that its progress can be seen).
const HUB_CACHED_CONFIG = 'hub-cached.finetune.yaml';
const HUB_DOWNLOAD_CONFIG = 'hub-download.finetune.yaml';
const hubConfig = (name, id) => `name: ${name}
task: token-classification
model:
  pretrained: ${id}
data:
  format: conll
  train: data/train.txt
  validation: data/dev.txt
  max_length: 32
training:
  epochs: 1
  max_steps: 4
  batch_size: 8
  lr: 3.0e-5
threads: 1
`;
const HUB = step(
  'hub: a Hub-compatible server on 127.0.0.1 and a Hugging Face cache holding one of its models',
  { needs: [INSTALL], timeout: 60_000, screenshot: false },
  async () => {
    const home = path.join(E.tmp, 'hf-home');
    E.doing = 'starting test/e2e/hubfixture.ts';
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/e2e/hubfixture.ts'), home], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    E.hubProc = proc;
    let err = '';
    proc.stderr.on('data', (d) => (err += d));
    const info = await new Promise((resolve, reject) => {
      let out = '';
      proc.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]));
      });
      proc.once('exit', (code) => reject(new Error(`hubfixture.ts exited ${code}: ${err.slice(-2000)}`)));
    });
    E.hub = { ...info, home };
    fs.writeFileSync(path.join(E.ws, 'ner', HUB_CACHED_CONFIG), hubConfig('hub-cached', info.cached));
    fs.writeFileSync(path.join(E.ws, 'ner', HUB_DOWNLOAD_CONFIG), hubConfig('hub-download', info.download));
    log(`  Hub server ${info.url}; ${info.cached} cached in ${home}`);
  },
);

const SERVER = step('code-server starts on 127.0.0.1', { needs: [INSTALL], timeout: 90_000, screenshot: false }, async () => {
  E.port = await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });
  const logFd = fs.openSync(path.join(OUT, 'code-server.log'), 'w');
  const args = [
    E.tools.codeServer,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${E.port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--user-data-dir',
    E.ud,
    '--extensions-dir',
    E.ext,
    '--config',
    path.join(E.tmp, 'code-server.yaml'),
    E.ws,
  ];
  fs.writeFileSync(path.join(E.tmp, 'code-server.yaml'), `bind-addr: 127.0.0.1:${E.port}\nauth: none\ncert: false\n`);
  // The Hugging Face cache and endpoint of the hub steps (nothing from outside: no token, not offline).
  const hfEnv = E.hub ? { HF_HOME: E.hub.home, HF_HUB_CACHE: path.join(E.hub.home, 'hub'), HF_ENDPOINT: E.hub.url, HF_TOKEN: '', HF_HUB_OFFLINE: '' } : {};
  E.cs = spawn(E.tools.node, args, {
    env: codeServerEnv({ node: E.tools.node, cache: E.tools.cache, extra: hfEnv }),
    stdio: ['ignore', logFd, logFd],
    detached: true,
  });
  fs.closeSync(logFd);
  E.csExit = new Promise((resolve) => E.cs.once('exit', (code, signal) => resolve(code ?? signal)));
  let exited;
  void E.csExit.then((c) => {
    exited = c;
  });
  E.doing = `waiting for http://127.0.0.1:${E.port}/healthz`;
  await waitFor(
    `code-server to answer on 127.0.0.1:${E.port}`,
    async () => {
      if (exited !== undefined)
        throw Object.assign(new Error(`code-server exited (${exited}):\n${fs.readFileSync(path.join(OUT, 'code-server.log'), 'utf8').slice(-3000)}`), {
          fatal: true,
        });
      const r = await fetch(`http://127.0.0.1:${E.port}/healthz`).catch(() => undefined);
      return r?.ok;
    },
    { timeout: 60_000, interval: 300 },
  ).catch((e) => {
    throw e.fatal ? e : new Error(`${e.message}\n${fs.readFileSync(path.join(OUT, 'code-server.log'), 'utf8').slice(-3000)}`);
  });
  log(`  code-server (pid ${E.cs.pid}) on http://127.0.0.1:${E.port}`);
});

const WORKBENCH = step('the workbench loads in Chromium', { needs: [SERVER], timeout: 2 * 60_000 }, async () => {
  E.browser = await chromium.launch({ executablePath: E.tools.chromium, args: CHROMIUM_ARGS });
  const context = await E.browser.newContext({ viewport: { width: 1400, height: 900 } });
  E.page = await context.newPage();
  const consoleLog = path.join(OUT, 'browser-console.log');
  E.page.on('console', (m) => fs.appendFileSync(consoleLog, `[${m.type()}] ${m.text()}\n`));
  E.page.on('pageerror', (e) => fs.appendFileSync(consoleLog, `[pageerror] ${e.message}\n`));
  E.wb = new Workbench(E.page, (m) => log(`  ${m}`));
  const t = Date.now();
  // A loaded machine can take more than playwright's default 30 s to load the workbench's scripts.
  await E.page.goto(`http://127.0.0.1:${E.port}/?folder=${encodeURIComponent(E.ws)}`, { timeout: 100_000 });
  E.doing = 'waiting for the activity bar, editor area and status bar';
  await E.wb.waitLoaded();
  await waitFor('the Explorer to show the workspace folder ("ner")', async () => (await E.wb.sidebarTreeRows()).some((r) => r.label === 'ner'), {
    timeout: 30_000,
  }).catch(() => {});
  log(`  workbench up in ${((Date.now() - t) / 1000).toFixed(1)} s`);
});

step('the "Fine-tune" activity bar container shows its Runs view', { needs: [WORKBENCH], timeout: 45_000 }, async () => {
  E.doing = 'looking for the Fine-tune activity bar item';
  await E.wb.showContainer('Fine-tune');
  const views = await E.page.$$eval('.part.sidebar .pane-header', (hs) => hs.map((h) => (h.getAttribute('aria-label') ?? h.textContent ?? '').trim()));
  const title = await E.page.locator('.part.sidebar .composite.title .title-label').first().textContent();
  if (!/runs/i.test(`${title} ${views.join(' ')}`))
    throw new Error(`the Fine-tune container shows "${title}" with views ${JSON.stringify(views)}, no "Runs" view`);
});

const OPEN = step(`open ${CONFIG_NAME} from quick open`, { needs: [WORKBENCH], timeout: 60_000 }, async () => {
  E.doing = `opening ${CONFIG_NAME}`;
  await E.wb.openFile(CONFIG_NAME);
});

const PALETTE = step('the command palette lists "Fine-tune: Start"', { needs: [OPEN], timeout: 45_000 }, async () => {
  E.doing = 'typing "Fine-tune: Start" into the command palette';
  await E.wb.openQuickInput('>Fine-tune: Start');
  await waitFor('the command palette to list "Fine-tune: Start"', async () => (await E.wb.quickInputRows()).some((r) => r.label === 'Fine-tune: Start'), {
    timeout: 20_000,
  }).catch(async () => {
    const rows = (await E.wb.quickInputRows()).map((r) => `"${r.label}"`);
    throw new Error(
      `the command palette lists ${rows.join(', ') || 'nothing'} for "Fine-tune: Start" (is the extension installed and does it contribute the command?)`,
    );
  });
  await E.page.screenshot({ path: path.join(OUT, `${E.stepFile}-palette.png`) });
  await E.wb.closeQuickInput();
});

const STARTED = step('"Fine-tune: Start" on the config starts a run shown as running in the sidebar', { needs: [PALETTE], timeout: 3 * 60_000 }, async () => {
  E.firstRun = await startRunFromPalette();
  E.doing = 'waiting for the run to be running';
  await waitRunStatus(E.firstRun.id, ['running', 'completed'], 60_000);
  await E.wb.showContainer('Fine-tune');
  await waitRows(
    'a running run',
    (rows) => rows.some((r) => rowStatus(r) === 'running') || (runById(E.firstRun.id)?.status === 'completed' && rows.length > 0),
  );
  if (runById(E.firstRun.id)?.status === 'completed') log('  (the run completed before the view was read)');
});

const COMPLETED = step('the run completes; the sidebar shows it completed with its key metric', { needs: [STARTED], timeout: 6 * 60_000 }, async () => {
  E.doing = `waiting for run ${E.firstRun.id} to complete`;
  const r = await waitRunStatus(E.firstRun.id, ['completed'], 5.5 * 60_000);
  E.firstRun = r;
  const km = keyMetric(r);
  if (!km) throw new Error(`run ${r.id} completed without a key metric in run.json (final: ${JSON.stringify(r.final)}, best: ${JSON.stringify(r.best)})`);
  log(`  completed: ${km.name} ${km.value}`);
  await E.wb.showContainer('Fine-tune');
  await waitRows(`the run completed with "${km.name} ${km.texts[1]}"`, (rows) =>
    rows.some(
      (row) =>
        rowStatus(row) === 'completed' &&
        new RegExp(`\\b${km.name}\\b`, 'i').test(`${row.description} ${row.label}`) &&
        km.texts.some((x) => `${row.description} ${row.label}`.includes(x)),
    ),
  );
});

let dashboardFrame;
const DASHBOARD = step('"Fine-tune: Open Dashboard" opens the dashboard', { needs: [COMPLETED], timeout: 90_000 }, async () => {
  E.doing = 'running "Fine-tune: Open Dashboard"';
  await E.wb.runCommand('Fine-tune: Open Dashboard');
  await E.wb.answerQuickPick(/completed|f1|ner/i);
  E.doing = 'waiting for the dashboard webview';
  dashboardFrame = await waitFor(
    'a webview with the dashboard',
    async () => {
      for (const f of E.wb.webviewContentFrames()) {
        const ok = await f.evaluate(() => (document.body?.innerText ?? '').trim().length > 0 && !!document.querySelector('canvas, svg')).catch(() => false);
        if (ok) return f;
      }
      return false;
    },
    { timeout: 60_000 },
  );
  const tab = await E.page
    .locator('.part.editor .tabs-container .tab.active')
    .getAttribute('aria-label')
    .catch(() => '');
  log(`  dashboard tab: ${tab}`);
});

/** Marks the element (in the dashboard frame) that `find` returns, screenshots it and measures its ink. */
async function measure(what, find, file, pass, timeout = 45_000) {
  let last;
  E.doing = `waiting for the ${what} to be drawn`;
  await waitFor(
    `the ${what} to be drawn`,
    async () => {
      const found = await dashboardFrame.evaluate(find);
      if (!found) {
        last = `no ${what} element found`;
        return false;
      }
      const png = await dashboardFrame
        .locator('[data-e2e-target]')
        .first()
        .screenshot({ path: path.join(OUT, file) });
      const stats = inkStats(decodePng(png));
      last = { element: found, ...stats };
      return pass(stats) ? stats : false;
    },
    { timeout, interval: 1000 },
  ).catch((e) => {
    throw new Error(`${e.message.split(';')[0]}: ${JSON.stringify(last)}`);
  });
  log(`  ${what}: ${JSON.stringify(last)}`);
}

step('dashboard: the loss curve is drawn', { needs: [DASHBOARD], timeout: 75_000 }, async () => {
  await measure(
    'loss curve',
    () => {
      document.querySelectorAll('[data-e2e-target]').forEach((e) => e.removeAttribute('data-e2e-target'));
      // The chart whose own title/legend says "loss": the nearest ancestor of a canvas that mentions loss
      // and holds no other large canvas.
      for (const c of document.querySelectorAll('canvas')) {
        if (c.getBoundingClientRect().width < 80) continue;
        let a = c.parentElement;
        for (let i = 0; a && i < 6; i++, a = a.parentElement) {
          const big = [...a.querySelectorAll('canvas')].filter((x) => x.getBoundingClientRect().width >= 80);
          if (big.length > 1) break;
          if (/loss/i.test(a.textContent ?? '')) {
            a.setAttribute('data-e2e-target', 'loss');
            return `${a.tagName.toLowerCase()}.${a.className} "${(a.textContent ?? '').trim().slice(0, 40)}"`;
          }
        }
      }
      return undefined;
    },
    `${E.stepFile}-element.png`,
    (s) => s.chromatic >= 80 && s.ink >= 300,
  );
});

step('dashboard: the confusion matrix is drawn', { needs: [DASHBOARD], timeout: 75_000 }, async () => {
  E.doing = 'opening the "Confusion matrix" tab';
  const tab = dashboardFrame.getByRole('tab', { name: /confusion/i }).first();
  if (await tab.count()) await tab.click();
  else {
    const text = dashboardFrame.getByText(/^confusion matrix$/i).first();
    if (await text.count()) await text.click();
  }
  await measure(
    'confusion matrix',
    () => {
      document.querySelectorAll('[data-e2e-target]').forEach((e) => e.removeAttribute('data-e2e-target'));
      const visible = (e) => {
        const r = e.getBoundingClientRect();
        return r.width > 40 && r.height > 40;
      };
      const cand = [
        ...document.querySelectorAll(
          'svg.confusion, [aria-label*="onfusion matrix" i], .confusion canvas, .confusion svg, [class*="confusion"] svg, [class*="confusion"] canvas',
        ),
      ].filter((e) => visible(e) && (e.tagName === 'svg' || e.tagName === 'CANVAS' || e.tagName === 'TABLE' || e.querySelector('svg, canvas, table')));
      const el = cand[0];
      if (!el) return undefined;
      el.setAttribute('data-e2e-target', 'confusion');
      return `${el.tagName.toLowerCase()}.${el.getAttribute('class') ?? ''} ${el.getAttribute('aria-label') ?? ''}`.trim();
    },
    `${E.stepFile}-element.png`,
    (s) => s.chromatic >= 300 && s.colours >= 3,
  );
});

step("hovering the lr value in the config shows the run's metric", { needs: [COMPLETED], timeout: 75_000 }, async () => {
  const km = keyMetric(E.firstRun);
  E.doing = `opening ${CONFIG_NAME} at the lr line (${E.lrLine})`;
  await E.wb.openFile(CONFIG_NAME);
  await E.wb.goToLine(E.lrLine);
  const lrValue = fs.readFileSync(E.config, 'utf8').split('\n')[E.lrLine - 1].replace(/#.*/, '').split(':')[1].trim();
  E.doing = `hovering "${lrValue}"`;
  let text = '';
  await waitFor(
    `a hover on "${lrValue}" showing ${km.name} ${km.texts[1]}`,
    async () => {
      await E.page.mouse.move(5, 5);
      await sleep(300);
      text = await E.wb.hoverToken(/^\s*lr:/, lrValue, { timeout: 10_000 }).catch((e) => e.message);
      return new RegExp(`\\b${km.name}\\b`, 'i').test(text) && km.texts.some((x) => text.includes(x));
    },
    { timeout: 40_000, interval: 500 },
  ).catch((e) => {
    throw new Error(`${e.message.split(':')[0]}; the hover says: "${text.slice(0, 400)}"`);
  });
  log(`  hover: ${text.slice(0, 200)}`);
});

const STOPPED = step('a second run stopped midway shows as stopped', { needs: [PALETTE], timeout: 5 * 60_000 }, async () => {
  await E.page.mouse.move(5, 5);
  E.secondRun = await startRunFromPalette();
  const id = E.secondRun.id;
  E.doing = `waiting for run ${id} to train`;
  let queuedSince;
  await waitFor(
    `run ${id} to report training steps (metrics.jsonl)`,
    () => {
      const r = runById(id);
      // Queued with nothing running for 45 s: the queue is stuck; say what holds it.
      if (r?.status === 'queued' && !findRuns().some((x) => x.status === 'running')) {
        queuedSince ??= Date.now();
        if (Date.now() - queuedSince > 45_000) {
          const alive = findRuns().filter((x) => x.id !== id && Number.isInteger(x.pid) && isAlive(x.pid));
          throw Object.assign(
            new Error(
              `run ${id} stays queued although no run is running${
                alive.length
                  ? `; the trainer process of ${alive.map((x) => `${x.id} (${x.status}, pid ${x.pid})`).join(', ')} is still alive, so the queue slot is still taken (a forked trainer must exit after its final event, e.g. disconnect its IPC channel)`
                  : ''
              }`,
            ),
            { fatal: true },
          );
        }
      } else queuedSince = undefined;
      try {
        return /"type"\s*:\s*"train"/.test(fs.readFileSync(path.join(r?.dir ?? '', 'metrics.jsonl'), 'utf8'));
      } catch {
        return false;
      }
    },
    { timeout: 150_000, interval: 500 },
  ).catch((e) => {
    throw e.fatal ? e : new Error(`${e.message}; the run is ${describeRun(runById(id))}`);
  });
  if (runById(id)?.status !== 'running') throw new Error(`run ${id} is not running before Stop: ${describeRun(runById(id))}`);
  await E.wb.showContainer('Fine-tune');
  await waitRows('the second run running', (rows) => rows.some((r) => rowStatus(r) === 'running'));
  E.doing = 'running "Fine-tune: Stop"';
  await E.wb.runCommand('Fine-tune: Stop');
  await E.wb.answerQuickPick(/running|ner/i);
  E.doing = `waiting for run ${id} to stop`;
  const r = await waitRunStatus(id, ['stopped'], 150_000);
  log(`  stopped at step ${r.step}/${r.totalSteps}`);
  await waitRows('the second run as stopped', (rows) => rows.some((row) => rowStatus(row) === 'stopped'));
});

step('"Fine-tune: Resume" continues the stopped run to completion', { needs: [STOPPED], timeout: 6 * 60_000 }, async () => {
  const id = E.secondRun.id;
  const before = new Set(findRuns().map((r) => r.id));
  const stepAtStop = runById(id)?.step;
  E.doing = 'running "Fine-tune: Resume"';
  await E.wb.runCommand('Fine-tune: Resume');
  await E.wb.answerQuickPick(/stopped|ner/i);
  E.doing = `waiting for run ${id} to run again`;
  await waitFor(
    `run ${id} to be resumed (running or completed in its run.json)`,
    () => {
      const r = runById(id);
      const fresh = findRuns().filter((x) => !before.has(x.id));
      if (fresh.length && r?.status === 'stopped')
        throw Object.assign(new Error(`Resume started a new run (${fresh.map((x) => x.id).join(', ')}) instead of continuing ${id}`), { fatal: true });
      return r && (r.status === 'running' || r.status === 'completed');
    },
    { timeout: 60_000, interval: 500 },
  );
  const r = await waitRunStatus(id, ['completed'], 5 * 60_000);
  if (stepAtStop !== undefined && r.step !== undefined && r.step <= stepAtStop)
    throw new Error(`run ${id} completed at step ${r.step}, not past the step it stopped at (${stepAtStop})`);
  log(`  resumed from step ${stepAtStop} and completed at step ${r.step}/${r.totalSteps}`);
  await E.wb.showContainer('Fine-tune');
  await waitRows(
    'both runs completed and none stopped',
    (rows) => rows.filter((row) => rowStatus(row) === 'completed').length >= 2 && !rows.some((row) => rowStatus(row) === 'stopped'),
  );
});

// ---- run identity: two runs of one config told apart by what differs (lr) ------------------------------

// Two runs of one config that differ only in training.lr: Start, edit lr, Start again. (A sweep
// block would do it in one Start, but the extension forks `finetune train` per combination, which
// refuses a config with a sweep block.)
const LR_CONFIG = 'lr-pair.finetune.yaml';
const LR_VALUES = ['1.0e-3', '5.0e-4'];
const LR_LABELS = ['lr=1e-3', 'lr=5e-4'];
const lrConfig = (lr) => `# two runs of this config differ only in training.lr
name: lr-pair
task: token-classification
model:
  from_scratch: {layers: 1, hidden: 32, heads: 2, max_positions: 64}
data:
  format: conll
  train: data/train.txt
  validation: data/dev.txt
  max_length: 32
training:
  epochs: 1
  max_steps: 4
  batch_size: 8
  lr: ${lr}
threads: 1
`;

/**
 * Finds run labels drawn in a webview: the first webview content frame in which each of `labels`
 * is the text of an element matching `selector` (by default the dashboard's chart legends and its
 * compare run list; give the experiments table's cells to check the table). Returns the frame and,
 * per label, the texts that hold it; at the deadline, throws saying what each webview shows.
 */
async function findRunLabelsInWebview(labels, { selector = '.u-legend .u-label, .run-list .run-name', timeout = 45_000 } = {}) {
  let seen = [];
  return waitFor(
    `a webview showing the run labels ${labels.map((l) => `"${l}"`).join(', ')} (${selector})`,
    async () => {
      seen = [];
      for (const frame of E.wb.webviewContentFrames()) {
        const texts = await frame.$$eval(selector, (els) => els.map((e) => (e.textContent ?? '').replace(/\s+/g, ' ').trim()).filter(Boolean)).catch(() => []);
        seen.push(texts.slice(0, 12));
        const found = labels.map((l) => texts.filter((t) => t === l || t.startsWith(`${l} `) || t.startsWith(`${l}:`)));
        if (found.every((f) => f.length)) return { frame, found: Object.fromEntries(labels.map((l, i) => [l, found[i]])) };
      }
      return false;
    },
    { timeout, interval: 500 },
  ).catch((e) => {
    throw new Error(`${e.message.split(';')[0]}; the webviews show: ${JSON.stringify(seen).slice(0, 800)}`);
  });
}

/** The editor tabs' titles (aria-labels), active first. */
async function tabTitles() {
  return E.page.$$eval('.part.editor .tabs-container .tab', (tabs) =>
    tabs
      .sort((a, b) => Number(b.classList.contains('active')) - Number(a.classList.contains('active')))
      .map((t) => (t.getAttribute('aria-label') ?? t.textContent ?? '').trim()),
  );
}

/** In an open multi-select quick pick: ticks every row whose label matches `re`, then OK. Returns the ticked labels. */
async function tickQuickPickRows(re) {
  const rows = await waitFor(
    `the quick pick to list rows matching ${re}`,
    async () => {
      const r = await E.wb.quickInputRows();
      return r.filter((x) => re.test(x.label)).length >= 2 ? r : false;
    },
    { timeout: 15_000 },
  ).catch(async (e) => {
    throw new Error(`${e.message.split(';')[0]}; it lists ${(await E.wb.quickInputRows()).map((x) => `"${x.text}"`).join(', ')}`);
  });
  const picked = [];
  for (let i = 0; i < rows.length; i++) {
    if (!re.test(rows[i].label)) continue;
    await E.wb.clickQuickInputRow(i);
    picked.push(rows[i].label);
  }
  const ok = E.page.locator('.quick-input-widget .quick-input-action .monaco-button').filter({ hasText: /^OK$/ });
  if (await ok.count()) await ok.first().click();
  else await E.page.keyboard.press('Enter');
  return picked;
}

const LR_PAIR = step(
  'run identity: two runs of one config with different lr; the sidebar labels them lr=… (not the config name)',
  { needs: [OPEN], timeout: 8 * 60_000 },
  async () => {
    await E.page.mouse.move(5, 5);
    const file = path.join(E.ws, 'ner', LR_CONFIG);
    E.lrRuns = [];
    for (const [i, lr] of LR_VALUES.entries()) {
      if (i > 0) fs.writeFileSync(file, lrConfig(lr)); // as a person edits lr between two runs
      const r = await startRunFromPalette(LR_CONFIG, { timeout: 60_000 });
      E.doing = `waiting for run ${r.id} (lr ${lr}) to complete`;
      E.lrRuns.push(await waitRunStatus(r.id, ['completed'], 3.5 * 60_000));
    }
    log(`  runs: ${E.lrRuns.map((r) => `${r.id} (lr ${r.config?.training?.lr})`).join(', ')}`);
    await E.wb.showContainer('Fine-tune');
    const rows = await waitRows(`rows labelled ${LR_LABELS.join(' and ')}`, (rows) => LR_LABELS.every((l) => rows.some((r) => r.label === l)));
    const labelled = rows.filter((r) => LR_LABELS.includes(r.label));
    if (!labelled.every((r) => /\b[0-9a-f]{7}\b/.test(r.description))) throw new Error(`a run row has no short id in its description: ${showRows(labelled)}`);
    log(`  sidebar: ${showRows(labelled)}`);
  },
);

step(
  'run identity: comparing the two runs, the tab title and the chart legends say lr=1e-3 and lr=5e-4',
  { needs: [LR_PAIR], timeout: 2 * 60_000 },
  async () => {
    E.doing = 'running "Fine-tune: Compare Runs"';
    await E.wb.runCommand('Fine-tune: Compare Runs');
    const picked = await tickQuickPickRows(/^lr=/);
    log(`  ticked ${picked.join(', ')}`);
    E.doing = 'waiting for the compare tab';
    const title = await waitFor(
      'a "Compare: …" tab naming both labels',
      async () => (await tabTitles()).find((t) => /Compare:/.test(t) && LR_LABELS.every((l) => t.includes(l))),
      { timeout: 30_000 },
    ).catch(async (e) => {
      throw new Error(`${e.message.split(';')[0]}; the tabs are ${JSON.stringify(await tabTitles())}`);
    });
    log(`  tab: ${title}`);
    E.doing = 'reading the compare legends';
    const { found } = await findRunLabelsInWebview(LR_LABELS);
    log(`  legends and run list: ${JSON.stringify(found)}`);
    await E.page.screenshot({ path: path.join(OUT, `${E.stepFile}-compare.png`) });
  },
);

step('run identity: one run’s dashboard tab is titled by its label', { needs: [LR_PAIR], timeout: 90_000 }, async () => {
  E.doing = 'running "Fine-tune: Open Dashboard"';
  await E.wb.runCommand('Fine-tune: Open Dashboard');
  await E.wb.answerQuickPick(/^lr=5e-4/);
  const title = await waitFor('a "Fine-tune: lr=5e-4" tab', async () => (await tabTitles()).find((t) => t.includes('Fine-tune: lr=5e-4')), {
    timeout: 30_000,
  }).catch(async (e) => {
    throw new Error(`${e.message.split(';')[0]}; the tabs are ${JSON.stringify(await tabTitles())}`);
  });
  log(`  tab: ${title}`);
  const { found } = await findRunLabelsInWebview(['lr=5e-4'], { selector: '.run-header .run-name' });
  log(`  header: ${JSON.stringify(found)}`);
});

step('experiments table: the two runs are rows labelled lr=1e-3 and lr=5e-4', { needs: [LR_PAIR], timeout: 2 * 60_000 }, async () => {
  E.doing = 'running "Fine-tune: Open Experiments Table"';
  await E.wb.runCommand('Fine-tune: Open Experiments Table');
  const { found } = await findRunLabelsInWebview(LR_LABELS, { selector: '.body .row .label-text' });
  log(`  table rows: ${JSON.stringify(found)}`);
  const title = (await tabTitles())[0];
  if (!/Experiments/.test(title)) throw new Error(`the active tab is "${title}", not the experiments table`);
  await E.page.screenshot({ path: path.join(OUT, `${E.stepFile}-table.png`) });
});

step('a typo in the config ("lerning_rate: 1") shows a diagnostic on its range', { needs: [OPEN], timeout: 90_000 }, async () => {
  await E.page.mouse.move(5, 5);
  E.doing = `adding "lerning_rate: 1" under training: in ${CONFIG_NAME}`;
  await E.wb.openFile(CONFIG_NAME);
  const line = E.lrLine + 1; // the new line goes right after "lr:"
  await E.wb.goToLine(line, 1);
  await E.page.keyboard.press('Enter'); // editor.autoIndent is "none": an empty line, cursor below it
  await E.page.keyboard.press('ArrowUp');
  await E.page.keyboard.press('Home');
  await E.page.keyboard.type('  lerning_rate: 1');
  await E.wb.runCommand('File: Save');
  await waitFor(
    `${CONFIG_NAME} to be saved with the typo on line ${line}`,
    () => fs.readFileSync(E.config, 'utf8').split('\n')[line - 1] === '  lerning_rate: 1',
    { timeout: 10_000 },
  ).catch(() => {
    throw new Error(`line ${line} of the saved config is "${fs.readFileSync(E.config, 'utf8').split('\n')[line - 1]}", not "  lerning_rate: 1"`);
  });

  E.doing = 'opening the Problems panel';
  await E.page.keyboard.press('Control+Shift+M');
  let rows = [];
  const want = (r) => {
    const m = /Ln (\d+), Col (\d+)/.exec(r.text) ?? /line (\d+) column (\d+)/i.exec(r.aria);
    return m && Number(m[1]) === line && Number(m[2]) === 3;
  };
  const found = await waitFor(
    `a problem at Ln ${line}, Col 3 (the "lerning_rate" key)`,
    async () => {
      rows = await E.wb.problems();
      return rows.find(want);
    },
    { timeout: 30_000 },
  ).catch(() => undefined);
  E.doing = 'hovering the squiggle under "lerning_rate"';
  const hover = await E.wb.hoverToken(/^\s*lerning_rate:/, 'lerning_rate', { timeout: 10_000 }).catch((e) => `(no hover: ${e.message})`);
  const squiggle = await E.page.locator('.part.editor .monaco-editor .view-overlays [class*="squiggly-"]').count();
  log(
    `  problems: ${rows
      .map((r) => r.text)
      .join(' | ')
      .slice(0, 300)}`,
  );
  log(`  hover: ${hover.slice(0, 200)}; squiggles: ${squiggle}`);
  if (!found) {
    const hoverOk = /lerning_rate|learning_rate|unknown|not allowed|additional/i.test(hover) && squiggle > 0;
    if (!hoverOk)
      throw new Error(
        `no diagnostic at Ln ${line}, Col 3: the Problems panel shows ${rows.length ? rows.map((r) => `"${r.text}"`).join(', ') : 'nothing'}; the hover on "lerning_rate" says "${hover.slice(0, 300)}"; ${squiggle} squiggle(s) in the editor`,
      );
    log('  (found by the squiggle hover, not in the Problems panel)');
  }
});

// ---- models from the Hub (the hub step's server and cache) --------------------------------------------

step('hub: hovering pretrained: of a cached Hub id shows revision → commit, size and "cached"', { needs: [HUB, WORKBENCH], timeout: 150_000 }, async () => {
  await E.page.mouse.move(5, 5);
  // The extension activates on workspaceContains:**/*.finetune.yaml, a file search that VS Code gives
  // up on a loaded machine; its Runs view activates it for sure (as the steps before this one do).
  E.doing = 'showing the Fine-tune container';
  await E.wb.showContainer('Fine-tune');
  E.doing = `opening ${HUB_CACHED_CONFIG}`;
  await E.wb.openFile(HUB_CACHED_CONFIG, { timeout: 60_000 });
  const token = E.hub.cached.split('/')[1];
  E.doing = `hovering "${E.hub.cached}"`;
  let text = '';
  const want = [
    new RegExp(`Revision main → commit ${E.hub.commit.slice(0, 12)}`),
    /\b\d+(\.\d+)? (kB|KB|KiB|MB|MiB|B)\b/,
    /\bcached: a run uses it without downloading/,
  ];
  await waitFor(
    `a hover on "${E.hub.cached}" naming the commit ${E.hub.commit.slice(0, 12)}, a size and "cached"`,
    async () => {
      await E.page.mouse.move(5, 5);
      await sleep(300);
      text = await E.wb.hoverToken(/^\s*pretrained:/, token, { timeout: 10_000 }).catch((e) => e.message);
      return want.every((re) => re.test(text));
    },
    { timeout: 45_000, interval: 500 },
  ).catch((e) => {
    throw new Error(`${e.message.split(':')[0]}; the hover says: "${text.slice(0, 500)}"`);
  });
  await E.page.screenshot({ path: path.join(OUT, `${E.stepFile}-hover.png`) });
  log(`  hover: ${text.slice(0, 300)}`);
});

step('hub: "Fine-tune: New Config" offers the cached model and writes pretrained: <id>', { needs: [HUB, WORKBENCH], timeout: 90_000 }, async () => {
  await E.page.mouse.move(5, 5);
  E.doing = 'running "Fine-tune: New Config"';
  await E.wb.runCommand('Fine-tune: New Config', { timeout: 60_000 });
  await E.wb.answerQuickPick(/named-entity/i, { wait: 10_000 });
  E.doing = 'waiting for the model quick pick';
  const rows = await waitFor(
    'the model quick pick',
    async () => {
      const r = await E.wb.quickInputRows();
      return r.some((x) => /from scratch/i.test(x.text)) ? r : false;
    },
    { timeout: 15_000 },
  );
  const cachedRow = rows.find((r) => r.label === E.hub.cached);
  if (!cachedRow) throw new Error(`the model quick pick offers ${rows.map((r) => `"${r.text}"`).join(', ')}; not the cached ${E.hub.cached}`);
  if (!/in the Hugging Face cache/i.test(cachedRow.text))
    throw new Error(`the row of ${E.hub.cached} says "${cachedRow.text}", not "in the Hugging Face cache"`);
  await E.page.screenshot({ path: path.join(OUT, `${E.stepFile}-models.png`) });
  // The row's text is its label and description run together ("org/tiny-bert28.4 kB · …").
  await E.wb.answerQuickPick(new RegExp(`^${E.hub.cached.replace(/[/.-]/g, '\\$&')}(?!-)`));
  // The save dialog (code-server's own, a quick input holding the path): accept the proposed name.
  E.doing = 'accepting the save dialog';
  const proposed = await waitFor(
    'the save dialog to propose a *.finetune.yaml path',
    async () => {
      if (!(await E.wb.quickInputVisible())) return false;
      const v = await E.wb.quickInputValue();
      return /\.finetune\.yaml$/.test(v) ? v : false;
    },
    { timeout: 15_000 },
  );
  await E.page.screenshot({ path: path.join(OUT, `${E.stepFile}-save.png`) });
  await E.page.keyboard.press('Enter');
  const file = path.join(E.ws, path.basename(proposed));
  E.doing = `waiting for ${file}`;
  const text = await waitFor(`${file} to be written`, () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : false), { timeout: 15_000 });
  if (!new RegExp(`^\\s*pretrained: ${E.hub.cached}\\s*$`, 'm').test(text))
    throw new Error(`the new config has no "pretrained: ${E.hub.cached}" line:\n${text.slice(0, 800)}`);
  await waitFor(`an editor tab for ${path.basename(file)}`, () => E.wb.activeTabIs(path.basename(file)), { timeout: 15_000 });
  log(`  wrote ${path.relative(E.ws, file)} with pretrained: ${E.hub.cached}`);
});

step(
  'hub: Start with a model that is not cached shows the download progress, then the run completes',
  { needs: [HUB, WORKBENCH], timeout: 5 * 60_000 },
  async () => {
    await E.page.mouse.move(5, 5);
    const run = await startRunFromPalette(HUB_DOWNLOAD_CONFIG);
    E.doing = 'waiting for the download notification';
    const toast = E.page.locator('.notifications-toasts .notification-toast').filter({ hasText: `downloading ${E.hub.download}` });
    let seen = '';
    await waitFor(
      `a notification "downloading ${E.hub.download}" with its progress`,
      async () => {
        if (!(await toast.count())) return false;
        seen = ((await toast.first().textContent()) ?? '').replace(/\s+/g, ' ');
        return /model\.safetensors/.test(seen) ? seen : false;
      },
      { timeout: 90_000, interval: 200 },
    ).catch((e) => {
      const r = runById(run.id);
      throw new Error(`${e.message.split(';')[0]}; last seen "${seen}"; the run is ${describeRun(r)}${r ? `\n--- train.log ---\n${runLogTail(r)}` : ''}`);
    });
    await E.page.screenshot({ path: path.join(OUT, `${E.stepFile}-progress.png`) });
    log(`  notification: ${seen.slice(0, 200)}`);
    const cancellable = await toast.first().locator('.codicon-notifications-clear, .action-label[aria-label*="Cancel" i], .monaco-button').count();
    if (!cancellable) log('  (no cancel control found on the notification)');
    E.doing = `waiting for run ${run.id} to complete`;
    const done = await waitRunStatus(run.id, ['completed'], 3 * 60_000);
    const snap = path.join(E.hub.home, 'hub', `models--${E.hub.download.replace('/', '--')}`, 'snapshots');
    if (!fs.existsSync(snap) || !fs.readdirSync(snap).length) throw new Error(`run ${run.id} completed but ${snap} holds no snapshot`);
    await waitFor('the download notification to close', async () => (await toast.count()) === 0, { timeout: 20_000 });
    log(`  run ${done.id} completed at step ${done.step}/${done.totalSteps}; ${E.hub.download} is in the cache`);
  },
);

// Last, so that its runs do not mix with the steps above: a small TPE sweep started from VS Code
// runs as one `finetune sweep` process; the Runs view shows it as a sweep node with n/budget.
const SWEEP_DIR = 'sweep';
const SWEEP_CONFIG = 'tune.finetune.yaml';

/** The sweep step's workspace folder: a small NER set and a tpe sweep config. Written before the
 *  workbench opens, as the lr-pair config is: quick open may not list a file created mid-session. */
function writeSweepWorkspace() {
  const dir = path.join(E.ws, SWEEP_DIR);
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  const sentences = (file, k) =>
    fs
      .readFileSync(path.join(E.ws, 'ner', 'data', file), 'utf8')
      .split(/\n\s*\n/)
      .filter((b) => b.trim() && !b.startsWith('-DOCSTART-'))
      .slice(0, k)
      .join('\n\n') + '\n';
  fs.writeFileSync(path.join(dir, 'data', 'train.txt'), sentences('train.txt', 96));
  fs.writeFileSync(path.join(dir, 'data', 'dev.txt'), sentences('dev.txt', 24));
  fs.writeFileSync(
    path.join(dir, SWEEP_CONFIG),
    `name: tune
task: token-classification
model:
  from_scratch: { layers: 1, hidden: 32, heads: 2, intermediate: 64, max_positions: 64, min_frequency: 3 }
data: { format: conll, train: data/train.txt, validation: data/dev.txt, max_length: 48 }
training: { epochs: 2, batch_size: 8, steps_per_run: 4 }
evaluation: { every: epoch, metric: f1 }
threads: 1
sweep:
  method: tpe
  budget: 3
  seed: 1
  training.lr: { loguniform: [1.0e-4, 3.0e-2] }
`,
  );
}
step(
  'sweep: Start on a tpe sweep config runs the sweep; the Runs view shows its node with n/budget and the best trial',
  { needs: [WORKBENCH], timeout: 5 * 60_000 },
  async () => {
    const dir = path.join(E.ws, SWEEP_DIR);
    await E.page.mouse.move(5, 5);
    await E.wb.openFile(SWEEP_CONFIG, { timeout: 30_000 });
    E.doing = 'running "Fine-tune: Start" on the sweep config';
    await E.wb.runCommand('Fine-tune: Start', { timeout: 30_000 });
    await E.wb.answerQuickPick(/tune/i);
    const sweepsDir = path.join(dir, '.finetune', 'sweeps');
    E.doing = 'waiting for the sweep folder';
    const sweepFile = await waitFor(
      `a sweep folder under ${sweepsDir}`,
      () => {
        const ids = fs.existsSync(sweepsDir) ? fs.readdirSync(sweepsDir) : [];
        const f = ids.length ? path.join(sweepsDir, ids[0], 'sweep.json') : '';
        return f && fs.existsSync(f) ? f : false;
      },
      { timeout: 60_000 },
    );
    await E.wb.showContainer('Fine-tune');
    const sweepRow = (rows) => rows.find((r) => /^tpe sweep \d\/3$/.test(r.label));
    E.doing = 'waiting for the sweep node';
    const first = await waitFor('a "tpe sweep n/3" node in the Runs view', async () => sweepRow(await E.wb.sidebarTreeRows()) ?? false, {
      timeout: 60_000,
    }).catch(async (e) => {
      throw new Error(`${e.message.split(';')[0]}; it shows: ${showRows(await E.wb.sidebarTreeRows())}`);
    });
    log(`  sweep node: ${first.label} — ${first.description}`);
    await E.page.screenshot({ path: path.join(OUT, `${E.stepFile}-running.png`) });
    E.doing = 'waiting for the sweep to complete';
    await waitFor(
      'sweep.json to say completed',
      () => {
        const s = JSON.parse(fs.readFileSync(sweepFile, 'utf8'));
        return s.status === 'completed' ? s : false;
      },
      { timeout: 4 * 60_000, interval: 1000 },
    ).catch((e) => {
      throw new Error(`${e.message.split(';')[0]}; sweep.json: ${fs.readFileSync(sweepFile, 'utf8').slice(0, 1500)}`);
    });
    const done = await waitFor(
      'the node to say "tpe sweep 3/3" with the best trial',
      async () => {
        const r = sweepRow(await E.wb.sidebarTreeRows());
        return r && r.label === 'tpe sweep 3/3' && /best f1 \d\.\d+ \(#\d\)/.test(r.description) ? r : false;
      },
      { timeout: 30_000 },
    ).catch(async (e) => {
      throw new Error(`${e.message.split(';')[0]}; it shows: ${showRows(await E.wb.sidebarTreeRows())}`);
    });
    const rows = await E.wb.sidebarTreeRows();
    const trials = rows.filter((r) => r.level === done.level + 1 && /^lr=/.test(r.label)); // labelled by what sets them apart (run identity)
    if (trials.length !== 3) throw new Error(`the sweep node holds ${trials.length} trial rows, not 3: ${showRows(rows)}`);
    if (!trials.some((r) => /★ best/.test(r.description))) throw new Error(`no trial is marked best: ${showRows(trials)}`);
    if (trials.some((r) => /config changed/.test(r.description))) throw new Error(`a trial is said to differ from its config: ${showRows(trials)}`);
    log(`  sweep node: ${done.label} — ${done.description}; trials: ${trials.map((r) => r.description).join(' | ')}`);
  },
);

after(async () => {
  copyLogs();
  await E.browser?.close().catch(() => {});
  if (E.hubProc && E.hubProc.exitCode === null) E.hubProc.kill('SIGTERM');
  // Trainers the extension started for this test and left running (they may be detached from
  // code-server's process group so that runs survive a window reload): stop them by their pid.
  if (E.ws) {
    // A sweep driver (the sweep step) left running: SIGTERM stops it and its trials.
    const sweeps = path.join(E.ws, SWEEP_DIR, '.finetune', 'sweeps');
    for (const id of fs.existsSync(sweeps) ? fs.readdirSync(sweeps) : []) {
      try {
        const s = JSON.parse(fs.readFileSync(path.join(sweeps, id, 'sweep.json'), 'utf8'));
        if (s.status === 'running' && Number.isInteger(s.pid)) process.kill(s.pid, 'SIGTERM');
      } catch {
        /* gone, or not a sweep */
      }
    }
    for (const r of findRuns()) {
      if ((r.status === 'running' || r.status === 'queued') && Number.isInteger(r.pid)) {
        try {
          process.kill(r.pid, 'SIGTERM');
          log(`stopped trainer pid ${r.pid} (run ${r.id})`);
        } catch {
          /* gone */
        }
      }
    }
  }
  if (E.cs && E.cs.exitCode === null) {
    try {
      process.kill(-E.cs.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    const done = await Promise.race([E.csExit, sleep(5000).then(() => 'timeout')]);
    if (done === 'timeout') {
      try {
        process.kill(-E.cs.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  if (E.tmp && process.env.FINETUNE_E2E_KEEP !== '1') fs.rmSync(E.tmp, { recursive: true, force: true });
  else if (E.tmp) log(`kept ${E.tmp}`);
  if (E.vsix && !process.env.FINETUNE_E2E_VSIX) fs.rmSync(path.dirname(E.vsix), { recursive: true, force: true });
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots and logs in ${path.relative(process.cwd(), OUT) || OUT}`);
});
