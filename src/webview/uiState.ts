// The dashboard's UI state (smoothing, log scale, tab, sort orders, selected run, …), kept in the
// webview state so a reload restores it; restore() accepts only well-formed values of a saved state.

import { isMetricName, type MetricName } from '../shared/metrics';
import type { CellSel } from './confusion';
import type { SortMap } from './reports';

export const TABS = ['curves', 'confusion', 'reports', 'config'] as const;
export type Tab = (typeof TABS)[number];
export interface UiState {
  smoothing: number;
  logScale: boolean;
  tab: Tab;
  normalize: boolean;
  sorts: SortMap;
  onlyDiff: boolean;
  configOpen: boolean;
  selectedRun?: string;
  split: 'validation' | 'test';
  cell?: CellSel;
  compareMetric: MetricName;
  /** The runs shown, so the host can restore the panel after a window reload. */
  runIds?: string[];
  runDirs?: string[];
}
const DEFAULTS: UiState = {
  smoothing: 0.6,
  logScale: false,
  tab: 'curves',
  normalize: false,
  sorts: {},
  onlyDiff: true,
  configOpen: false,
  split: 'validation',
  compareMetric: 'f1',
};

export function restore(x: unknown): UiState {
  const s = { ...DEFAULTS };
  if (typeof x !== 'object' || x === null) return s;
  const o = x as Record<string, unknown>;
  if (typeof o.smoothing === 'number' && o.smoothing >= 0 && o.smoothing < 1) s.smoothing = o.smoothing;
  if (typeof o.logScale === 'boolean') s.logScale = o.logScale;
  if (TABS.includes(o.tab as Tab)) s.tab = o.tab as Tab;
  if (typeof o.normalize === 'boolean') s.normalize = o.normalize;
  if (typeof o.onlyDiff === 'boolean') s.onlyDiff = o.onlyDiff;
  if (typeof o.configOpen === 'boolean') s.configOpen = o.configOpen;
  if (typeof o.selectedRun === 'string') s.selectedRun = o.selectedRun;
  if (o.split === 'validation' || o.split === 'test') s.split = o.split;
  if (isMetricName(o.compareMetric)) s.compareMetric = o.compareMetric;
  if (Array.isArray(o.runIds) && o.runIds.every((x) => typeof x === 'string')) s.runIds = o.runIds;
  if (Array.isArray(o.runDirs) && o.runDirs.every((x) => typeof x === 'string')) s.runDirs = o.runDirs;
  const c = o.cell as Record<string, unknown> | undefined;
  if (c && typeof c.gold === 'string' && typeof c.pred === 'string') s.cell = { gold: c.gold, pred: c.pred };
  if (typeof o.sorts === 'object' && o.sorts !== null) {
    for (const [k, v] of Object.entries(o.sorts as Record<string, unknown>)) {
      const sv = v as Record<string, unknown>;
      if (sv && typeof sv.key === 'string' && (sv.dir === 'asc' || sv.dir === 'desc')) s.sorts[k] = { key: sv.key, dir: sv.dir };
    }
  }
  return s;
}
