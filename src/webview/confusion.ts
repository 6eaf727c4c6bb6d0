// Confusion matrix as an SVG heatmap (rows: gold, columns: predicted) with a counts / row-normalized
// toggle, and the misclassified examples behind the selected cell. Cells are one tab stop (roving
// tabindex, arrow keys move, Enter/Space selects).

import type { EvalRecord, MisclassifiedExample } from '../shared/protocol';
import { clear, el, shown, shownEl, svg, svgLabel } from './dom';
import { DISPLAY_MAX, DISPLAY_MAX_LONG } from '../shared/display';
import { orderLabels } from './labels';

export interface CellSel {
  gold: string;
  pred: string;
}

export interface ConfusionCallbacks {
  select(sel: CellSel): void;
  openFile(file: string, line: number): void;
}

const basename = (p: string) => p.split(/[\\/]/).pop() ?? p;

export function renderMatrix(ev: EvalRecord, normalize: boolean, selected: CellSel | undefined, cb: ConfusionCallbacks, maxWidth: number): SVGElement {
  const { labels, matrix } = ev.confusion!;
  const order = orderLabels(labels);
  const n = order.length;
  const longest = Math.max(...labels.map((l) => Math.min(l.length, DISPLAY_MAX)), 4);
  const margin = Math.min(160, 14 + longest * 7);
  const cell = Math.max(16, Math.min(52, Math.floor((maxWidth - margin - 30) / Math.max(n, 1))));
  const top = margin + 18,
    left = margin + 22;
  const W = left + n * cell + 4,
    H = top + n * cell + 4;
  const root = svg('svg', {
    class: 'confusion',
    width: W,
    height: H,
    viewBox: `0 0 ${W} ${H}`,
    role: 'grid',
    'aria-label': `Confusion matrix, ${normalize ? 'row-normalized' : 'counts'}: rows are gold labels, columns predicted labels`,
  });
  root.append(
    svg('text', { x: left + (n * cell) / 2, y: 12, class: 'axis-title', 'text-anchor': 'middle' }, 'predicted'),
    svg('text', { transform: `translate(12 ${top + (n * cell) / 2}) rotate(-90)`, class: 'axis-title', 'text-anchor': 'middle' }, 'gold'),
  );
  const rowSum = matrix.map((r) => r.reduce((a, b) => a + b, 0));
  let maxDiag = 0,
    maxOff = 0;
  matrix.forEach((r, i) =>
    r.forEach((v, j) => {
      if (i === j) maxDiag = Math.max(maxDiag, v);
      else maxOff = Math.max(maxOff, v);
    }),
  );
  const cells: SVGElement[] = [];
  let focusIdx = 0;
  order.forEach((gi, ri) => {
    root.append(svgLabel({ x: left - 6, y: top + ri * cell + cell / 2, dy: '0.35em', 'text-anchor': 'end', class: 'label' }, labels[gi]));
    const row = svg('g', { role: 'row' });
    order.forEach((pj, ci) => {
      if (ri === 0) {
        root.append(
          svgLabel(
            {
              transform: `translate(${left + ci * cell + cell / 2} ${top - 6}) rotate(-55)`,
              class: 'label',
              'text-anchor': 'start',
            },
            labels[pj],
          ),
        );
      }
      const v = matrix[gi][pj];
      const frac = rowSum[gi] ? v / rowSum[gi] : 0;
      const diag = gi === pj;
      const intensity = v === 0 ? 0 : normalize ? Math.max(0.18, frac) : Math.max(0.18, Math.sqrt(v / ((diag ? maxDiag : maxOff) || 1)));
      const isSel = !!selected && selected.gold === labels[gi] && selected.pred === labels[pj];
      if (isSel) focusIdx = cells.length;
      const g = svg('g', {
        class: `cell ${diag ? 'diag' : 'off'}${isSel ? ' selected' : ''}`,
        role: 'gridcell',
        tabindex: -1,
        'data-gold': labels[gi],
        'data-pred': labels[pj],
        'data-value': v,
        'aria-label': `gold ${labels[gi]}, predicted ${labels[pj]}: ${v}${normalize ? ` (${(frac * 100).toFixed(1)}% of the row)` : ''}`,
        'aria-selected': isSel ? 'true' : 'false',
      });
      g.append(svg('rect', { x: left + ci * cell, y: top + ri * cell, width: cell - 1, height: cell - 1, class: 'bg' }));
      g.append(
        svg('rect', { x: left + ci * cell, y: top + ri * cell, width: cell - 1, height: cell - 1, class: 'fill', 'fill-opacity': intensity.toFixed(3) }),
      );
      const text = v === 0 ? '' : normalize ? (frac < 0.005 ? '<.01' : frac.toFixed(2)) : String(v); // zeros stay blank
      if (text && cell >= 20 && text.length * 6.6 <= cell - 4) {
        g.append(svg('text', { x: left + ci * cell + cell / 2, y: top + ri * cell + cell / 2, dy: '0.35em', 'text-anchor': 'middle', class: 'value' }, text));
      }
      g.addEventListener('click', () => cb.select({ gold: labels[gi], pred: labels[pj] }));
      row.append(g);
      cells.push(g);
    });
    root.append(row);
  });
  cells[focusIdx]?.setAttribute('tabindex', '0');
  root.addEventListener('keydown', (e: KeyboardEvent) => {
    const cur = cells.indexOf(e.target as SVGElement);
    if (cur < 0) return;
    let next = cur;
    switch (e.key) {
      case 'ArrowRight':
        next = cur % n < n - 1 ? cur + 1 : cur;
        break;
      case 'ArrowLeft':
        next = cur % n > 0 ? cur - 1 : cur;
        break;
      case 'ArrowDown':
        next = cur + n < cells.length ? cur + n : cur;
        break;
      case 'ArrowUp':
        next = cur - n >= 0 ? cur - n : cur;
        break;
      case 'Home':
        next = cur - (cur % n);
        break;
      case 'End':
        next = cur - (cur % n) + n - 1;
        break;
      case 'Enter':
      case ' ':
        (cells[cur] as unknown as { dispatchEvent(e: Event): void }).dispatchEvent(new MouseEvent('click'));
        e.preventDefault();
        return;
      default:
        return;
    }
    e.preventDefault();
    cells[cur].setAttribute('tabindex', '-1');
    cells[next].setAttribute('tabindex', '0');
    (cells[next] as unknown as HTMLElement).focus();
  });
  return root;
}

/** The examples behind a cell: sentence with the token highlighted, gold and predicted labels, a
 *  link that opens the data file at the example's line. */
export function renderExamples(
  list: HTMLElement,
  sel: CellSel,
  examples: MisclassifiedExample[] | undefined,
  count: number,
  unit: 'token' | 'example',
  cb: ConfusionCallbacks,
): void {
  clear(list);
  list.append(
    el('h3', {}, `gold ${shown(sel.gold)} → predicted ${shown(sel.pred)}`, el('span', { class: 'muted' }, ` (${count} ${unit}${count === 1 ? '' : 's'})`)),
  );
  if (sel.gold === sel.pred) {
    list.append(el('p', { class: 'muted' }, 'Correct predictions: nothing to list.'));
    return;
  }
  if (!examples) {
    list.append(el('p', { class: 'muted', role: 'status' }, 'Loading misclassified examples…'));
    return;
  }
  const hits = examples.filter((e) => e.gold === sel.gold && e.pred === sel.pred);
  if (!hits.length) {
    list.append(el('p', { class: 'muted' }, 'No recorded examples for this cell (the run keeps a sample of its errors).'));
    return;
  }
  const ul = el('ul', { class: 'examples', 'aria-label': `Misclassified examples, gold ${shown(sel.gold)}, predicted ${shown(sel.pred)}` });
  for (const ex of hits.slice(0, 200)) {
    const sentence = el('span', { class: 'sentence' });
    if (ex.words) {
      ex.words.forEach((w, i) => {
        if (i) sentence.append(document.createTextNode(' '));
        sentence.append(
          i === ex.position ? el('mark', { title: `gold ${shown(ex.gold)}, predicted ${shown(ex.pred)}` }, shown(w)) : document.createTextNode(shown(w)),
        );
      });
    } else {
      sentence.append(document.createTextNode(shown(ex.text ?? '', DISPLAY_MAX_LONG)));
    }
    const where = `${shown(basename(ex.file))}:${ex.line}`;
    const open = el('vscode-link', { href: '#', class: 'open-file', 'aria-label': `Open ${where}`, 'data-file': ex.file, 'data-line': ex.line }, where);
    open.addEventListener('click', (e) => {
      e.preventDefault();
      cb.openFile(ex.file, ex.line);
    });
    ul.append(
      el(
        'li',
        {},
        sentence,
        el('span', { class: 'tags' }, shownEl('span', { class: 'tag gold' }, ex.gold), ' → ', shownEl('span', { class: 'tag pred' }, ex.pred)),
        open,
      ),
    );
  }
  list.append(ul);
  if (hits.length > 200) list.append(el('p', { class: 'muted' }, `…and ${hits.length - 200} more`));
}
