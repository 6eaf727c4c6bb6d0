// A hostile run folder (from a shared drive, a cluster, a colleague's zip): every string in it is data.
// What the extension builds from run strings for VS Code to draw — Markdown tooltips and hovers, pick
// list items, CodeLens titles, notifications — must show them literally: no theme icon from `$(…)`,
// no link from bare `https://…`, `www.…` or `a@b.c`, and no megabyte of text. The core builds those
// strings without `vscode`, so they are checked here; docs/bad-inputs.md ("Hostile run folders").

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { describeRun, labelText, mdEscape, noticeText, runPickItem } from '../src/extension/core/runs';
import { configLens, hoverTable } from '../src/extension/core/history';
import { DISPLAY_MAX } from '../src/shared/display';
import type { RunInfo, RunRecord } from '../src/shared/run';

const ROOT = path.resolve(path.dirname(__filename), '..');
const NOW = Date.parse('2026-11-29T12:00:00Z');
const ICON = '$(alert) $(sync~spin)';
const LINKS = 'see https://evil.example/a_b?x=1 or HTTP://EVIL.EXAMPLE, ftp://f.example, www.evil.example and me@evil.example';
const HUGE = `N${'x'.repeat(1_000_000)}`;

function run(over: Partial<RunInfo> = {}, dir = '/w/runs/r'): RunRecord {
  return {
    dir,
    info: {
      id: 'r',
      name: `${ICON} ${LINKS}`,
      configPath: '/w/x.finetune.yaml',
      configHash: 'h',
      status: 'completed',
      createdAt: '2026-11-29T10:00:00Z',
      startedAt: '2026-11-29T10:00:00Z',
      endedAt: '2026-11-29T10:01:00Z',
      host: '',
      versions: {},
      step: 1,
      epoch: 1,
      best: { metric: 'f1', value: 0.5, step: 1, checkpoint: '' },
      notes: `${ICON}\n${LINKS}`,
      tags: [ICON, 'https://t.example'],
      error: { message: `${ICON} ${LINKS}` },
      config: { task: 'token-classification', training: { optimizer: `${ICON} ${LINKS}`, lr: 0.001 }, model: { pretrained: '/m/www.evil.example' } },
      ...over,
    },
  };
}

/** Markdown that VS Code would turn into a theme icon with supportThemeIcons, or that GFM autolinks. */
const unescapedIcon = (md: string) => /(^|[^\\])\$\(/.test(md);
/** GFM extended autolinks: `scheme://`, `www.`, an e-mail address (marked, which VS Code renders with, finds these in text). */
const autolink = (md: string) => /[a-z][a-z0-9+.-]*:\/\//i.test(md) || /(^|[^a-z0-9])www\./i.test(md) || /[a-z0-9._+-]@[a-z0-9]/i.test(md);
/** The Markdown outside code spans (a code span shows its text literally and links nothing). */
const outsideCode = (md: string) => md.replace(/`[^`\n]*`/g, '');

describe('hostile run folders: theme icons', () => {
  it('the run tooltip carries no $( VS Code would draw, and none of its own (it is rendered with theme icons off)', () => {
    const t = describeRun(run(), NOW, { configNote: 'config changed since this run', trustNote: 'workspace not trusted' }).tooltip;
    assert.ok(!unescapedIcon(t), t);
    assert.match(t, /⚠ config changed/);
    // the tree builds the tooltip with supportThemeIcons off: with it on, VS Code draws \$\(alert\) as an icon
    const tree = fs.readFileSync(path.join(ROOT, 'src/extension/tree.ts'), 'utf8');
    assert.match(tree, /new vscode\.MarkdownString\(d\.tooltip, false\)/);
    for (const f of fs.readdirSync(path.join(ROOT, 'src/extension'), { recursive: true }) as string[])
      if (f.endsWith('.ts'))
        assert.doesNotMatch(fs.readFileSync(path.join(ROOT, 'src/extension', f), 'utf8'), /supportThemeIcons\s*=\s*true|MarkdownString\([^)]*,\s*true\)/, f);
  });

  it('pick lists, CodeLens titles and status text escape $( as \\$( (VS Code shows the text, not the icon)', () => {
    assert.equal(labelText('$(alert) a'), '\\$(alert) a');
    assert.equal(labelText('x\\$(alert)'), 'x\\\\$(alert)'); // a backslash of the run's own stays text
    const r = run({ best: { metric: '$(bug)' as never, value: 0.5, step: 1, checkpoint: '' } });
    const item = runPickItem(r, '$(folder) x.finetune.yaml', NOW);
    for (const s of [item.label, item.description, item.detail]) assert.ok(!unescapedIcon(s), s);
    assert.ok(item.label.startsWith('\\$(alert) \\$(sync~spin)'), item.label);
    const live = run({ status: 'running', step: 42, totalSteps: 100 });
    const lens = configLens({ configPath: '/w/x.finetune.yaml', runs: [live], now: NOW });
    assert.ok(lens[0].title.startsWith('$(sync~spin) \\$(alert) \\$(sync~spin)'), lens[0].title);
  });
});

describe('hostile run folders: links', () => {
  it('bare URLs, www. and e-mail addresses in run strings are split so that no autolink forms; the text reads the same', () => {
    const t = describeRun(run(), NOW).tooltip;
    assert.ok(!autolink(t), t);
    assert.ok(t.replace(/\u2060/g, '').includes('https://evil.example/a\\_b?x=1'), 'the text is kept, only split by an invisible word joiner');
    assert.ok(!autolink(mdEscape('HTTPS://A.B WWW.A.B a@b.c file:///etc/passwd')));
  });

  it('config hovers: run names, metric names and values with URLs link nothing', () => {
    const r1 = run({ id: 'r1', best: { metric: 'https://m.example' as never, value: 0.5, step: 1, checkpoint: '' } });
    const r2 = run({ id: 'r2', name: 'www.b.example', config: { task: 'token-classification', training: { optimizer: '`https://v.example`' } } }, '/w/runs/r2');
    const md = hoverTable({ key: 'training.optimizer', configPath: '/w/x.finetune.yaml', runs: [r1, r2], now: NOW })!;
    assert.ok(md);
    assert.ok(!autolink(outsideCode(md)), md);
  });

  it('notifications: [text](target) from a run name is not a link', () => {
    assert.ok(!noticeText('[click](https://evil.example)').includes(']('));
  });
});

describe('hostile run folders: a 1 MB string', () => {
  it('is clipped with an ellipsis in the tree label, tooltip, pick list, CodeLens, hover and notifications', () => {
    const r = run({ name: HUGE, notes: HUGE, tags: [HUGE], error: { message: HUGE }, config: { task: 'token-classification', training: { optimizer: HUGE } } });
    const d = describeRun(r, NOW);
    assert.equal(d.label.length, DISPLAY_MAX);
    assert.ok(d.label.endsWith('…'));
    assert.ok(d.tooltip.length < 10_000, `tooltip of ${d.tooltip.length} characters`);
    assert.ok(d.description.length <= 300);
    const item = runPickItem(r, HUGE, NOW);
    assert.ok(item.label.length <= DISPLAY_MAX && item.detail.length <= 300);
    const live = run({ name: HUGE, status: 'running', step: 1, totalSteps: 2 });
    assert.ok(configLens({ configPath: '/w/x.finetune.yaml', runs: [live], now: NOW })[0].title.length < 120);
    const md = hoverTable({ key: 'training.optimizer', configPath: '/w/x.finetune.yaml', runs: [r], now: NOW })!;
    assert.ok(md.length < 2000, `hover of ${md.length} characters`);
    assert.equal(noticeText(HUGE).length, DISPLAY_MAX);
    // a surrogate pair is never cut in half
    assert.equal(labelText('😀'.repeat(100)).slice(-2, -1).charCodeAt(0) >= 0xdc00, true);
  });
});
