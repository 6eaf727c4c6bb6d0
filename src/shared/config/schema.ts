// Long file: one declarative table of every config key; splitting it would scatter the keys it documents.
// The run configuration's JSON Schema (draft-07): the single source of truth for validation
// (messages.ts compiles it with Ajv), for the defaults filled into the resolved config (defaults.ts
// walks it), for the keys `--set` and sweeps accept, for the editor's hovers, and for the editor's
// own JSON/YAML support (scripts/build.mjs writes it to dist/finetune.schema.json, which the
// extension contributes for `*.finetune.yaml|yml|json`). It imports only the metric-name table
// (../metrics, which imports nothing): scripts/build.mjs bundles and evaluates it alone.
//
// Adding a key: its entry here (with `description` and, when it has one, `default`), an optional
// cross-field check in semantic.ts, and the field in ResolvedConfig (types.ts) for code that reads it.
//
// Keys are snake_case as users write them. `additionalProperties: false` everywhere, so typos are
// errors. Every property has a `description`; every property with a fixed default has `default`.
// Cross-field rules (format vs task, pretrained vs from_scratch, hidden % heads, metrics per task,
// sweep keys, ...) are semantic checks in semantic.ts and sweep.ts, not schema keywords, so their
// messages can name both sides.

import { METRICS, METRIC_NAMES, TASK_METRICS } from '../metrics';

/** The subset of JSON Schema draft-07 this schema uses (plus VS Code's annotation keywords). */
export interface JsonSchema {
  $schema?: string;
  $id?: string;
  title?: string;
  description: string;
  markdownDescription?: string;
  type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null' | Array<'string' | 'number' | 'integer' | 'null'>;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  required?: string[];
  items?: JsonSchema | { type: string; description?: string; minLength?: number };
  minItems?: number;
  minProperties?: number;
  uniqueItems?: boolean;
  enum?: unknown[];
  enumDescriptions?: string[];
  const?: unknown;
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  pattern?: string;
  patternErrorMessage?: string;
  default?: unknown;
  examples?: unknown[];
}

/** Metrics each task's evaluation produces (what `evaluation.metric` and `early_stopping.metric` may name). */
export { TASK_METRICS };

const ALL_METRICS: string[] = [...METRIC_NAMES];
const METRIC_DESCRIPTIONS = METRIC_NAMES.map((m) => METRICS[m].description);

const dropout = (what: string, dflt: number): JsonSchema => ({
  description: `${what} probability, in [0, 1).`,
  type: 'number',
  minimum: 0,
  exclusiveMaximum: 1,
  default: dflt,
});

/** A swept key's values: a list (the grid's values, or a choice), or a distribution. */
function sweptValue(): JsonSchema {
  const pair = (what: string, items: JsonSchema): JsonSchema => ({ description: `[low, high]: ${what}.`, type: 'array', items });
  return {
    description: 'A list of values to try, or a distribution: {choice: [...]}, {uniform: [low, high]}, {loguniform: [low, high]} or {int: [low, high]}.',
    anyOf: [
      { description: 'Values to try for this key.', type: 'array', minItems: 1 },
      {
        description: 'A distribution to draw this key from: one of choice, uniform, loguniform, int.',
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: {
          choice: { description: 'One of these values.', type: 'array', minItems: 1 },
          uniform: pair('uniform between low and high', { description: 'A bound.', type: 'number' }),
          loguniform: pair('uniform in log space (both > 0), for learning rates and weight decay', {
            description: 'A bound (> 0).',
            type: 'number',
            exclusiveMinimum: 0,
          }),
          int: pair('an integer from low to high, both included', { description: 'A bound.', type: 'integer' }),
          log: { description: 'With int: draw in log space.', type: 'boolean' },
        },
      },
    ],
  };
}

const pathString = (description: string): JsonSchema => ({ description, type: 'string', minLength: 1 });

export const CONFIG_SCHEMA: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Fine-tune run configuration',
  description:
    'A Fine-tune run: the task, the model (a local Hugging Face folder or a BERT-style encoder trained from scratch), the data, training and evaluation settings, and an optional hyperparameter sweep. Relative paths resolve against the folder of this file.',
  type: 'object',
  additionalProperties: false,
  required: ['task', 'model', 'data'],
  properties: {
    name: {
      description:
        'Name of the run, shown in the sidebar and run history. Default: the config file name without `.finetune.yaml`, `.finetune.yml` or `.finetune.json`.',
      type: 'string',
      minLength: 1,
      pattern: '^[^/\\\\]+$',
      patternErrorMessage: 'must not contain / or \\',
    },
    task: {
      description:
        'What the model learns: a label per token (named-entity recognition, CoNLL data) or a label per text (text classification, JSONL or CSV data).',
      type: 'string',
      enum: ['token-classification', 'sequence-classification'],
      enumDescriptions: [
        'One label per token (NER, tagging); data.format must be conll.',
        'One label per text (topic, sentiment); data.format must be jsonl or csv.',
      ],
    },
    model: {
      description:
        'The encoder: exactly one of `pretrained` (a local Hugging Face folder or a Hub id) or `from_scratch` (a new BERT-style encoder with a vocabulary built from the training data).',
      type: 'object',
      additionalProperties: false,
      properties: {
        pretrained: pathString(
          "A local Hugging Face model folder (BERT family) with config.json, model.safetensors and a tokenizer (tokenizer.json, vocab.txt, or vocab.json + merges.txt), relative to this file; or a Hugging Face Hub id ('bert-base-cased', 'dslim/bert-base-NER'), downloaded into the Hugging Face cache (HF_HUB_CACHE, HF_HOME; HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE are honoured). Exclusive with from_scratch.",
        ),
        revision: {
          description: "The Hub revision of a pretrained Hub id: a branch, a tag or a commit sha. Default: 'main'.",
          type: 'string',
          minLength: 1,
        },
        from_scratch: {
          description:
            'Train a new BERT-style encoder from random weights, with a WordPiece-like vocabulary built from the training data. Exclusive with pretrained.',
          type: 'object',
          additionalProperties: false,
          properties: {
            layers: { description: 'Number of transformer layers.', type: 'integer', minimum: 1, default: 4 },
            hidden: { description: 'Hidden size (embedding width); must be divisible by heads.', type: 'integer', minimum: 8, default: 256 },
            heads: { description: 'Attention heads per layer; hidden must be divisible by it.', type: 'integer', minimum: 1, default: 4 },
            intermediate: { description: 'Feed-forward inner size. Default: 4 × hidden.', type: 'integer', minimum: 1 },
            max_positions: {
              description: 'Number of position embeddings: the longest sequence the model can read (data.max_length must not exceed it).',
              type: 'integer',
              minimum: 8,
              maximum: 8192,
              default: 512,
            },
            min_frequency: {
              description: 'Words seen fewer times than this in the training data are left out of the vocabulary (1: every word of the training data).',
              type: 'integer',
              minimum: 1,
              default: 1,
            },
            lowercase: { description: 'Lowercase text before building the vocabulary and tokenizing.', type: 'boolean', default: false },
          },
        },
        dropout: dropout('Hidden-layer dropout', 0.1),
        attention_dropout: dropout('Attention-probability dropout', 0.1),
        peft: {
          description:
            "Which weights train: 'none' (all of them), 'head-only' (only the classification head; the encoder is frozen) or `{ lora: {...} }` (low-rank adapters on the attention projections plus the head).",
          default: 'none',
          anyOf: [
            {
              description: "'none': full fine-tuning; 'head-only': train only the classification head.",
              type: 'string',
              enum: ['none', 'head-only'],
              enumDescriptions: ['Train all weights.', 'Freeze the encoder; train only the classification head.'],
            },
            {
              description: 'Parameter-efficient fine-tuning with LoRA adapters.',
              type: 'object',
              additionalProperties: false,
              required: ['lora'],
              properties: {
                lora: {
                  description: 'Low-rank adapters (W + alpha/rank · B·A) on the named linear layers; the original weights stay frozen.',
                  type: 'object',
                  additionalProperties: false,
                  properties: {
                    rank: { description: 'Rank r of the adapter matrices.', type: 'integer', minimum: 1, default: 8 },
                    alpha: {
                      description: 'Scaling numerator: the adapter output is multiplied by alpha / rank.',
                      type: 'number',
                      exclusiveMinimum: 0,
                      default: 16,
                    },
                    dropout: dropout('Dropout on the adapter input', 0),
                    targets: {
                      description:
                        "Suffixes of the linear layers that get adapters (Hugging Face names, e.g. 'query', 'key', 'value', 'attention.output.dense').",
                      type: 'array',
                      items: { type: 'string', minLength: 1, description: 'A linear-layer name suffix.' },
                      minItems: 1,
                      default: ['query', 'value'],
                    },
                  },
                  default: {},
                },
              },
            },
          ],
        },
      },
    },
    data: {
      description: 'Training, validation and test data. Relative paths resolve against the folder of this file.',
      type: 'object',
      additionalProperties: false,
      required: ['format', 'train'],
      properties: {
        format: {
          description:
            "File format: 'conll' (token classification: one token per line with its tag, blank line between sentences), 'jsonl' or 'csv' (sequence classification: a text and a label per record), 'parquet' (either task: a row per sentence or text, as the Hugging Face datasets library writes it).",
          type: 'string',
          enum: ['conll', 'jsonl', 'csv', 'parquet'],
          enumDescriptions: [
            'Token per line, tag in tag_column, blank lines between sentences.',
            'One JSON object per line with text_field and label_field.',
            'Comma- (or delimiter-) separated values with a header row naming text_field and label_field.',
            "Parquet, a row per example: tokens_field and tags_field (token classification) or text_field and label_field (sequence classification); integer labels are named by the file's ClassLabel metadata or by labels:.",
          ],
        },
        hub: {
          description:
            "A Hugging Face Hub dataset id (e.g. 'conll2003', 'org/name'): read its Parquet conversion (revision refs/convert/parquet, files <hub_config>/<split>/*.parquet) into the Hugging Face cache; train, validation and test are then split names. Needs format: parquet.",
          type: 'string',
          minLength: 1,
        },
        hub_config: { description: "With hub: the dataset's config (subset).", type: 'string', minLength: 1, default: 'default' },
        hub_revision: {
          description: 'With hub: the revision of the Parquet conversion (a commit sha of refs/convert/parquet pins one).',
          type: 'string',
          minLength: 1,
          default: 'refs/convert/parquet',
        },
        train: pathString('Training data file (with hub: the split name, e.g. train).'),
        validation: pathString('Validation data file, evaluated during training to pick the best checkpoint (with hub: the split name).'),
        test: pathString('Test data file, evaluated once with the best checkpoint after training (with hub: the split name).'),
        validation_split: {
          description: 'Fraction of the training data held out for validation when no validation file is given, in (0, 1). Default: none.',
          type: 'number',
          exclusiveMinimum: 0,
          exclusiveMaximum: 1,
        },
        tag_column: { description: 'CoNLL: the column holding the tag (0-based; negative counts from the end, -1 = last).', type: 'integer', default: -1 },
        scheme: {
          description: "CoNLL: the tagging scheme; 'auto' detects it from the training tags.",
          type: 'string',
          enum: ['auto', 'IOB1', 'IOB2', 'BIOES'],
          default: 'auto',
        },
        text_field: { description: 'JSONL/CSV/Parquet: the field (column) holding the text.', type: 'string', minLength: 1, default: 'text' },
        label_field: {
          description: 'JSONL/CSV/Parquet: the field (column) holding the label (Parquet: a string, or an integer named by a ClassLabel or labels:).',
          type: 'string',
          minLength: 1,
          default: 'label',
        },
        tokens_field: {
          description: 'Parquet, token classification: the column holding the words (a list of strings).',
          type: 'string',
          minLength: 1,
          default: 'tokens',
        },
        tags_field: {
          description: 'Parquet, token classification: the column holding the tags (a list of strings, or of integers named by a ClassLabel or labels:).',
          type: 'string',
          minLength: 1,
          default: 'ner_tags',
        },
        delimiter: { description: 'CSV: the field delimiter.', type: 'string', minLength: 1, default: ',' },
        max_length: {
          description: 'Maximum sequence length in tokens, special tokens included (8 to 4096).',
          type: 'integer',
          minimum: 8,
          maximum: 4096,
          default: 128,
        },
        overflow: {
          description:
            "What happens to inputs longer than max_length, in training, evaluation, `finetune eval` and `finetune predict` alike: 'window' splits them into windows overlapping by `stride` tokens (token classification: each word is predicted in the window where it has the most context; sequence classification: every window is trained with the text's label and a text's prediction is the mean of its windows' logits); 'truncate' keeps the first max_length tokens (token classification: the words left out count as 'O'). Both are counted in the run's log.",
          type: 'string',
          enum: ['window', 'truncate'],
          default: 'window',
        },
        stride: {
          description:
            "Tokens of overlap between consecutive windows (overflow: 'window'); must be less than max_length - 2. Default 32, or (max_length - 2) / 2 when that is smaller.",
          type: 'integer',
          minimum: 0,
          default: 32,
        },
      },
    },
    labels: {
      description:
        "The label set and its order: the classifier's outputs, in this order (token classification: the tags, e.g. 'O', 'B-PER'; sequence classification: the class names). Every label in the data must be listed; a listed label the data lacks still gets an output. A pretrained classifier's rows are mapped to these names through its config.json id2label. Default: the checkpoint's labels when they cover the data's, else the training data's labels, sorted.",
      type: 'array',
      items: { type: 'string', minLength: 1, description: 'A label name.' },
      minItems: 1,
    },
    training: {
      description: 'Optimization settings.',
      type: 'object',
      additionalProperties: false,
      properties: {
        epochs: { description: 'Passes over the training data.', type: 'integer', minimum: 1, default: 3 },
        max_steps: {
          description: 'Total optimizer steps; when set it replaces epochs (training runs as many epochs as that takes, more or fewer). Default: none.',
          type: 'integer',
          minimum: 1,
        },
        batch_size: {
          description:
            "Examples per forward/backward pass (at most 65536; the batch of one ONNX Runtime call must also fit in a quarter of the machine's memory).",
          type: 'integer',
          minimum: 1,
          maximum: 65536,
          default: 16,
        },
        gradient_accumulation: {
          description:
            'Micro-batches of batch_size per optimizer step; their losses and gradients are averaged (micro-batches without any labelled example, at the end of an epoch, are left out), so the effective batch is batch_size × gradient_accumulation (at most 65536; the batch of one ONNX Runtime call must also fit in a quarter of the memory of the machine).',
          type: 'integer',
          minimum: 1,
          maximum: 65536,
          default: 1,
        },
        gradient_checkpointing: {
          description:
            'Recompute each encoder layer in the backward pass from its input instead of keeping its activations from the forward pass (activation recomputation): the same gradients and losses for about a third more computation, and activation memory of about one layer instead of all of them. For large models or batches that do not fit in memory otherwise (docs/benchmarks.md, "Memory at BERT-base").',
          type: 'boolean',
          default: false,
        },
        mixed_precision: {
          description:
            "Mixed precision on CUDA: 'fp16' runs the matrix products (and GELU and dropout after them) in float16 from float32 master weights, with dynamic loss scaling as torch.amp.GradScaler (a step whose gradients overflow is skipped and the scale halved); 'bf16' runs them in bfloat16, without loss scaling. LayerNorm, softmax, the loss, the optimizer and evaluation stay float32. On the CPU the run warns and trains in float32 (ONNX Runtime's CPU kernels are float32). Default: no.",
          type: 'string',
          enum: ['no', 'fp16', 'bf16'],
        },
        optimizer: {
          description: "Optimizer: 'adamw' (decoupled weight decay) or 'sgd' (with momentum).",
          type: 'string',
          enum: ['adamw', 'sgd'],
          default: 'adamw',
        },
        lr: {
          description: 'Peak learning rate (at least 1.2e-38, the smallest normal float32: smaller is 0 in the float32 update).',
          type: 'number',
          exclusiveMinimum: 0,
          default: 5e-5,
        },
        weight_decay: {
          description: 'Weight decay (decoupled for adamw, L2 for sgd); not applied to parameters matching no_decay.',
          type: 'number',
          minimum: 0,
          default: 0.01,
        },
        adam_beta1: {
          description: 'AdamW: exponential decay rate of the first moment, in [0, 1).',
          type: 'number',
          minimum: 0,
          exclusiveMaximum: 1,
          default: 0.9,
        },
        adam_beta2: {
          description: 'AdamW: exponential decay rate of the second moment, in [0, 1).',
          type: 'number',
          minimum: 0,
          exclusiveMaximum: 1,
          default: 0.999,
        },
        adam_eps: {
          description:
            'AdamW: term added to the denominator for numerical stability (at least 1.2e-38, the smallest normal float32: the update runs in float32).',
          type: 'number',
          exclusiveMinimum: 0,
          default: 1e-8,
        },
        momentum: { description: 'SGD momentum, in [0, 1) (sgd only).', type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.9 },
        no_decay: {
          description: 'Parameter-name suffixes excluded from weight decay.',
          type: 'array',
          items: { type: 'string', minLength: 1, description: 'A parameter-name suffix.' },
          default: ['bias', 'LayerNorm.weight'],
        },
        warmup_ratio: {
          description: 'Fraction of the total optimizer steps spent warming the learning rate up linearly from 0, in [0, 1). Exclusive with warmup_steps.',
          type: 'number',
          minimum: 0,
          exclusiveMaximum: 1,
          default: 0,
        },
        warmup_steps: {
          description: 'Optimizer steps spent warming the learning rate up linearly from 0. Exclusive with warmup_ratio. Default: none.',
          type: 'integer',
          minimum: 0,
        },
        schedule: {
          description: 'Learning-rate schedule after warmup.',
          type: 'string',
          enum: ['linear', 'cosine', 'constant'],
          enumDescriptions: ['Linear decay to 0 at the last step.', 'Cosine decay to 0 at the last step.', 'Constant learning rate.'],
          default: 'linear',
        },
        shuffle: {
          description:
            'Shuffle the training examples each epoch (seeded) and batch examples of similar length together. false: file order, batches in order, no length grouping (the last batch of an epoch may be smaller), for step-by-step comparison with another framework.',
          type: 'boolean',
          default: true,
        },
        logging_steps: {
          description:
            "Write a train record (the run's metrics file, the train event, TensorBoard) every this many optimizer steps, as the Hugging Face Trainer's logging_steps: its loss is the mean over the steps since the previous record, its lr and grad norm those of its last step. 1: every step's loss. The last step of a run is always recorded.",
          type: 'integer',
          minimum: 1,
          default: 1,
        },
        grad_clip: {
          description: 'Clip the global gradient norm to this value; null disables clipping.',
          type: ['number', 'null'],
          exclusiveMinimum: 0,
          default: 1.0,
        },
        memory_check: {
          description:
            "Before training allocates anything, estimate the run's peak memory (weights, gradients, optimizer state, activations for batch × length × layers) and compare it with the memory available: 'error' refuses a run that will not fit, with the estimate; 'warn' logs the estimate and runs anyway (the CLI's --force); 'off' skips the check. Default: error.",
          type: 'string',
          enum: ['error', 'warn', 'off'],
        },
        steps_per_run: {
          description:
            "Optimizer steps per ONNX Runtime call (a K-step Loop graph), or 'auto': start at 4 (at 1 for models of 50M trained parameters and more, whose steps take seconds) and after every call set K to the steps done per second (1 to 64), so that each call takes about a second. A call never runs past an evaluation, the end of an epoch or the last step, and holds steps of one sequence length only, so it can be shorter than K. K does not change what is logged: see logging_steps.",
          default: 'auto',
          anyOf: [
            { description: 'Adapt K to the measured speed: about one call per second.', type: 'string', const: 'auto' },
            { description: 'A fixed number of steps per call.', type: 'integer', minimum: 1 },
          ],
        },
        early_stopping: {
          description:
            'Stop when `metric` has not improved by more than `min_delta` for `patience` evaluations (the best checkpoint is still chosen by evaluation.metric). Needs validation data (data.validation or data.validation_split). Default: off.',
          type: 'object',
          additionalProperties: false,
          properties: {
            metric: {
              description:
                'The validation metric early stopping watches (one the task produces); it may differ from evaluation.metric, which picks the best checkpoint.',
              type: 'string',
              enum: ALL_METRICS,
              enumDescriptions: METRIC_DESCRIPTIONS,
              default: 'f1',
            },
            mode: { description: "'max': higher is better; 'min': lower is better (e.g. loss).", type: 'string', enum: ['max', 'min'], default: 'max' },
            patience: { description: 'Evaluations without improvement before stopping.', type: 'integer', minimum: 1, default: 2 },
            min_delta: { description: 'Smallest change that counts as an improvement.', type: 'number', minimum: 0, default: 0 },
          },
        },
      },
      default: {},
    },
    evaluation: {
      description: 'When and how the validation data is evaluated.',
      type: 'object',
      additionalProperties: false,
      properties: {
        every: {
          description: "Evaluate after every epoch ('epoch') or every N optimizer steps.",
          default: 'epoch',
          anyOf: [
            { description: 'Evaluate at the end of every epoch.', type: 'string', const: 'epoch' },
            { description: 'Evaluate every N optimizer steps.', type: 'integer', minimum: 1 },
          ],
        },
        metric: {
          description: 'The metric that picks the best checkpoint (one the task produces).',
          type: 'string',
          enum: ALL_METRICS,
          enumDescriptions: METRIC_DESCRIPTIONS,
          default: 'f1',
        },
        mode: {
          description:
            "seqeval mode for entity scores (token classification): 'default' (conlleval-compatible, lenient about broken I- sequences) or 'strict' (entities must follow the scheme exactly).",
          type: 'string',
          enum: ['default', 'strict'],
          default: 'default',
        },
        max_misclassified: { description: 'Most misclassified examples kept per evaluation for the error view.', type: 'integer', minimum: 0, default: 200 },
      },
      default: {},
    },
    device: {
      description: "Where training runs: 'auto' (CUDA when available, otherwise CPU), 'cpu' or 'cuda'.",
      type: 'string',
      enum: ['auto', 'cpu', 'cuda'],
      default: 'auto',
    },
    threads: {
      description: "CPU threads for ONNX Runtime (0: all cores; at most the machine's cores).",
      type: 'integer',
      minimum: 0,
      maximum: 4096,
      default: 0,
    },
    seed: { description: 'Random seed (initialization, shuffling, dropout, validation split).', type: 'integer', minimum: 0, maximum: 4294967295, default: 42 },
    sweep: {
      description:
        'Hyperparameter sweep (see docs/sweeps.md): the swept config keys (dotted, e.g. "training.lr"), each a list of values or a distribution, beside the settings `method`, `budget`, `metric`, `mode`, `seed`, `early_termination`, `concurrency`, `executor` and `slurm`. `finetune sweep` (and Start in VS Code) runs it, locally or on Slurm: a grid (the default method) runs every combination, random and TPE draw `budget` trials.',
      type: 'object',
      properties: {
        method: {
          description:
            "How trials are chosen: 'grid' (every combination of the lists), 'random' (independent draws) or 'tpe' (Tree-structured Parzen Estimator, as Optuna's TPESampler).",
          type: 'string',
          enum: ['grid', 'random', 'tpe'],
          enumDescriptions: [
            'Every combination of the values, first key outermost.',
            'Independent draws from each distribution.',
            'Model-based: after 10 random trials, draws where good trials were.',
          ],
          default: 'grid',
        },
        budget: { description: 'How many trials to run (random and tpe need it; a grid runs at most this many combinations).', type: 'integer', minimum: 1 },
        concurrency: {
          description:
            'How many trials run at once on this machine (default 1; `finetune sweep --concurrency N` and the finetune.concurrency setting override it). A TPE trial drawn while others run learns only from the finished ones.',
          type: 'integer',
          minimum: 1,
          maximum: 64,
          default: 1,
        },
        metric: {
          description: 'The validation metric a trial is judged by (default: evaluation.metric).',
          type: 'string',
          enum: ALL_METRICS,
          enumDescriptions: METRIC_DESCRIPTIONS,
        },
        mode: {
          description: "Whether a higher ('max') or lower ('min') metric is better (default: the metric's own direction).",
          type: 'string',
          enum: ['max', 'min'],
        },
        seed: {
          description: "The sampler's seed (an integer; default: the config's seed). A list or a distribution here sweeps the config's `seed` instead.",
          anyOf: [{ description: "The sampler's seed.", type: 'integer', minimum: 0, maximum: 4294967295 }, ...sweptValue().anyOf!],
        },
        early_termination: {
          description:
            "Stop trials that look bad from their validation records: `{type: asha, min_steps, reduction_factor}` or `{type: median, warmup_steps, startup_trials}`. A stopped trial is marked 'pruned' and keeps its checkpoint.",
          anyOf: [
            {
              description: "Asynchronous successive halving (as Optuna's SuccessiveHalvingPruner).",
              type: 'object',
              additionalProperties: false,
              required: ['type', 'min_steps'],
              properties: {
                type: { description: 'ASHA.', const: 'asha' },
                min_steps: {
                  description: 'Steps of the first rung: a trial is first compared at its first evaluation at or after this step.',
                  type: 'integer',
                  minimum: 1,
                },
                reduction_factor: {
                  description: 'Rungs are min_steps × reduction_factor^k steps; the top 1/reduction_factor of a rung go on.',
                  type: 'integer',
                  minimum: 2,
                  default: 4,
                },
                min_early_stopping_rate: { description: 'Skip this many rungs before the first comparison.', type: 'integer', minimum: 0, default: 0 },
                bootstrap_count: { description: 'Trials a rung needs before any is stopped there.', type: 'integer', minimum: 0, default: 0 },
              },
            },
            {
              description:
                "Median stopping (as Optuna's MedianPruner): stop a trial whose best value so far is worse than the median of completed trials at the same step.",
              type: 'object',
              additionalProperties: false,
              required: ['type'],
              properties: {
                type: { description: 'Median stopping.', const: 'median' },
                startup_trials: { description: 'Completed trials needed before any trial is stopped.', type: 'integer', minimum: 0, default: 5 },
                warmup_steps: { description: 'No trial is stopped before this step.', type: 'integer', minimum: 0, default: 0 },
                interval_steps: { description: 'Check at most once per this many steps.', type: 'integer', minimum: 1, default: 1 },
                min_trials: { description: 'Completed trials with a value at the step needed to compare.', type: 'integer', minimum: 1, default: 1 },
              },
            },
          ],
        },
        executor: {
          description:
            "Where `finetune sweep` runs the trials: 'local' (child processes on this machine) or 'slurm' (one `sbatch` job per trial, as `sweep.slurm` says; see docs/cluster.md). `--executor` on the command line overrides it.",
          type: 'string',
          enum: ['local', 'slurm'],
          enumDescriptions: [
            'Trials run on this machine, one after another.',
            'Each trial is a requeueable Slurm batch job on the cluster (run folders on its shared filesystem).',
          ],
          default: 'local',
        },
        slurm: {
          description:
            'The Slurm job of each trial (with `executor: slurm`; docs/cluster.md). Unset keys leave the choice to the cluster (its default partition, time limit and memory).',
          type: 'object',
          additionalProperties: false,
          properties: {
            partition: {
              description: "The partition (sbatch --partition); default: the cluster's default partition.",
              type: 'string',
              pattern: '^[A-Za-z0-9_.,-]+$',
              patternErrorMessage: 'must be a partition name (letters, digits, _ . , -)',
            },
            time: {
              description:
                "The time limit of each job (sbatch --time): minutes, MM:SS, HH:MM:SS, D-HH or D-HH:MM:SS; default: the partition's. At the limit the trainer gets SIGTERM and checkpoints (the trial is then stopped; `finetune sweep --resume` continues it).",
              type: 'string',
              pattern: '^(\\d+-)?\\d+(:\\d+){0,2}$',
              patternErrorMessage: 'must be a Slurm time: minutes, MM:SS, HH:MM:SS, D-HH or D-HH:MM:SS (e.g. "2:00:00")',
            },
            cpus: {
              description: 'CPUs per trial (sbatch --cpus-per-task); the trainer uses as many threads unless the config sets `threads`.',
              type: 'integer',
              minimum: 1,
              maximum: 4096,
              default: 4,
            },
            mem: {
              description: 'Memory per trial (sbatch --mem), e.g. "16G"; default: the cluster\'s.',
              type: 'string',
              pattern: '^\\d+[KMGT]?$',
              patternErrorMessage: 'must be a size with an optional unit K, M, G or T (e.g. "16G")',
            },
            gpus: { description: 'GPUs per trial (sbatch --gpus); 0: none asked for.', type: 'integer', minimum: 0, maximum: 64, default: 0 },
            parallel: { description: 'How many trials are queued or running at once.', type: 'integer', minimum: 1, maximum: 1000, default: 4 },
            poll_seconds: {
              description: 'How often the sweep asks Slurm (squeue/scontrol) how its jobs are.',
              type: 'number',
              minimum: 0.2,
              maximum: 600,
              default: 5,
            },
            extra: {
              description:
                'More sbatch options, one per item, written as `#SBATCH` lines into each job script (e.g. "--account=myproject", "--qos=normal", "--constraint=a100").',
              type: 'array',
              items: {
                type: 'string',
                pattern: '^(#SBATCH\\s+)?--?[A-Za-z][^\\n\\r]*$',
                patternErrorMessage: 'must be one sbatch option on one line, starting with - or -- (e.g. "--account=myproject")',
              },
              default: [],
            },
            setup: {
              description: 'Shell lines each job runs before the trainer (e.g. "module load nodejs/20"); a failing line fails the job.',
              type: 'array',
              items: { type: 'string', pattern: '^[^\\n\\r]*$', patternErrorMessage: 'must be one line' },
              default: [],
            },
          },
          default: {},
        },
      },
      additionalProperties: sweptValue(),
      examples: [
        { 'training.lr': [3e-5, 5e-5], 'training.batch_size': [16, 32] },
        { method: 'tpe', budget: 20, 'training.lr': { loguniform: [1e-5, 1e-3] }, early_termination: { type: 'asha', min_steps: 100, reduction_factor: 3 } },
      ],
    },
  },
};

/** The schema node of a dotted snake_case key (through anyOf branches), or undefined. */
export function schemaAt(key: string, root: JsonSchema = CONFIG_SCHEMA): JsonSchema | undefined {
  let cur: JsonSchema | undefined = root;
  for (const seg of key.split('.')) {
    if (!cur) return undefined;
    const holder: JsonSchema | undefined = [cur, ...(cur.anyOf ?? [])].find((n) => n.properties && Object.prototype.hasOwnProperty.call(n.properties, seg));
    cur = holder?.properties?.[seg];
  }
  return cur;
}

/** Every dotted key the schema defines (through anyOf branches), e.g. "model.peft.lora.rank". */
export function schemaKeys(s: JsonSchema = CONFIG_SCHEMA, prefix = ''): string[] {
  const out: string[] = [];
  const visit = (node: JsonSchema) => {
    for (const [k, sub] of Object.entries(node.properties ?? {})) {
      const dotted = prefix ? `${prefix}.${k}` : k;
      out.push(dotted);
      out.push(...schemaKeys(sub, dotted));
    }
    for (const b of node.anyOf ?? []) visit(b);
  };
  visit(s);
  return [...new Set(out)];
}
