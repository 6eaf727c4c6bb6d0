// Seeded shuffling and train/validation splitting, label discovery and label checks.

import { shuffleRandom } from '../../shared/rng';
import { DataError } from './errors';

/** A shuffled copy of `items` (Fisher–Yates); the same seed gives the same order. Does not mutate. */
export function seededShuffle<T>(items: T[], seed: number): T[] {
  const out = items.slice();
  const random = shuffleRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

/**
 * Shuffles with `seed` and puts round(n × ratio) items (at least 1, at most n − 1) into
 * validation, the rest into train. Throws a RangeError when ratio is not in (0, 1) or there are
 * fewer than 2 items.
 */
export function splitBySeed<T>(items: T[], validationRatio: number, seed: number): { train: T[]; validation: T[] } {
  if (!(validationRatio > 0 && validationRatio < 1)) {
    throw new RangeError(`validation ratio must be between 0 and 1 (exclusive), got ${validationRatio}`);
  }
  if (items.length < 2) {
    throw new RangeError(`cannot split ${items.length} example${items.length === 1 ? '' : 's'} into train and validation: need at least 2`);
  }
  const n = items.length;
  const nValidation = Math.min(n - 1, Math.max(1, Math.round(n * validationRatio)));
  const shuffled = seededShuffle(items, seed);
  return { validation: shuffled.slice(0, nValidation), train: shuffled.slice(nValidation) };
}

const NER_TAG = /^([BIES])-(.+)$/;
const PREFIX_ORDER = 'BIES';

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Sorted unique labels. When every label is 'O' or a B-/I-/E-/S- tag (and at least one is a tag),
 * the NER order is used: 'O' first, then the tags grouped by entity type (types sorted; B, I, E, S
 * within a type). Labels that are all integers sort numerically; others by code unit.
 */
export function discoverLabels(labels: Iterable<string>): string[] {
  const unique = [...new Set(labels)];
  const isNer = unique.some((l) => NER_TAG.test(l)) && unique.every((l) => l === 'O' || NER_TAG.test(l));
  if (isNer) {
    const key = (l: string): [string, number] => {
      if (l === 'O') return ['', -1];
      const m = NER_TAG.exec(l)!;
      return [m[2], PREFIX_ORDER.indexOf(m[1])];
    };
    return unique.sort((a, b) => {
      const [ta, pa] = key(a);
      const [tb, pb] = key(b);
      if (a === 'O' || b === 'O') return a === 'O' ? -1 : 1;
      return compareStrings(ta, tb) || pa - pb;
    });
  }
  if (unique.length > 0 && unique.every((l) => /^-?\d+$/.test(l))) {
    return unique.sort((a, b) => Number(a) - Number(b) || compareStrings(a, b));
  }
  return unique.sort(compareStrings);
}

/** Sorted unique entity types of the B-/I-/E-/S- tags ('O' and other labels are ignored). */
export function entityTypes(tags: Iterable<string>): string[] {
  const types = new Set<string>();
  for (const tag of tags) {
    const m = NER_TAG.exec(tag);
    if (m) types.add(m[2]);
  }
  return [...types].sort(compareStrings);
}

/**
 * Throws a DataError at the first label of `other` that `known` lacks:
 * "<file>:<line>: label 'B-EVENT' never appears in the training data (known: ...)" (`why` replaces
 * "never appears in the training data").
 */
export function checkLabelsKnown(known: Set<string>, other: { label: string; file: string; line: number }[], why = 'never appears in the training data'): void {
  for (const item of other) {
    if (!known.has(item.label)) {
      const all = discoverLabels(known);
      const MAX = 30;
      const shown = all
        .slice(0, MAX)
        .map((l) => `'${l}'`)
        .join(', ');
      const more = all.length > MAX ? `, … ${all.length - MAX} more` : '';
      throw new DataError(`label '${item.label}' ${why} (known: ${all.length === 0 ? 'none' : shown + more})`, item.file, item.line);
    }
  }
}
