// The commented config that "Fine-tune: New Config" writes: every key a first run needs, with
// its default and what it does, so the file doubles as documentation. With a pretrained model
// (a Hub id or a folder) the model section names it and has no from_scratch.

import * as path from 'node:path';

export type TemplateTask = 'token-classification' | 'sequence-classification';

/** A model id or path as a YAML plain scalar when it reads back as the same string, else quoted. */
export function yamlString(s: string): string {
  return /^[A-Za-z_][\w./-]*$/.test(s) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(s) ? s : JSON.stringify(s);
}

const SCRATCH_MODEL = `  # Exactly one of \`pretrained\` (a local Hugging Face folder with config.json,
  # model.safetensors and tokenizer.json, vocab.txt or vocab.json + merges.txt,
  # or a Hub id, downloaded into the Hugging Face cache) or \`from_scratch\`.
  # pretrained: ./models/bert-base-cased    # or: bert-base-cased
  from_scratch:
    layers: 2                     # transformer layers (default 4)
    hidden: 128                   # hidden size, divisible by heads (default 256)
    heads: 4                      # attention heads (default 4)
    max_positions: 128            # >= data.max_length (default 512)`;

const pretrainedModel = (id: string) => `  # A Hub id (downloaded into the Hugging Face cache on the first run, then reused)
  # or a local Hugging Face folder (config.json, model.safetensors, a tokenizer).
  pretrained: ${yamlString(id)}
  # revision: main                # a branch, tag or commit sha of a Hub id`;

export type DataFiles = Partial<Record<'train' | 'validation' | 'test', string>>;

/** What New Config fills in beyond the task and model: the data files found for it and the model's length limit. */
export interface TemplateOptions {
  /** Paths relative to the config's folder; the example paths (data/train.txt, …) where absent. */
  data?: DataFiles;
  /** The model's usable positions: max_length is set to at most this. */
  maxPositions?: number;
}

const DATA_EXT: Record<TemplateTask, RegExp> = {
  'token-classification': /\.(txt|conll|iob|bio|tsv)$/i,
  'sequence-classification': /\.(jsonl|csv)$/i,
};
const SPLIT_OF: [keyof DataFiles, RegExp][] = [
  ['train', /(^|[^a-z])train/i],
  ['validation', /(^|[^a-z])(dev|valid|validation|val)([^a-z]|$)/i],
  ['test', /(^|[^a-z])test/i],
];

/**
 * The data files a new config should name, from the workspace's files (absolute paths): files of
 * the task's formats whose names say train, dev/validation or test, taken from the one folder that
 * has a training file (the nearest to the config's folder when several do), as paths relative to
 * the config's folder. Empty when there is no training file.
 */
export function guessDataFiles(task: TemplateTask, files: string[], configDir: string): DataFiles {
  const candidates = files.filter((f) => DATA_EXT[task].test(f) && !/(^|[\\/])(node_modules|\.finetune|\.git)([\\/]|$)/.test(f));
  const trainDirs = [...new Set(candidates.filter((f) => SPLIT_OF[0][1].test(path.basename(f))).map((f) => path.dirname(f)))];
  if (!trainDirs.length) return {};
  const depth = (d: string) =>
    path
      .relative(configDir, d)
      .split(/[\\/]/)
      .filter((s) => s && s !== '.').length;
  const dir = trainDirs.sort((a, b) => depth(a) - depth(b) || a.localeCompare(b))[0];
  const out: DataFiles = {};
  for (const [split, re] of SPLIT_OF) {
    const f = candidates.filter((x) => path.dirname(x) === dir && re.test(path.basename(x)) && !Object.values(out).includes(x)).sort()[0];
    if (f) out[split] = f;
  }
  return Object.fromEntries(Object.entries(out).map(([k, f]) => [k, path.relative(configDir, f).split(path.sep).join('/')]));
}

export function newConfigText(
  task: TemplateTask,
  name = task === 'token-classification' ? 'ner' : 'textcls',
  pretrained?: string,
  o: TemplateOptions = {},
): string {
  const ner = task === 'token-classification';
  const d = o.data ?? {};
  const found = d.train !== undefined;
  const maxLength = Math.min(64, o.maxPositions ?? 64);
  const dataLine = (key: keyof DataFiles, example: string, note: string) => {
    const v = d[key] ?? (found || key !== 'train' ? undefined : example);
    const line = `  ${key}: ${v === undefined ? example : yamlString(v)}`;
    return `${v === undefined ? `  # ${line.trim()}` : line}`.padEnd(34) + `# ${note}`;
  };
  return `# Fine-tune run configuration. Run "Fine-tune: Start" (or the ▶ Start lens above) to train.
# Hover a key to see the values past runs tried and what they gave. Relative paths resolve
# against this file's folder. Omitted keys take their defaults.

name: ${name}
task: ${task}${ner ? '      # a label per token (CoNLL data)' : '   # a label per text (JSONL or CSV data)'}

model:
${pretrained === undefined ? SCRATCH_MODEL : pretrainedModel(pretrained)}
  dropout: 0.1
  peft: none                      # none | head-only | { lora: { rank: 8, alpha: 16 } } (pretrained models)

data:
${
  ner
    ? `  format: conll                   # word ... TAB tag per line, blank line between sentences
${dataLine('train', 'data/train.txt', found ? 'required (found in the workspace)' : 'required: point these at your data')}
${dataLine('validation', 'data/dev.txt', 'evaluated during training; picks the best checkpoint')}
${dataLine('test', 'data/test.txt', 'evaluated once at the end with the best checkpoint')}
  max_length: ${String(maxLength).padEnd(20)}# tokens per sequence, [CLS] and [SEP] included${maxLength < 64 ? ` (the model has ${o.maxPositions} positions)` : ''}
  overflow: window                # longer sentences are split into overlapping windows`
    : `  format: ${d.train?.toLowerCase().endsWith('.csv') ? 'csv                     # jsonl | csv' : 'jsonl                   # jsonl | csv'}
${dataLine('train', 'data/train.jsonl', found ? 'required (found in the workspace)' : 'required: point these at your data')}
${dataLine('validation', 'data/dev.jsonl', 'evaluated during training; picks the best checkpoint')}
${dataLine('test', 'data/test.jsonl', 'evaluated once at the end with the best checkpoint')}
  text_field: text
  label_field: label
  max_length: ${maxLength}${maxLength < 64 ? `                  # the model has ${o.maxPositions} positions` : ''}
  overflow: truncate`
}

training:
  epochs: 3
  batch_size: 32
  optimizer: adamw                # adamw | sgd
${pretrained === undefined ? '  lr: 1.0e-3                      # from scratch; fine-tuning a pretrained model: 2e-5..5e-5' : '  lr: 3.0e-5                      # fine-tuning; from scratch: ~1e-3'}
  weight_decay: 0.01
  warmup_ratio: 0.1               # fraction of steps that warm the learning rate up
  schedule: linear                # linear | cosine | constant
  grad_clip: 1.0                  # global gradient-norm clipping (null disables)
  # early_stopping: { metric: ${ner ? 'f1' : 'accuracy'}, patience: 2 }

evaluation:
  every: epoch                    # or a number of optimizer steps
  metric: ${ner ? 'f1                      # entity-level F1 (seqeval)' : 'accuracy'}

device: auto                      # auto | cpu | cuda
seed: 42

# A sweep queues one run per combination:
# sweep:
#   training.lr: [5.0e-4, 1.0e-3]
`;
}
