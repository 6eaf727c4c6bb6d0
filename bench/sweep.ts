// `npm run bench:sweep`: our samplers (src/shared/sweep) beside Optuna's on the same synthetic
// objectives and budgets, over seeds 0..N-1: the median best value of each and Optuna TPE's
// interquartile range. Our TPE passes when its median lies within Optuna TPE's IQR and below our
// random search's first quartile. Optuna runs in bench/sweep_optuna.py (bench/requirements-sweep.txt)
// under $FINETUNE_BENCH_PYTHON or .cache/py/bin/python.
//
//   npm run bench:sweep [-- --seeds 20 --markdown]

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Distribution } from '../src/shared/config/config';
import { suggestRandom, suggestTpe, type TpeTrial } from '../src/shared/sweep/tpe';

const ROOT = path.resolve(path.dirname(__filename), '..');
type Params = Record<string, unknown>;
interface Objective {
  space: Record<string, Distribution>;
  budget: number;
  f: (p: Params) => number;
}

const BATCH_COST: Record<number, number> = { 8: 0.3, 16: 0, 32: 0.1, 64: 0.5 };

// The same functions as bench/sweep_optuna.py.
export const OBJECTIVES: Record<string, Objective> = {
  quad_loglr: {
    space: { lr: { kind: 'loguniform', low: 1e-6, high: 1e-1 } },
    budget: 30,
    f: (p) => (Math.log10(p.lr as number) - Math.log10(3e-4)) ** 2,
  },
  branin: {
    space: { x1: { kind: 'uniform', low: -5, high: 10 }, x2: { kind: 'uniform', low: 0, high: 15 } },
    budget: 50,
    f: (p) => {
      const [x1, x2] = [p.x1 as number, p.x2 as number];
      const [b, c, t] = [5.1 / (4 * Math.PI ** 2), 5 / Math.PI, 1 / (8 * Math.PI)];
      return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
    },
  },
  noisy6: {
    space: {
      lr: { kind: 'loguniform', low: 1e-5, high: 1e-2 },
      warmup: { kind: 'uniform', low: 0, high: 0.3 },
      dropout: { kind: 'uniform', low: 0, high: 0.5 },
      batch: { kind: 'choice', values: [8, 16, 32, 64] },
      epochs: { kind: 'int', low: 1, high: 10, log: false },
      wd: { kind: 'loguniform', low: 1e-4, high: 1e-1 },
    },
    budget: 60,
    f: (p) => {
      const [lr, warmup, dropout, batch, epochs, wd] = ['lr', 'warmup', 'dropout', 'batch', 'epochs', 'wd'].map((k) => p[k] as number);
      const clean =
        (Math.log10(lr) + 3.5) ** 2 +
        10 * (warmup - 0.1) ** 2 +
        8 * (dropout - 0.15) ** 2 +
        BATCH_COST[batch] +
        0.05 * (epochs - 4) ** 2 +
        0.3 * (Math.log10(wd) + 2) ** 2;
      return clean + 0.1 * Math.sin(1000 * (lr * 1e4 + warmup * 7 + dropout * 13 + batch + epochs * 3 + wd * 100));
    },
  },
};

/** The best value one sampler finds on one objective with one seed. */
function bestOf(o: Objective, sampler: 'tpe' | 'random', seed: number): number {
  const trials: TpeTrial[] = [];
  for (let i = 0; i < o.budget; i++) {
    const params = sampler === 'tpe' ? suggestTpe(o.space, trials, 'min', seed, i) : suggestRandom(o.space, seed, i);
    trials.push({ params, state: 'complete', value: o.f(params) });
  }
  return Math.min(...trials.map((t) => t.value!));
}

/** numpy's percentile (linear interpolation). */
function quantile(xs: number[], q: number): number {
  const v = [...xs].sort((a, b) => a - b);
  const pos = (v.length - 1) * q;
  const lo = Math.floor(pos);
  return v[lo] + (v[Math.ceil(pos)] - v[lo]) * (pos - lo);
}

function pythonPath(): string {
  if (process.env.FINETUNE_BENCH_PYTHON) return process.env.FINETUNE_BENCH_PYTHON;
  const venv = path.join(ROOT, '.cache', 'py', 'bin', 'python');
  return fs.existsSync(venv) ? venv : 'python3';
}

function main() {
  const args = process.argv.slice(2);
  const at = args.indexOf('--seeds');
  const seeds = at >= 0 ? Number(args[at + 1]) : 20;
  const markdown = args.includes('--markdown');
  const py = pythonPath();
  let peer: { optuna: string; results: Record<string, { tpe: number[]; random: number[] }> };
  try {
    peer = JSON.parse(execFileSync(py, [path.join(ROOT, 'bench', 'sweep_optuna.py'), String(seeds)], { encoding: 'utf8', maxBuffer: 1 << 26 })) as typeof peer;
  } catch (e) {
    console.error(`bench:sweep needs Optuna: ${py} bench/sweep_optuna.py failed (${(e as Error).message.split('\n')[0]}).`);
    console.error('Install it with: scripts/setup_reference_venv.sh && .cache/py/bin/pip install -r bench/requirements-sweep.txt');
    process.exitCode = 1;
    return;
  }
  const f = (x: number) => (x === 0 ? '0' : Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toPrecision(3));
  const header = [
    'objective',
    'budget',
    'ours TPE median',
    'Optuna TPE median',
    'Optuna TPE IQR',
    'within IQR',
    'ours random median [Q1]',
    'Optuna random median',
    'TPE beats random',
  ];
  const rows: string[][] = [];
  let ok = true;
  for (const [name, o] of Object.entries(OBJECTIVES)) {
    const tpe = Array.from({ length: seeds }, (_, s) => bestOf(o, 'tpe', s));
    const rnd = Array.from({ length: seeds }, (_, s) => bestOf(o, 'random', s));
    const opt = peer.results[name];
    const [q1, q3] = [quantile(opt.tpe, 0.25), quantile(opt.tpe, 0.75)];
    const med = quantile(tpe, 0.5);
    const within = med >= q1 && med <= q3;
    const beats = med < quantile(rnd, 0.25);
    ok &&= within && beats;
    rows.push([
      name,
      String(o.budget),
      f(med),
      f(quantile(opt.tpe, 0.5)),
      `[${f(q1)}, ${f(q3)}]`,
      within ? 'yes' : 'NO',
      `${f(quantile(rnd, 0.5))} [${f(quantile(rnd, 0.25))}]`,
      f(quantile(opt.random, 0.5)),
      beats ? 'yes' : 'NO',
    ]);
  }
  console.log(
    `Sweep samplers (npm run bench:sweep): best value found (lower is better), ${seeds} seeds each; Optuna ${peer.optuna} TPESampler() and RandomSampler() defaults`,
  );
  if (markdown) {
    console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  } else {
    const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padStart(w[i])).join('  '));
  }
  console.log(ok ? 'our TPE: within Optuna TPE IQR and better than random on every objective' : 'our TPE: MISSED on at least one objective');
  if (!ok) process.exitCode = 1;
}

if (require.main === module) main();
