// File-system checks: the data files exist, the pretrained folder has config.json, weights and a
// tokenizer, and data.max_length fits its position embeddings. A Hub id is not checked here (no
// network): the trainer resolves it.

import * as fs from 'node:fs';
import * as path from 'node:path';
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
  // A Hub id is resolved (and downloaded) by the trainer; these checks never use the network.
  if (pre !== undefined && isHubId(pre)) return out;
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
      if (there('config.json')) {
        try {
          const hf = JSON.parse(fs.readFileSync(path.join(pre, 'config.json'), 'utf8')) as { max_position_embeddings?: unknown };
          const maxPos = hf.max_position_embeddings;
          if (typeof maxPos === 'number' && c.data.maxLength > maxPos)
            out.push({
              path: ['data', 'max_length'],
              fallback: ['model', 'pretrained'],
              at: 'value',
              message: `data.max_length (${c.data.maxLength}) exceeds the model's max_position_embeddings (${maxPos}) in ${path.join(pre, 'config.json')}`,
              severity: 'error',
            });
        } catch (e) {
          err(['model', 'pretrained'], `model.pretrained: cannot read ${path.join(pre, 'config.json')}: ${(e as Error).message}`);
        }
      }
    }
  }
  return out;
}
