// The cross-run plots' pure part on plain Node: scales and ticks, the colour scale's contrast in
// each VS Code theme, parallel-coordinates coordinates, brushing and hit tests, scatter layout.
// (The drawing and the pointer interactions are in test/plots-browser.test.ts.)

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { contrast, sequentialScale, luminance, type RGB } from '../src/webview/plots/color';
import {
  axisAt,
  brushed,
  dropIndex,
  layoutParallel,
  lineOf,
  MARGIN,
  moveAxis,
  nearestLine,
  tooltipLines,
  yOf,
  type Brushes,
} from '../src/webview/plots/parallelLayout';
import { buildScale, categoriesOf, decadeTicks, formatValue, niceTicks } from '../src/webview/plots/scale';
import { jitterOf, layoutScatter, nearestPoint, PAD, SCATTER_MARGIN } from '../src/webview/plots/scatterLayout';
import type { PlotAxis, PlotData } from '../src/webview/plots/types';
import THEMES from './fixtures/vscode-themes.json';

const LR: PlotAxis = { key: 'training.lr', label: 'lr', kind: 'log' };
const BS: PlotAxis = { key: 'training.batch_size', label: 'batch size', kind: 'category' };
const F1: PlotAxis = { key: 'best_f1', label: 'f1', kind: 'number' };

const data: PlotData = {
  axes: [LR, BS, F1],
  colorBy: 'best_f1',
  points: [
    { id: 'a', label: 'lr=1e-5', values: { 'training.lr': 1e-5, 'training.batch_size': 16, best_f1: 0.5 } },
    { id: 'b', label: 'lr=1e-4', values: { 'training.lr': 1e-4, 'training.batch_size': 32, best_f1: 0.75 } },
    { id: 'c', label: 'lr=1e-3', values: { 'training.lr': 1e-3, 'training.batch_size': 8, best_f1: 1 } },
    { id: 'd', label: 'no f1', values: { 'training.lr': 1e-4, 'training.batch_size': 16, best_f1: null } },
  ],
};

const hex = (h: string): RGB => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)) as unknown as RGB;

describe('scales', () => {
  test('linear: nice ticks covering the data, positions 0 … 1', () => {
    assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(0.13, 0.87, 4), [0.2, 0.4, 0.6, 0.8]);
    const s = buildScale(F1, data.points);
    assert.deepEqual(s.domain, [0.5, 1]);
    assert.equal(s.pos(0.5), 0);
    assert.equal(s.pos(1), 1);
    assert.equal(s.pos(0.75), 0.5);
    assert.equal(s.pos(null), null, 'missing → the "—" slot');
    assert.equal(s.pos(Number.NaN), null);
    assert.deepEqual(
      s.ticks.map((t) => t.label),
      ['0.5', '0.6', '0.7', '0.8', '0.9', '1'],
    );
    // one distinct value: padded, in the middle
    const one = buildScale(F1, [data.points[0]]);
    assert.ok(Math.abs(one.pos(0.5)! - 0.5) < 1e-12);
  });

  test('log: decade ticks, equal spacing per decade, values ≤ 0 missing', () => {
    assert.deepEqual(decadeTicks(1e-5, 1e-3), [1e-5, 1e-4, 1e-3]);
    assert.deepEqual(decadeTicks(2e-5, 8e-5), [2e-5, 5e-5], 'within a decade: 2× and 5×');
    assert.deepEqual(decadeTicks(1.05e-5, 9e-4), [2e-5, 5e-5, 1e-4, 2e-4, 5e-4], 'fewer than three decades inside: 2× and 5× too');
    const s = buildScale(LR, data.points);
    assert.equal(s.pos(1e-5), 0);
    assert.ok(Math.abs(s.pos(1e-4)! - 0.5) < 1e-12, 'one decade of two is half way');
    assert.equal(s.pos(1e-3), 1);
    assert.equal(s.pos(0), null);
    assert.equal(s.pos(-1), null);
    assert.deepEqual(
      s.ticks.map((t) => t.label),
      ['1e-5', '1e-4', '0.001'],
    );
    assert.ok(Math.abs((s.valueAt(0.5) as number) - 1e-4) < 1e-15);
  });

  test('category: numbers in numeric order, then strings; evenly spaced', () => {
    assert.deepEqual(categoriesOf([32, 8, 'b', 16, 'a', null, 8, true]), ['8', '16', '32', 'a', 'b', 'true']);
    const s = buildScale(BS, data.points);
    assert.deepEqual(s.categories, ['8', '16', '32']);
    assert.equal(s.pos(8), 0);
    assert.equal(s.pos(16), 0.5);
    assert.equal(s.pos(32), 1);
    assert.equal(s.pos(null), null);
    assert.equal(s.pos(64), null, 'a value the scale was not built from');
    assert.equal(formatValue(3e-4), '3e-4');
    assert.equal(formatValue(null), '—');
  });
});

describe('colour scale', () => {
  for (const [name, theme] of Object.entries(THEMES.themes)) {
    test(`${name}: every colour has 3:1 contrast with the editor background, and it runs monotonically in lightness`, () => {
      const bg = hex(theme.vars['--vscode-editor-background']);
      const fg = hex(theme.vars['--vscode-foreground']);
      const s = sequentialScale(bg, fg);
      let prev = NaN;
      let dir = 0;
      for (let t = 0; t <= 1.0001; t += 0.02) {
        const c = s.at(t);
        assert.ok(contrast(c, bg) >= 3, `${name}: t=${t.toFixed(2)} rgb(${c.join(',')}) has ${contrast(c, bg).toFixed(2)}:1`);
        const L = luminance(c);
        if (!Number.isNaN(prev) && L !== prev) {
          const d = Math.sign(L - prev);
          assert.ok(dir === 0 || d === dir, `${name}: lightness turns at t=${t.toFixed(2)}`);
          dir = d;
        }
        prev = L;
      }
      // the scale still spans a visible range: first and last colours differ clearly
      assert.ok(contrast(s.at(0), s.at(1)) >= 2, `${name}: ends too alike (${contrast(s.at(0), s.at(1)).toFixed(2)}:1)`);
    });
  }
});

describe('parallel coordinates layout', () => {
  const W = 600,
    H = 300;
  const l = layoutParallel(data, W, H);

  test('axes evenly spaced between the margins; a run crosses each axis at its value', () => {
    assert.deepEqual(l.xs, [MARGIN.left, W / 2, W - MARGIN.right]);
    const b = lineOf(l, 1); // lr 1e-4 (middle), batch 32 (top), f1 0.75 (middle)
    assert.deepEqual(
      b.map(([x]) => x),
      l.xs,
    );
    assert.ok(Math.abs(b[0][1] - (l.top + l.bottom) / 2) < 1e-9);
    assert.equal(b[1][1], l.top);
    assert.ok(Math.abs(b[2][1] - (l.top + l.bottom) / 2) < 1e-9);
    // a run without a value sits at the "—" slot below the axis
    assert.equal(lineOf(l, 3)[2][1], l.missingY);
    assert.ok(l.missingY > l.bottom);
    // coloured by the colour axis: f1 0.5 → 0, 1 → 1, none → NaN
    assert.deepEqual([...l.color].slice(0, 3), [0, 0.5, 1]);
    assert.ok(Number.isNaN(l.color[3]));
  });

  test('brushing keeps the runs inside every brush; missing values fall outside', () => {
    const none: Brushes = new Map();
    assert.deepEqual(brushed(l, none), [0, 1, 2, 3]);
    const f1High: Brushes = new Map([['best_f1', [0.4, 1]]]);
    assert.deepEqual(brushed(l, f1High), [1, 2], 'f1 ≥ 0.7: b and c; d has no f1');
    const both: Brushes = new Map([
      ['best_f1', [0.4, 1]],
      ['training.lr', [0, 0.6]],
    ]);
    assert.deepEqual(brushed(l, both), [1], 'and lr ≤ 1e-4');
  });

  test('hit tests: nearest line between axes, the axis under the pointer, reordering', () => {
    // half way between axis 0 and 1, run c goes from lr top (1e-3) to batch 8 (bottom): y at the middle
    const x = (l.xs[0] + l.xs[1]) / 2;
    const yc = (yOf(l, 1) + yOf(l, 0)) / 2;
    assert.equal(nearestLine(l, x, yc + 2, 8, [2]), 2);
    assert.equal(nearestLine(l, l.xs[0] + 1, yOf(l, 0) - 1), 0, 'at axis 0 near lr 1e-5: run a');
    assert.equal(nearestLine(l, l.xs[0] + 1, l.top - 30), -1, 'nothing within 8 px');
    assert.equal(nearestLine(l, l.xs[0], yOf(l, 1), 8, [0, 1]), -1, 'only among the candidates');
    assert.equal(axisAt(l, l.xs[1] + 10), 1);
    assert.equal(axisAt(l, l.xs[1] + 40), -1);
    assert.deepEqual(moveAxis(['a', 'b', 'c'], 0, 2), ['b', 'c', 'a']);
    assert.deepEqual(moveAxis(['a', 'b', 'c'], 2, 0), ['c', 'a', 'b']);
    assert.equal(dropIndex(l, 0, W - 10), 2, 'axis 0 dropped right of the last');
    assert.deepEqual(tooltipLines(data, 3, formatValue), ['no f1', 'lr: 1e-4', 'batch size: 16', 'f1: —']);
  });
});

describe('scatter layout', () => {
  test('numeric x: points inside the plot at their values; runs without both values counted', () => {
    const l = layoutScatter(data, LR, F1, 400, 300);
    assert.deepEqual(l.index, [0, 1, 2]);
    assert.equal(l.missing, 1);
    // the extremes sit PAD inside the frame, so their dots are not cut
    const w = 400 - SCATTER_MARGIN.left - SCATTER_MARGIN.right,
      h = 300 - SCATTER_MARGIN.top - SCATTER_MARGIN.bottom;
    assert.ok(Math.abs(l.px[0] - (SCATTER_MARGIN.left + PAD * w)) < 1e-9);
    assert.ok(Math.abs(l.px[2] - (400 - SCATTER_MARGIN.right - PAD * w)) < 1e-9);
    assert.ok(Math.abs(l.px[1] - (SCATTER_MARGIN.left + w / 2)) < 1e-9, 'lr 1e-4: half way on the log axis');
    assert.ok(Math.abs(l.py[0] - (300 - SCATTER_MARGIN.bottom - PAD * h)) < 1e-9);
    assert.ok(Math.abs(l.py[2] - (SCATTER_MARGIN.top + PAD * h)) < 1e-9);
    assert.equal(nearestPoint(l, l.px[1] + 3, l.py[1] - 3), 1);
    assert.equal(nearestPoint(l, l.px[1] + 30, l.py[1]), -1);
  });

  test('category x: each run jittered within its slot, stably per id', () => {
    const many: PlotData = {
      axes: [BS, F1],
      colorBy: 'best_f1',
      points: Array.from({ length: 60 }, (_, i) => ({ id: `r${i}`, label: `r${i}`, values: { 'training.batch_size': [8, 16, 32][i % 3], best_f1: i / 60 } })),
    };
    const l = layoutScatter(many, BS, F1, 600, 300);
    const slot = (600 - SCATTER_MARGIN.left - SCATTER_MARGIN.right) / 3;
    l.index.forEach((i, k) => {
      const centre = SCATTER_MARGIN.left + slot / 2 + (i % 3) * slot;
      assert.ok(Math.abs(l.px[k] - centre) <= slot * 0.25 + 1e-9, `run ${i} at ${l.px[k]} is outside its slot centred at ${centre}`);
    });
    assert.ok(new Set([...l.px].map((x) => Math.round(x))).size > 10, 'jitter spreads the runs');
    assert.equal(jitterOf('r1'), jitterOf('r1'));
    assert.notEqual(jitterOf('r1'), jitterOf('r2'));
    const again = layoutScatter(many, BS, F1, 600, 300);
    assert.deepEqual([...again.px], [...l.px], 'same place on every render');
  });
});
