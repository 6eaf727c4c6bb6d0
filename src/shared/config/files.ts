// File-system checks: the data files exist, the pretrained folder has config.json, weights and a
// tokenizer, and data.max_length fits its position embeddings (of a local folder, or of a Hub id's
// snapshot when the Hugging Face cache holds it). A Hub id is never fetched here (no network).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { cachedSnapshot, hubCacheDir, repoFolder } from '../hfCache';
import { notARegularFile } from './fileKind';
import { isHubId } from './hubid';
import type { Issue, JPath, ResolvedConfig } from './types';

export function fileIssues(c: ResolvedConfig): Issue[] {
  const out: Issue[] = [];
  const err = (p: JPath, message: string) => out.push({ path: p, at: 'value', message, severity: 'error' });
  const stat = (p: string) => {
    try {
      return fs.statSync(p);
    } catch {
      return undefined;
    }
  };
  // With data.hub, train/validation/test are split names, resolved by the trainer.
  for (const key of c.data.hub ? [] : (['train', 'validation', 'test'] as const)) {
    const p = c.data[key];
    if (p === undefined) continue;
    const why = notARegularFile(p);
    if (why === 'file not found') err(['data', key], `data.${key}: file not found: ${p}`);
    else if (why) err(['data', key], `data.${key}: ${p} ${why}`);
  }
  const pre = c.model.pretrained;
  // A Hub id is resolved (and downloaded) by the trainer; these checks never use the network, but
  // a snapshot already in the Hugging Face cache is checked like a local folder. (The trainer
  // checks again once it has downloaded one: checkResolvedModel.)
  if (pre !== undefined && isHubId(pre)) {
    const snap = cachedSnapshot(repoFolder(hubCacheDir(), pre), c.model.revision ?? 'main');
    if (snap) out.push(...positionIssues(c, snap));
    return out;
  }
  if (pre !== undefined && c.model.revision !== undefined)
    err(['model', 'revision'], `model.revision applies to a Hub id; ${pre} is a local folder (its files are used as they are)`);
  if (pre !== undefined) {
    const st = stat(pre);
    if (!st) err(['model', 'pretrained'], `model.pretrained: folder not found: ${pre}`);
    else if (!st.isDirectory()) err(['model', 'pretrained'], `model.pretrained: ${pre} is a file; expected a Hugging Face model folder`);
    else {
      const there = (f: string) => stat(path.join(pre, f))?.isFile() ?? false;
      const missing: string[] = [];
      if (!there('config.json')) missing.push('config.json');
      if (!there('model.safetensors') && !there('model.safetensors.index.json'))
        missing.push(
          there('pytorch_model.bin') ? 'model.safetensors (it has only pytorch_model.bin; save the model with safe_serialization=True)' : 'model.safetensors',
        );
      const tokenizer = there('tokenizer.json') || there('vocab.txt') || (there('vocab.json') && there('merges.txt'));
      if (!tokenizer) missing.push('tokenizer.json, vocab.txt or vocab.json + merges.txt');
      if (missing.length) err(['model', 'pretrained'], `model.pretrained: ${pre} has no ${missing.join(', no ')}`);
      if (there('config.json')) out.push(...positionIssues(c, pre));
    }
  }
  return out;
}

/** The positions a model folder's checkpoint reads (see usablePositions), or undefined when its config.json does not say. */
export function modelPositions(folder: string): number | undefined {
  try {
    return usablePositions(JSON.parse(fs.readFileSync(path.join(folder, 'config.json'), 'utf8')) as Record<string, unknown>);
  } catch {
    return undefined;
  }
}

/** The positions a checkpoint reads: max_position_embeddings, less RoBERTa's padding offset (pad_token_id + 1), as the loader counts them. */
function usablePositions(hf: Record<string, unknown>): number | undefined {
  const maxPos = hf.max_position_embeddings;
  if (typeof maxPos !== 'number') return undefined;
  const roberta = typeof hf.model_type === 'string' && ['roberta', 'xlm-roberta', 'camembert'].includes(hf.model_type);
  const pad = typeof hf.pad_token_id === 'number' ? hf.pad_token_id : 1;
  return roberta ? maxPos - (pad + 1) : maxPos;
}

/** data.max_length against the position embeddings of a model folder's config.json (at the max_length line). */
export function positionIssues(c: ResolvedConfig, folder: string): Issue[] {
  const file = path.join(folder, 'config.json');
  let hf: Record<string, unknown>;
  try {
    hf = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    return [{ path: ['model', 'pretrained'], at: 'value', message: `model.pretrained: cannot read ${file}: ${(e as Error).message}`, severity: 'error' }];
  }
  const limit = usablePositions(hf);
  if (limit === undefined || c.data.maxLength <= limit) return [];
  const what =
    limit === hf.max_position_embeddings
      ? `max_position_embeddings (${limit})`
      : `${limit} positions (max_position_embeddings ${String(hf.max_position_embeddings)} less RoBERTa's padding offset)`;
  return [
    {
      path: ['data', 'max_length'],
      fallback: ['model', 'pretrained'],
      at: 'value',
      message: `data.max_length (${c.data.maxLength}) exceeds the model's ${what} in ${file}; set data.max_length to ${limit} or less`,
      severity: 'error',
    },
  ];
}
