// Reading a run's data and turning it into model inputs: CoNLL sentences or labelled texts, the
// label set, the tokenizer (a pretrained folder's, or a vocabulary built from the training data),
// and tokenized features. Over-long inputs are windowed or truncated and always counted.

import type { ResolvedConfig } from '../../shared/config/config';
import { readConll, type TagScheme, type TokenSentence } from '../data/conll';
import { DataError } from '../data/errors';
import { chooseLabels, type LabelChoice, type LabelUse } from '../data/labels';
import { hasClassLabelNames, readParquetTexts, readParquetTokens } from '../data/parquet';
import { cardClassLabels, hubDatasetCard, resolveHubDatasetSplit } from '../hub/dataset';
import { splitBySeed } from '../data/split';
import { readCsv, readJsonl, type TextExample } from '../data/textcls';
import { checkpointHead } from '../models/hf';
import { encodeTexts, encodeTokenSentences, type TextFeature, type TokenFeature } from '../encode';
import { buildWordPieceVocab, loadTokenizer, tokenizerFromVocab, type Tok } from '../tokenize';

export interface Split<E, F> {
  examples: E[];
  features: F[];
}

interface Common {
  labels: string[];
  tokenizer: Tok;
  log: string[];
}

export interface TokenData extends Common {
  task: 'token-classification';
  scheme: TagScheme;
  train: Split<TokenSentence, TokenFeature>;
  validation?: Split<TokenSentence, TokenFeature>;
  test?: Split<TokenSentence, TokenFeature>;
}

export interface TextData extends Common {
  task: 'sequence-classification';
  train: Split<TextExample, TextFeature>;
  validation?: Split<TextExample, TextFeature>;
  test?: Split<TextExample, TextFeature>;
}

export type RunData = TokenData | TextData;

/** The tokenizer of the run: a pretrained folder's, the one saved in a checkpoint, or built from training words. */
function makeTokenizer(cfg: ResolvedConfig, words: () => Iterable<string>, saved?: string): { tok: Tok; how: string } {
  if (saved) return { tok: loadTokenizer(saved), how: `tokenizer from ${saved}` };
  if (cfg.model.pretrained) return { tok: loadTokenizer(cfg.model.pretrained), how: `tokenizer from ${cfg.model.pretrained}` };
  const s = cfg.model.fromScratch!;
  const vocab = buildWordPieceVocab(words(), { minFrequency: s.minFrequency, lowercase: s.lowercase, maxSize: 30522 });
  return { tok: tokenizerFromVocab(vocab, { lowercase: s.lowercase }), how: `WordPiece vocabulary of ${vocab.length} built from the training data` };
}

/** The run's labels (see data/labels.ts); `run`: the run's own, when resuming or evaluating it. */
function runLabels(cfg: ResolvedConfig, train: LabelUse[], others: LabelUse[], run?: string[], declared?: string[]): LabelChoice {
  const head = cfg.task === 'token-classification' ? 'token' : 'sequence';
  const checkpoint = cfg.model.pretrained && !run && !cfg.labels ? checkpointHead(cfg.model.pretrained, head) : undefined;
  return chooseLabels({ train, others, configured: cfg.labels, run, checkpoint, declared });
}

/**
 * Training data with a single label (every tag 'O', or one class) teaches nothing: the run would
 * "complete" with f1 0. Refused before anything trains, with what was found and where to look.
 */
function checkSomethingToLearn(cfg: ResolvedConfig, train: LabelUse[], file: string): void {
  const seen = new Set(train.map((u) => u.label));
  if (seen.size >= 2 || train.length === 0) return;
  const only = [...seen][0];
  if (cfg.task === 'token-classification')
    throw new DataError(
      `every tag in the training data is '${only}' (${train.length} tokens): there is no entity to learn; is data.tag_column (${cfg.data.tagColumn}) the tag column?`,
      file,
    );
  throw new DataError(
    `every training example has the label '${only}' (${train.length} examples): a classifier needs at least 2 labels; is data.label_field ('${cfg.data.labelField}') the label?`,
    file,
  );
}

const LABELS_FROM: Record<LabelChoice['source'], string> = {
  data: 'labels',
  config: 'labels (from the config)',
  checkpoint: "labels (the checkpoint's, in its order)",
  dataset: "labels (the training file's ClassLabel names, in their order)",
  run: "labels (the run's)",
};

/**
 * Reads, labels and encodes the run's splits. `savedTokenizer`: a checkpoint or export folder whose
 * tokenizer to use; `fixedLabels`: the run's own labels (resuming or evaluating a run).
 */
export async function loadRunData(
  cfg: ResolvedConfig,
  savedTokenizer?: string,
  fixedLabels?: string[],
  /** Download progress of data.hub (default: into the data log). */
  hubLog?: (level: 'info' | 'warn', message: string) => void,
): Promise<RunData> {
  const d = cfg.data;
  const log: string[] = [];
  // A split's files: the file itself, or with data.hub the split's Parquet files (downloaded when missing).
  const hubOpts = { config: d.hubConfig, revision: d.hubRevision, log: hubLog ?? ((_l: string, m: string) => log.push(m)) };
  const filesOf = async (split: string) => (d.hub ? resolveHubDatasetSplit(d.hub, split, hubOpts) : [split]);
  // A Hub dataset whose Parquet files carry no ClassLabel metadata: the names from its card, asked once.
  let card: Promise<string[] | undefined> | undefined;
  const datasetNames = async (files: string[], column: string, list: boolean) => {
    if (!d.hub || (await hasClassLabelNames(files[0], column, list))) return undefined;
    card ??= hubDatasetCard(d.hub, hubOpts).then((text) => {
      const names = text === undefined ? undefined : cardClassLabels(text, d.hubConfig ?? 'default', column);
      if (names) log.push(`labels: the names of '${column}' come from the dataset card (README.md) of ${d.hub}; its Parquet files have no ClassLabel metadata`);
      return names;
    });
    return card;
  };
  if (cfg.task === 'token-classification') {
    const opts = { tagColumn: d.tagColumn, scheme: d.scheme };
    const pqOpts = { tokensColumn: d.tokensField, tagsColumn: d.tagsField, scheme: d.scheme, names: cfg.labels };
    const read = async (split: string) => {
      if (d.format !== 'parquet') return readConll(split, opts);
      const files = await filesOf(split);
      const names = await datasetNames(files, d.tagsField, true);
      const parts = await Promise.all(files.map((f) => readParquetTokens(f, { ...pqOpts, datasetNames: names })));
      return { ...parts[0], sentences: parts.flatMap((p) => p.sentences), tokens: parts.reduce((n, p) => n + p.tokens, 0) };
    };
    const train = await read(d.train);
    let trainS = train.sentences;
    let valS = d.validation ? (await read(d.validation)).sentences : undefined;
    if (!valS && d.validationSplit) ({ train: trainS, validation: valS } = splitBySeed(trainS, d.validationSplit, cfg.seed));
    const testS = d.test ? (await read(d.test)).sentences : undefined;
    const uses = (split: TokenSentence[] | undefined) =>
      (split ?? []).flatMap((s) => s.tags.map((label, i) => ({ label, file: s.file, line: s.tokenLines[i] })));
    const declared = 'names' in train ? train.names : undefined;
    if (!fixedLabels) checkSomethingToLearn(cfg, uses(trainS), d.train);
    const { labels, source } = runLabels(cfg, uses(trainS), [...uses(valS), ...uses(testS)], fixedLabels, declared);
    log.push(
      `data: ${trainS.length} training sentences (${train.tokens} tokens, scheme ${train.scheme} → IOB2)` +
        `${valS ? `, ${valS.length} validation` : ''}${testS ? `, ${testS.length} test` : ''}; ${LABELS_FROM[source]}: ${labels.join(' ')}`,
    );
    const { tok, how } = makeTokenizer(cfg, () => trainS.flatMap((s) => s.words), savedTokenizer);
    log.push(how);
    const index = new Map(labels.map((l, i) => [l, i]));
    const encode = (name: string, sentences: TokenSentence[]) => {
      const { features, stats } = encodeTokenSentences(
        tok,
        sentences.map((s) => ({ words: s.words, labels: s.tags.map((t) => index.get(t)!) })),
        { maxLength: d.maxLength, overflow: d.overflow, stride: d.stride },
      );
      if (stats.overlongSentences) {
        log.push(
          d.overflow === 'window'
            ? `${name}: ${stats.overlongSentences} sentences longer than ${d.maxLength} sub-tokens were split into ${stats.windows - stats.sentences + stats.overlongSentences} windows`
            : `${name}: ${stats.truncatedSentences} sentences truncated to ${d.maxLength} sub-tokens (${stats.droppedWords} words dropped and scored as 'O')`,
        );
      }
      return { examples: sentences, features };
    };
    return {
      task: 'token-classification',
      scheme: train.scheme,
      labels,
      tokenizer: tok,
      log,
      train: encode('training', trainS),
      validation: valS && encode('validation', valS),
      test: testS && encode('test', testS),
    };
  }
  let declared: string[] | undefined;
  const read = async (file: string): Promise<TextExample[]> => {
    if (d.format === 'csv') return readCsv(file, { textField: d.textField, labelField: d.labelField, delimiter: d.delimiter });
    if (d.format === 'jsonl') return readJsonl(file, { textField: d.textField, labelField: d.labelField });
    if (d.format === 'parquet') {
      const files = await filesOf(file);
      const names = await datasetNames(files, d.labelField, false);
      const parts = await Promise.all(
        files.map((f) => readParquetTexts(f, { textColumn: d.textField, labelColumn: d.labelField, names: cfg.labels, datasetNames: names })),
      );
      if (file === d.train) declared = parts[0].names;
      return parts.flatMap((p) => p.examples);
    }
    throw new DataError(`format '${d.format}' does not fit sequence-classification (use jsonl, csv or parquet)`, file);
  };
  let trainE = await read(d.train);
  let valE = d.validation ? await read(d.validation) : undefined;
  if (!valE && d.validationSplit) ({ train: trainE, validation: valE } = splitBySeed(trainE, d.validationSplit, cfg.seed));
  const testE = d.test ? await read(d.test) : undefined;
  if (!fixedLabels) checkSomethingToLearn(cfg, trainE, d.train);
  const { labels, source } = runLabels(cfg, trainE, [...(valE ?? []), ...(testE ?? [])], fixedLabels, declared);
  log.push(
    `data: ${trainE.length} training texts${valE ? `, ${valE.length} validation` : ''}${testE ? `, ${testE.length} test` : ''}; ${LABELS_FROM[source]}: ${labels.join(' ')}`,
  );
  const { tok, how } = makeTokenizer(cfg, () => trainE.flatMap((e) => e.text.split(/\s+/)), savedTokenizer);
  log.push(how);
  const index = new Map(labels.map((l, i) => [l, i]));
  const encode = (name: string, examples: TextExample[]) => {
    const { features, stats } = encodeTexts(
      tok,
      examples.map((e) => ({ text: e.text, label: index.get(e.label)! })),
      { maxLength: d.maxLength, overflow: d.overflow, stride: d.stride },
    );
    if (stats.overlong) {
      log.push(
        d.overflow === 'window'
          ? `${name}: ${stats.overlong} texts longer than ${d.maxLength} sub-tokens were split into ${stats.windows - stats.texts + stats.overlong} windows (${d.stride} sub-tokens of overlap); a text's prediction is the mean of its windows' logits`
          : `${name}: ${stats.truncated} texts truncated to ${d.maxLength} sub-tokens`,
      );
    }
    return { examples, features };
  };
  return {
    task: 'sequence-classification',
    labels,
    tokenizer: tok,
    log,
    train: encode('training', trainE),
    validation: valE && encode('validation', valE),
    test: testE && encode('test', testE),
  };
}
