// Writing a Hugging Face model folder (config.json + model.safetensors with the architecture's own
// tensor names) from canonical BERT parameters; the inverse of loadHfModel in hf.ts.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeSafetensors } from '../io/safetensors';
import { bertParamShapes, type BertConfig } from './bert';
import { listed, WEIGHTS_FILE } from './hf';
import { hfName, type Architecture, type Head } from './hfConfig';
import { writeJsonAtomic } from '../../shared/run';

const ARCH_CLASS: Record<Architecture, string> = { bert: 'Bert', distilbert: 'DistilBert', roberta: 'Roberta' };

function writeJson(file: string, value: unknown): void {
  try {
    writeJsonAtomic(file, value);
  } catch (e) {
    throw new Error(`${file}: cannot write: ${(e as Error).message}`);
  }
}

/**
 * Writes a Hugging Face folder: config.json and model.safetensors with the architecture's own
 * tensor names, loadable by transformers' AutoModelFor{Token,Sequence}Classification.
 *
 * - roberta: the position table gets padding_idx + 1 = 2 leading zero rows back
 *   (max_position_embeddings = maxPositions + 2, pad_token_id 1); a sequence head is written as
 *   RobertaClassificationHead (classifier.dense + classifier.out_proj).
 * - distilbert, token head: DistilBERT has no token type table; row 0 of ours (the only one a
 *   DistilBERT input uses) is added to every position row, which leaves the embeddings unchanged.
 * - distilbert, sequence head: DistilBertForSequenceClassification puts ReLU(pre_classifier) where
 *   this encoder has BERT's tanh pooler, so the model is written as an equivalent
 *   BertForSequenceClassification instead (model_type "bert"), keeping its outputs exact.
 */
export function saveHfModel(dir: string, arch: Architecture, config: BertConfig, params: Map<string, Float32Array>, labels: string[], head: Head): void {
  const expected = bertParamShapes(config, head);
  const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const missing = expected.filter((s) => !params.has(s.name)).map((s) => s.name);
  const names = new Set(expected.map((s) => s.name));
  const extra = [...params.keys()].filter((n) => !names.has(n));
  const wrong = expected
    .filter((s) => params.has(s.name) && params.get(s.name)!.length !== numel(s.shape))
    .map((s) => `${s.name} expected ${numel(s.shape)} values [${s.shape.join(', ')}] found ${params.get(s.name)!.length}`);
  if (missing.length || extra.length || wrong.length) {
    throw new Error(
      `cannot save to ${dir}: the parameters do not fit the config: missing: ${listed(missing)}; unexpected: ${listed(extra)}; mis-shaped: ${listed(wrong)}`,
    );
  }
  if (labels.length !== config.numLabels) throw new Error(`cannot save to ${dir}: ${labels.length} labels for a classifier with ${config.numLabels} outputs`);
  if (new Set(labels).size !== labels.length) throw new Error(`cannot save to ${dir}: labels are not unique`);

  const out: Architecture = arch === 'distilbert' && head === 'sequence' ? 'bert' : arch;
  const H = config.hidden;
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  const offset = out === 'roberta' ? 2 : 0;
  for (const s of expected) {
    let data = params.get(s.name)!;
    let shape = s.shape;
    if (out === 'distilbert' && s.name === 'bert.embeddings.token_type_embeddings.weight') continue;
    if (s.name === 'bert.embeddings.position_embeddings.weight') {
      if (out === 'distilbert') {
        const type0 = params.get('bert.embeddings.token_type_embeddings.weight')!.subarray(0, H);
        data = data.slice();
        for (let r = 0; r < config.maxPositions; r++) for (let j = 0; j < H; j++) data[r * H + j] += type0[j];
      } else if (offset) {
        const full = new Float32Array((config.maxPositions + offset) * H);
        full.set(data, offset * H);
        data = full;
        shape = [config.maxPositions + offset, H];
      }
    }
    tensors[hfName(out, s.name, head)] = { dtype: 'F32', shape, data };
  }

  const id2label = Object.fromEntries(labels.map((l, i) => [String(i), l]));
  const label2id = Object.fromEntries(labels.map((l, i) => [l, i]));
  const cls = `${ARCH_CLASS[out]}For${head === 'token' ? 'Token' : 'Sequence'}Classification`;
  const json: Record<string, unknown> =
    out === 'distilbert'
      ? {
          architectures: [cls],
          model_type: 'distilbert',
          dim: H,
          n_layers: config.layers,
          n_heads: config.heads,
          hidden_dim: config.intermediate,
          max_position_embeddings: config.maxPositions,
          dropout: config.hiddenDropout,
          attention_dropout: config.attentionDropout,
          vocab_size: config.vocabSize,
          activation: 'gelu',
          sinusoidal_pos_embds: false,
          pad_token_id: 0,
        }
      : {
          architectures: [cls],
          model_type: out,
          hidden_size: H,
          num_hidden_layers: config.layers,
          num_attention_heads: config.heads,
          intermediate_size: config.intermediate,
          max_position_embeddings: config.maxPositions + offset,
          type_vocab_size: config.typeVocabSize,
          layer_norm_eps: config.layerNormEps,
          hidden_dropout_prob: config.hiddenDropout,
          attention_probs_dropout_prob: config.attentionDropout,
          vocab_size: config.vocabSize,
          hidden_act: 'gelu',
          position_embedding_type: 'absolute',
          ...(out === 'roberta' ? { pad_token_id: 1, bos_token_id: 0, eos_token_id: 2 } : { pad_token_id: 0 }),
        };
  Object.assign(json, { id2label, label2id, torch_dtype: 'float32' });

  fs.mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, WEIGHTS_FILE), tensors, { format: 'pt' });
  writeJson(path.join(dir, 'config.json'), json);
}
