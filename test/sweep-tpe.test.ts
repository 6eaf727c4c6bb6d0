// Our TPE against Optuna's: test/fixtures/sweep_tpe_reference.json holds what Optuna 5 computes on
// fixed inputs (scripts/sweep_tpe_reference.py): the Parzen mixture's log-density for float,
// log-float, integer, log-integer and categorical parameters (one mixture over all, and one per
// parameter), and the split of finished trials into the good ones and the rest. The samplers'
// seeding is checked here too; their search quality is npm run bench:sweep's (docs/benchmarks.md).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { Distribution } from '../src/shared/config/config';
import { Parzen, splitTrials, suggestRandom, suggestTpe, type TpeTrial } from '../src/shared/sweep/tpe';

interface Fixture {
  mixtures: { space: Record<string, Distribution>; obs: number[][]; points: number[][]; logPdf: number[] }[];
  splits: {
    mode: 'max' | 'min';
    trials: { state: 'complete' | 'pruned'; value?: number; lastStep?: number | null; lastValue?: number | null }[];
    below: number[];
    above: number[];
  }[];
}
const FIXTURE = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'sweep_tpe_reference.json'), 'utf8')) as Fixture;

describe('TPE: the same numbers as Optuna', () => {
  it("the Parzen mixture's log-density equals Optuna's _ParzenEstimator.log_pdf", () => {
    let worst = 0;
    for (const c of FIXTURE.mixtures) {
      const p = new Parzen(c.obs, Object.values(c.space), 1);
      c.points.forEach((x, i) => {
        const ours = p.logPdf(x);
        worst = Math.max(worst, Math.abs(ours - c.logPdf[i]));
        assert.ok(Math.abs(ours - c.logPdf[i]) < 1e-5, `${Object.keys(c.space).join(',')} n=${c.obs.length} point ${i}: ours ${ours}, Optuna ${c.logPdf[i]}`);
      });
    }
    assert.ok(FIXTURE.mixtures.length >= 30 && worst >= 0);
  });

  it("the split into good and other trials equals Optuna's _split_trials (pruned trials ranked by step, then value)", () => {
    for (const s of FIXTURE.splits) {
      const trials: TpeTrial[] = s.trials.map((t) =>
        t.state === 'complete'
          ? { params: {}, state: 'complete', value: t.value }
          : { params: {}, state: 'pruned', lastStep: t.lastStep ?? undefined, lastValue: t.lastValue ?? undefined },
      );
      assert.deepEqual(splitTrials(trials, s.mode), { below: s.below, above: s.above }, `${s.mode}, ${s.trials.length} trials`);
    }
  });
});

describe('samplers: seeded and in range', () => {
  const space: Record<string, Distribution> = {
    'training.lr': { kind: 'loguniform', low: 1e-5, high: 1e-3 },
    'training.warmup_ratio': { kind: 'uniform', low: 0, high: 0.2 },
    'training.epochs': { kind: 'int', low: 2, high: 5, log: false },
    'training.batch_size': { kind: 'choice', values: [16, 32] },
  };
  const inRange = (p: Record<string, unknown>) => {
    const lr = p['training.lr'] as number;
    const w = p['training.warmup_ratio'] as number;
    const e = p['training.epochs'] as number;
    return lr >= 1e-5 && lr <= 1e-3 && w >= 0 && w <= 0.2 && Number.isInteger(e) && e >= 2 && e <= 5 && [16, 32].includes(p['training.batch_size'] as number);
  };

  it('a trial’s draw depends only on the seed, its number and the trials before it', () => {
    const history: TpeTrial[] = [];
    for (let i = 0; i < 14; i++) {
      const p = suggestTpe(space, history, 'max', 5, i);
      assert.ok(inRange(p), JSON.stringify(p));
      assert.deepEqual(suggestTpe(space, history, 'max', 5, i), p, 'the same again (what a resumed sweep relies on)');
      if (i < 10) assert.deepEqual(p, suggestRandom(space, 5, i), 'the first 10 trials are random draws');
      history.push({ params: p, state: 'complete', value: -Math.abs(Math.log10(p['training.lr'] as number) + 4) });
    }
    assert.notDeepEqual(suggestRandom(space, 5, 3), suggestRandom(space, 6, 3), 'another seed draws otherwise');
  });

  it('after the startup trials TPE draws near the good trials (10 seeds)', () => {
    const quad: Record<string, Distribution> = { lr: { kind: 'loguniform', low: 1e-6, high: 1e-1 } };
    const f = (lr: number) => (Math.log10(lr) + 3.5) ** 2;
    let startup = 0;
    let late = 0;
    for (let seed = 0; seed < 10; seed++) {
      const history: TpeTrial[] = [];
      for (let i = 0; i < 30; i++) {
        const p = suggestTpe(quad, history, 'min', seed, i);
        history.push({ params: p, state: 'complete', value: f(p.lr as number) });
      }
      startup += history.slice(0, 10).reduce((s, t) => s + t.value!, 0) / 100;
      late += history.slice(20).reduce((s, t) => s + t.value!, 0) / 100;
    }
    assert.ok(late < startup / 2, `mean of trials 20-29: ${late}; of the 10 random ones: ${startup}`);
  });
});
