// The label set of a run and its order (the classifier's outputs): the config's `labels:` when
// given; else a pretrained classifier's labels (its id2label) when they cover the training data's,
// as Hugging Face's run_ner.py reorders to the model's label2id; else the names the dataset declares
// (a Parquet file's ClassLabel names, in their order) when they cover every split's labels; else the
// training data's labels, sorted (discoverLabels). Every label of every split must be in the set: an error names the
// first one that is not, with its file and line, before anything trains.

import { checkLabelsKnown, discoverLabels } from './split';

export interface LabelUse {
  label: string;
  file: string;
  line: number;
}

export interface LabelChoice {
  labels: string[];
  /** Where the labels and their order come from, for the log. */
  source: 'run' | 'config' | 'checkpoint' | 'dataset' | 'data';
}

export function chooseLabels(o: {
  train: LabelUse[];
  /** Validation and test labels. */
  others: LabelUse[];
  /** `labels:` of the config. */
  configured?: string[];
  /** A run's own labels (resuming it, evaluating it): used as they are. */
  run?: string[];
  /** The pretrained folder's classifier: its id2label and its number of rows (absent: no classifier). */
  checkpoint?: { labels?: string[]; rows?: number };
  /** The label names the training file declares (a Parquet ClassLabel), in their order. */
  declared?: string[];
}): LabelChoice {
  const all = [...o.train, ...o.others];
  if (o.run) {
    checkLabelsKnown(new Set(o.run), all, "is not one of the run's labels");
    return { labels: o.run, source: 'run' };
  }
  if (o.configured) {
    checkLabelsKnown(new Set(o.configured), all, 'is not in the labels of the config');
    return { labels: o.configured, source: 'config' };
  }
  const fromData = discoverLabels(o.train.map((u) => u.label));
  const ck = o.checkpoint;
  if (ck?.rows !== undefined && ck.labels?.length === ck.rows && new Set(ck.labels).size === ck.rows) {
    const names = new Set(ck.labels);
    if (fromData.every((l) => names.has(l))) {
      checkLabelsKnown(names, o.others, "is neither in the training data nor in the checkpoint's labels");
      return { labels: ck.labels, source: 'checkpoint' };
    }
  }
  if (o.declared && new Set(o.declared).size === o.declared.length) {
    const names = new Set(o.declared);
    if (all.every((u) => names.has(u.label))) return { labels: o.declared, source: 'dataset' };
  }
  checkLabelsKnown(new Set(fromData), o.others);
  return { labels: fromData, source: 'data' };
}
