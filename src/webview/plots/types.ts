// What the cross-run plots (parallel coordinates, metric vs parameter scatter) draw: one point per
// run, numeric or categorical axes. Built by the experiments table from its selected or filtered
// rows; drawn on a canvas with the theme's colours.

export interface PlotAxis {
  /** A dotted parameter key (`training.lr`) or a metric key (`best_f1`). */
  key: string;
  label: string;
  kind: 'number' | 'log' | 'category';
}

export interface PlotPoint {
  id: string;
  label: string;
  values: Record<string, string | number | boolean | null>;
}

export interface PlotData {
  axes: PlotAxis[];
  /** The axis lines are coloured by (usually the last: the metric). */
  colorBy: string;
  points: PlotPoint[];
  /** Highlighted run ids (selected rows). */
  highlight?: string[];
}
