// The experiments table's pure logic (src/webview/table/): the filter language, multi-column sort,
// column defaults, grouping and pins, selection, the virtual window, CSV and the plot data.
// Run: node --import tsx --test test/table-logic.test.ts

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TableRow } from '../src/shared/protocol';
import { isHostToTable, isTableToHost } from '../src/shared/protocol';
import { buildColumns, paramText, shownColumns } from '../src/webview/table/columns';
import { tableCsv } from '../src/webview/table/csv';
import { buildDisplay, groupKey } from '../src/webview/table/display';
import { compileFilter, fieldsOf, type Filter } from '../src/webview/table/filter';
import { plotDataFor } from '../src/webview/table/plotData';
import { clickSelect, selectedInOrder } from '../src/webview/table/selection';
import { sortRows, toggleSort } from '../src/webview/table/sort';
import { checkTableMessage, restoreUi } from '../src/webview/table/state';
import { scrollToShow, visibleRange } from '../src/webview/table/virtual';

function row(id: string, o: Partial<TableRow> = {}): TableRow {
  return { id, shortId: id.slice(-6), label: id, name: id, status: 'completed', config: 'a.finetune.yaml', step: 10, params: {}, metrics: {}, tags: [], ...o };
}

const ROWS: TableRow[] = [
  row('r1', {
    name: 'bert small',
    params: { 'training.lr': 1e-4, 'training.batch_size': 32, task: 'ner' },
    metrics: { best_f1: 0.95, test_f1: 0.93 },
    tags: ['base'],
  }),
  row('r2', { params: { 'training.lr': 3e-5, 'training.batch_size': 32, task: 'ner' }, metrics: { best_f1: 0.91, test_f1: 0.9 }, notes: 'warmup longer' }),
  row('r3', { params: { 'training.lr': 5e-3, 'training.batch_size': 16, task: 'ner' }, metrics: { test_f1: 0.85 }, status: 'failed' }),
  row('r4', { params: { 'training.lr': 3e-5, 'training.batch_size': 16, task: 'ner' }, metrics: {}, status: 'running', label: 'lr=3e-5 · bs=16' }),
];
const fields = fieldsOf(ROWS);
const ids = (f: Filter) => {
  assert.ok(f.kind === 'expr' || f.kind === 'text', `not a working filter: ${JSON.stringify(f)}`);
  return ROWS.filter(f.test).map((r) => r.id);
};
const run = (text: string) => ids(compileFilter(text, fields));

describe('filter', () => {
  test('comparisons on metrics and dotted parameters, joined by and/or/not and parentheses', () => {
    assert.deepEqual(run('best_f1 > 0.9'), ['r1', 'r2']);
    assert.deepEqual(run('test_f1 >= 0.9 and training.lr < 1e-4'), ['r2']);
    assert.deepEqual(run('training.lr = 3e-5 or training.batch_size != 32'), ['r2', 'r3', 'r4']);
    assert.deepEqual(run('not (training.batch_size = 16)'), ['r1', 'r2']);
    assert.deepEqual(run('!(best_f1 > 0.92) && test_f1 > 0'), ['r2', 'r3']);
    assert.deepEqual(run('training.lr <= 1e-4 || status = failed'), ['r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(run('0.9 < best_f1'), ['r1', 'r2'], 'a value first reads the other way round');
  });

  test('a bare metric name is the best_ value, else the test_ one; a unique last key part names its parameter', () => {
    assert.deepEqual(run('f1 > 0.9'), ['r1', 'r2']);
    assert.deepEqual(run('f1 < 0.9'), ['r3'], 'r3 has only test_f1; r4 has neither and never matches');
    assert.deepEqual(run('lr < 1e-4'), ['r2', 'r4']);
    assert.deepEqual(run('batch_size = 16 and f1 < 0.9'), ['r3']);
  });

  test('strings: = and != ignore case, ~ contains, !~ does not; tags match any tag', () => {
    assert.deepEqual(run('status = RUNNING'), ['r4']);
    assert.deepEqual(run("name ~ 'bert'"), ['r1']);
    assert.deepEqual(run('notes ~ warmup'), ['r2']);
    assert.deepEqual(run('tags = base'), ['r1']);
    assert.deepEqual(run('label !~ "lr="'), ['r1', 'r2', 'r3']);
    assert.deepEqual(run('pinned = false and task = ner'), ['r1', 'r2', 'r3', 'r4']);
  });

  test('text without an operator is free text: every word in name, label, id, tags or notes', () => {
    assert.equal(compileFilter('bert', fields).kind, 'text');
    assert.deepEqual(run('BERT'), ['r1']);
    assert.deepEqual(run('warmup longer'), ['r2']);
    assert.deepEqual(run('base small'), ['r1']);
    assert.deepEqual(run('warmup bert'), [], 'every word, not any: r1 has bert, r2 warmup');
    assert.deepEqual(run('r4 bs'), ['r4']);
    assert.deepEqual(run('nothing-like-this'), []);
    assert.equal(compileFilter('   ', fields).kind, 'all');
  });

  test('a half-written or wrong expression is an error saying what and where', () => {
    const err = (text: string) => {
      const f = compileFilter(text, fields);
      assert.equal(f.kind, 'error', `${text} should not parse`);
      return f.kind === 'error' ? f : undefined!;
    };
    assert.match(err('f1 >').message, /expected a value after '>'/);
    assert.match(err('f1 > 0.9 and').message, /expected a comparison/);
    assert.match(err('(f1 > 0.9').message, /expected '\)' to close the '\(' at column 1/);
    assert.match(err('f1 > 0.9 lr < 1').message, /expected 'and', 'or' or the end, found 'lr' at column 10/);
    assert.match(err('foo > 1').message, /unknown field 'foo' at column 1/);
    assert.match(err("name = 'bert").message, /not closed/);
    assert.equal(err('f1 >').column, 5);
  });

  test('compiled once, 10,000 rows are filtered correctly', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => row(`x${i}`, { params: { 'training.lr': (i % 10) * 1e-5 }, metrics: { best_f1: (i % 100) / 100 } }));
    const f = compileFilter('f1 >= 0.5 and lr < 5e-5', fieldsOf(many));
    assert.equal(f.kind, 'expr');
    if (f.kind === 'expr') assert.equal(many.filter(f.test).length, 10_000 * 0.5 * 0.5);
  });
});

describe('sort', () => {
  const cols = new Map(buildColumns(ROWS).all.map((c) => [c.key, c]));
  const order = (keys: Parameters<typeof sortRows>[1]) => sortRows(ROWS, keys, cols).map((r) => r.id);

  test('one key either way; missing values last in both directions', () => {
    assert.deepEqual(order([{ key: 'best_f1', dir: 'desc' }]), ['r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(order([{ key: 'best_f1', dir: 'asc' }]), ['r2', 'r1', 'r3', 'r4']);
    assert.deepEqual(order([{ key: 'training.lr', dir: 'asc' }]), ['r2', 'r4', 'r1', 'r3']);
  });

  test('several keys: the second decides ties of the first', () => {
    assert.deepEqual(
      order([
        { key: 'training.batch_size', dir: 'asc' },
        { key: 'training.lr', dir: 'desc' },
      ]),
      ['r3', 'r4', 'r1', 'r2'],
    );
    assert.deepEqual(
      order([
        { key: 'training.batch_size', dir: 'desc' },
        { key: 'training.lr', dir: 'asc' },
      ]),
      ['r2', 'r1', 'r4', 'r3'],
    );
  });

  test('status sorts by state, running first', () => {
    assert.deepEqual(order([{ key: 'status', dir: 'asc' }]), ['r4', 'r1', 'r2', 'r3']);
  });

  test('click: this column alone, again the other way, a third time unsorted; shift-click adds, turns, drops', () => {
    let k = toggleSort([], 'a', false);
    assert.deepEqual(k, [{ key: 'a', dir: 'asc' }]);
    k = toggleSort(k, 'a', false);
    assert.deepEqual(k, [{ key: 'a', dir: 'desc' }]);
    assert.deepEqual(toggleSort(k, 'a', false), []);
    k = toggleSort([{ key: 'a', dir: 'asc' }], 'b', true, 'desc');
    assert.deepEqual(k, [
      { key: 'a', dir: 'asc' },
      { key: 'b', dir: 'desc' },
    ]);
    k = toggleSort(k, 'b', true, 'desc');
    assert.deepEqual(k[1], { key: 'b', dir: 'asc' });
    assert.deepEqual(toggleSort(k, 'b', true, 'desc'), [{ key: 'a', dir: 'asc' }]);
    assert.deepEqual(toggleSort(k, 'c', false), [{ key: 'c', dir: 'asc' }], 'a plain click starts over');
  });

  test('10,000 rows by two keys: ordered', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => row(`x${i}`, { params: { p: i % 7 }, metrics: { best_f1: ((i * 7919) % 10_007) / 10_007 } }));
    const c = new Map(buildColumns(many).all.map((x) => [x.key, x]));
    const s = sortRows(
      many,
      [
        { key: 'p', dir: 'asc' },
        { key: 'best_f1', dir: 'desc' },
      ],
      c,
    );
    for (let i = 1; i < s.length; i++) {
      const a = s[i - 1];
      const b = s[i];
      const pa = a.params.p as number;
      const pb = b.params.p as number;
      assert.ok(pa < pb || (pa === pb && a.metrics.best_f1 >= b.metrics.best_f1), `rows ${i - 1} and ${i} out of order`);
    }
  });
});

describe('columns', () => {
  test('parameters that differ are shown by default, equal ones hidden; metrics shown; the choice wins', () => {
    const set = buildColumns(ROWS);
    assert.deepEqual([...set.differing].sort(), ['training.batch_size', 'training.lr']);
    const keys = (chosen: Record<string, boolean>) => shownColumns(set, chosen).map((c) => c.key);
    assert.deepEqual(keys({}), ['pinned', 'status', 'label', 'started', 'duration', 'step', 'training.batch_size', 'training.lr', 'best_f1', 'test_f1']);
    assert.deepEqual(keys({ task: true, 'training.lr': false, duration: false, label: false }), [
      'pinned',
      'status',
      'label',
      'started',
      'step',
      'task',
      'training.batch_size',
      'best_f1',
      'test_f1',
    ]);
  });

  test('parameters are drawn as a config writes them; a column of numbers is right-aligned', () => {
    assert.deepEqual([3e-5, 2.5e-4, 0.005, 0.1, 32, 0, 1e7, 'linear', null, true].map(paramText), [
      '3e-5',
      '2.5e-4',
      '0.005',
      '0.1',
      '32',
      '0',
      '1e+7',
      'linear',
      'null',
      'true',
    ]);
    const set = buildColumns(ROWS);
    assert.deepEqual(
      set.all.filter((c) => c.kind === 'param').map((c) => `${c.key}:${c.numeric}`),
      ['task:false', 'training.batch_size:true', 'training.lr:true'],
    );
  });

  test('a parameter only some runs have differs', () => {
    const set = buildColumns([row('a', { params: { x: 1 } }), row('b', { params: { x: 1, y: 2 } }), row('c', { params: { x: 1 } })]);
    assert.deepEqual([...set.differing], ['y']);
  });

  test("with several configs, a parameter differs within a config or across every run, not by one config's own keys", () => {
    const ner = (id: string, lr: number) => row(id, { config: 'ner.finetune.yaml', params: { task: 'ner', 'training.lr': lr, 'data.max_length': 128 } });
    const lora = (id: string, rank: number, opt?: string) =>
      row(id, {
        config: 'cls.finetune.yaml',
        params: { task: 'cls', 'training.lr': 1e-4, 'peft.rank': 8, 'peft.alpha': rank, ...(opt ? { 'training.optimizer': opt } : {}) },
      });
    const set = buildColumns([ner('a', 1e-4), ner('b', 3e-5), lora('c', 16), lora('d', 16, 'sgd'), lora('e', 32)]);
    // lr varies in ner; alpha varies in cls; the optimizer is set in one cls run only; task differs and every run has it.
    // max_length (only ner's, the same in both) and rank (only cls's, always 8) are not differences.
    assert.deepEqual([...set.differing].sort(), ['peft.alpha', 'task', 'training.lr', 'training.optimizer']);
  });
});

describe('display', () => {
  const rows = [
    row('a', { config: 'one.yaml' }),
    row('b', { config: 'two.yaml', sweep: 's1' }),
    row('c', { config: 'one.yaml', pinned: true }),
    row('d', { config: 'two.yaml', sweep: 's1' }),
    row('e', { config: 'two.yaml' }),
  ];
  const shape = (grouped: boolean, collapsed: string[] = []) =>
    buildDisplay(rows, { grouped, collapsed: new Set(collapsed) }).map((it) =>
      it.kind === 'group' ? `${'  '.repeat(it.depth)}[${it.label} ${it.count}]` : `${'  '.repeat(it.depth)}${it.row.id}`,
    );

  test('pinned first, then one group per config in sorted order, a sweep as a sub-group', () => {
    assert.deepEqual(shape(true), ['[Pinned 1]', '  c', '[one.yaml 1]', '  a', '[two.yaml 3]', '  [sweep s1 2]', '    b', '    d', '  e']);
  });

  test('flat: pinned first, then sorted order', () => {
    assert.deepEqual(shape(false), ['c', 'a', 'b', 'd', 'e']);
  });

  test('a collapsed group hides its rows and sub-groups', () => {
    assert.deepEqual(shape(true, [groupKey('two.yaml')]), ['[Pinned 1]', '  c', '[one.yaml 1]', '  a', '[two.yaml 3]']);
    assert.deepEqual(shape(true, [groupKey('two.yaml', 's1')]), ['[Pinned 1]', '  c', '[one.yaml 1]', '  a', '[two.yaml 3]', '  [sweep s1 2]', '  e']);
  });
});

describe('selection', () => {
  const order = ['a', 'b', 'c', 'd', 'e'];
  test('click selects one; ctrl toggles; shift selects the range from the anchor', () => {
    let s = clickSelect({ ids: new Set() }, order, 'b', {});
    assert.deepEqual([...s.ids], ['b']);
    s = clickSelect(s, order, 'd', { shift: true });
    assert.deepEqual(selectedInOrder(s, order), ['b', 'c', 'd']);
    s = clickSelect(s, order, 'a', { shift: true });
    assert.deepEqual(selectedInOrder(s, order), ['a', 'b'], 'the range is from the anchor, not added');
    s = clickSelect(s, order, 'e', { toggle: true });
    assert.deepEqual(selectedInOrder(s, order), ['a', 'b', 'e']);
    s = clickSelect(s, order, 'a', { toggle: true });
    assert.deepEqual(selectedInOrder(s, order), ['b', 'e']);
    assert.equal(s.anchor, 'a');
  });
});

describe('virtual window', () => {
  test('only the rows in view plus the overscan', () => {
    assert.deepEqual(visibleRange(0, 240, 10_000, 24, 6), { first: 0, end: 16 });
    assert.deepEqual(visibleRange(24 * 5000, 240, 10_000, 24, 6), { first: 4994, end: 5016 });
    assert.deepEqual(visibleRange(24 * 9990, 480, 10_000, 24, 6), { first: 9984, end: 10_000 });
    assert.deepEqual(visibleRange(0, 240, 0), { first: 0, end: 0 });
  });
  test('scrolls just enough to show a row below the sticky header', () => {
    assert.equal(scrollToShow(3, 0, 200, 26, 24), undefined);
    assert.equal(scrollToShow(10, 0, 200, 26, 24), 11 * 24 - (200 - 26));
    assert.equal(scrollToShow(2, 100, 200, 26, 24), 48);
  });
});

describe('csv and plot data', () => {
  test('CSV: the given rows in order, id and run first, raw values, quoting, no formulas', () => {
    const rows = [row('a', { label: 'lr=1e-4, bs=32', params: { 'training.lr': 1e-4, note: '=cmd' }, metrics: { best_f1: 0.912345678 } }), row('b')];
    const cols = buildColumns(rows).all.filter((c) => ['label', 'status', 'training.lr', 'note', 'best_f1'].includes(c.key));
    assert.equal(tableCsv(rows, cols), `id,run,status,note,training.lr,best_f1\na,"lr=1e-4, bs=32",completed,'=cmd,0.0001,0.912345678\nb,b,completed,,,\n`);
  });

  test('plotDataFor: parameter axes (log for a wide positive range, categories for text), the metric last', () => {
    const cols = buildColumns(ROWS).all;
    const d = plotDataFor(ROWS.slice(0, 3), cols, 'test_f1', ['r2']);
    assert.deepEqual(
      d.axes.map((a) => `${a.key}:${a.kind}`),
      ['task:category', 'training.batch_size:number', 'training.lr:log', 'test_f1:number'],
    );
    assert.equal(d.colorBy, 'test_f1');
    assert.deepEqual(d.points[2], { id: 'r3', label: 'r3', values: { task: 'ner', 'training.batch_size': 16, 'training.lr': 5e-3, test_f1: 0.85 } });
    assert.deepEqual(d.highlight, ['r2']);
  });
});

describe('messages', () => {
  test('host → table: bad rows are dropped, bad messages refused', () => {
    assert.equal(checkTableMessage({ type: 'nope' }), undefined);
    assert.equal(checkTableMessage({ type: 'rows', rows: 'x' }), undefined);
    const m = checkTableMessage({ type: 'upsert', rows: [row('ok'), { ...row('bad'), status: 'weird' }, { ...row('bad2'), params: { x: {} } }, null] });
    assert.deepEqual(m, { type: 'upsert', rows: [row('ok')] });
    assert.ok(isHostToTable({ type: 'remove', ids: ['a'] }));
  });
  test('table → host: only known actions with string ids', () => {
    assert.ok(isTableToHost({ type: 'action', action: 'compare', ids: ['a', 'b'] }));
    assert.ok(!isTableToHost({ type: 'action', action: 'rm -rf', ids: ['a'] }));
    assert.ok(!isTableToHost({ type: 'action', action: 'delete', ids: [1] }));
    assert.ok(!isTableToHost({ type: 'stop', runId: 'a' }));
    assert.ok(isTableToHost({ type: 'export', format: 'csv', suggestedName: 'x.csv', data: '' }));
  });
  test('a saved UI state is restored only where well-formed', () => {
    const s = restoreUi({ sort: [{ key: 'a', dir: 'desc' }, { key: 1 }], chosen: { x: true, y: 'no' }, filter: 'f1 > 1', grouped: false, collapsed: ['g', 2] });
    assert.deepEqual(s, { sort: [{ key: 'a', dir: 'desc' }], chosen: { x: true }, filter: 'f1 > 1', grouped: false, collapsed: ['g'] });
    assert.deepEqual(restoreUi(null).sort, [{ key: 'started', dir: 'desc' }]);
  });
});
