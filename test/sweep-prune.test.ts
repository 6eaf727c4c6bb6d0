// Early termination against Optuna: test/fixtures/sweep_pruners_reference.json holds learning
// curves and, in Optuna's order, every report with Optuna's decision (SuccessiveHalvingPruner for
// ASHA, MedianPruner for median stopping; scripts/sweep_pruners_reference.py wrote it). Replaying
// the same events, our decision at every report must equal Optuna's.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { EarlyTermination } from '../src/shared/config/config';
import { curveOf, decide, rungValues, type Point, type TrialCurve } from '../src/shared/sweep/prune';
import type { MetricsRecord } from '../src/shared/protocol';

interface Scenario {
  name: string;
  pruner: Record<string, number | string>;
  mode: 'max' | 'min';
  concurrency: number;
  curves: [number, number | null][][];
  events: ([number, number, number | null, boolean] | [number, 'complete'])[];
}

const FIXTURE = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'sweep_pruners_reference.json'), 'utf8')) as { scenarios: Scenario[] };

/** The fixture's pruner settings (Optuna's, named as our config names them) → our rule. */
function ruleOf(p: Scenario['pruner']): EarlyTermination {
  const n = (k: string) => p[k] as number;
  return p.type === 'asha'
    ? {
        type: 'asha',
        minSteps: n('min_steps'),
        reductionFactor: n('reduction_factor'),
        minEarlyStoppingRate: n('min_early_stopping_rate'),
        bootstrapCount: n('bootstrap_count'),
      }
    : { type: 'median', startupTrials: n('startup_trials'), warmupSteps: n('warmup_steps'), intervalSteps: n('interval_steps'), minTrials: n('min_trials') };
}

/** Replays the events; returns every report where our decision differs from Optuna's. */
function replay(sc: Scenario): string[] {
  const rule = ruleOf(sc.pruner);
  const trials = new Map<number, TrialCurve>();
  const diffs: string[] = [];
  for (const e of sc.events) {
    const t = trials.get(e[0]) ?? { state: 'running', points: [] };
    trials.set(e[0], t);
    if (e[1] === 'complete') {
      t.state = 'complete';
      continue;
    }
    const [i, step, value, optuna] = e;
    t.points.push([step, value ?? NaN]);
    const others = [...trials].filter(([j]) => j !== i).map(([, c]) => c);
    const ours = decide(rule, t.points, others, sc.mode);
    if (ours.prune !== optuna) diffs.push(`trial ${i} step ${step}: ours ${ours.prune}, Optuna ${optuna}`);
    if (optuna) Object.assign(t, { state: 'pruned', prunedRung: ours.rung });
  }
  return diffs;
}

describe('early termination: the same decisions as Optuna', () => {
  for (const sc of FIXTURE.scenarios) {
    it(sc.name, () => {
      const reports = sc.events.filter((e) => e[1] !== 'complete');
      const pruned = reports.filter((e) => e[3] === true).length;
      assert.ok(pruned > 0 && pruned < sc.curves.length, 'the scenario prunes some trials and keeps others');
      assert.deepEqual(replay(sc), []);
    });
  }
});

describe('early termination: inputs', () => {
  it('reads the sweep metric from validation records only', () => {
    const records = [
      { type: 'train', step: 1, epoch: 0, loss: 1, lr: 1, gradNorm: 1, stepsPerSec: 1, samplesPerSec: 1 },
      { type: 'eval', split: 'validation', step: 4, epoch: 1, metrics: { f1: 0.5, loss: 0.9 } },
      { type: 'eval', split: 'test', step: 4, epoch: 1, metrics: { f1: 0.7 } },
      { type: 'eval', split: 'validation', step: 8, epoch: 2, metrics: { loss: 0.8 } },
      { type: 'eval', split: 'validation', step: 12, epoch: 3, metrics: { f1: 0.6 } },
    ] as MetricsRecord[];
    assert.deepEqual(curveOf(records, 'f1'), [
      [4, 0.5],
      [12, 0.6],
    ]);
  });

  it("a rung's value is the first evaluation at or after its step", () => {
    const asha = ruleOf({ type: 'asha', min_steps: 4, reduction_factor: 2, min_early_stopping_rate: 0, bootstrap_count: 0 }) as Extract<
      EarlyTermination,
      { type: 'asha' }
    >;
    const pts: Point[] = [
      [3, 0.1],
      [5, 0.2],
      [7, 0.3],
      [9, 0.4],
      [20, 0.5],
    ];
    // Rungs at 4, 8, 16, 32: 5 completes rung 0, 9 rung 1, 20 rung 2.
    assert.deepEqual(rungValues(asha, pts), [0.2, 0.4, 0.5]);
  });
});
