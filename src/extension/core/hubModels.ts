// Pretrained models as the editor shows them, from disk only (no network): the hover on
// `model.pretrained` (a Hub id's cached revision, commit, size and completeness, or a local
// folder's size and parts) and the cached models "New Config" offers.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { isHubId } from '../../shared/config/config';
import { hasHubIdForm } from '../../shared/config/hubid';
import { folderParts, folderSize, formatBytes, listCachedModels, repoFolder, revisionCommit, type CachedModel } from '../../shared/hfCache';
import { mdEscape } from './runs';

const code = (s: string) => (/[`\r\n]/.test(s) ? mdEscape(s) : `\`${s}\``);

function partsLine(dir: string): string {
  const p = folderParts(dir);
  const items = [
    p.config ? 'config.json ✓' : 'config.json ✗',
    p.tokenizer ? `tokenizer (${p.tokenizer}) ✓` : 'tokenizer ✗',
    p.weights ? `weights (${p.weights}) ✓` : p.pickledOnly ? 'weights ✗ (only pytorch_model.bin, which Fine-tune does not load)' : 'weights ✗',
  ];
  return items.join(' · ');
}

/**
 * The hover text for `model.pretrained`: `value` is the resolved value (a Hub id as written, or an
 * absolute folder path), `revision` the config's `model.revision`, `cache` the hub cache folder.
 */
export function pretrainedHover(value: string, revision: string | undefined, cache: string): string {
  if (!isHubId(value)) {
    if (!fs.existsSync(value)) return `**${mdEscape(path.basename(value))}**: local folder ${code(value)} does not exist`;
    return [`**Local model folder** ${code(value)}`, `${formatBytes(folderSize(value))} · ${partsLine(value)}`].join('\n\n');
  }
  const rev = revision ?? 'main';
  const repo = repoFolder(cache, value);
  const head = `**Hub model** ${code(value)}${rev === 'main' ? '' : ` at ${code(rev)}`}`;
  const commit = revisionCommit(repo, rev);
  const snap = commit ? path.join(repo, 'snapshots', commit) : undefined;
  if (!commit || !snap || !fs.existsSync(snap))
    return [head, `Not in the Hugging Face cache (${code(cache)}): the first run downloads it (config, tokenizer and safetensors weights).`].join('\n\n');
  const p = folderParts(snap);
  const state = p.complete ? 'cached: a run uses it without downloading' : 'partly cached: a run downloads the missing files';
  return [
    head,
    `Revision ${code(rev)} → commit ${code(commit.slice(0, 12))} · ${formatBytes(folderSize(snap))} · ${state}`,
    partsLine(snap),
    `${code(snap)}`,
  ].join('\n\n');
}

/** A cached model as a pick item: the id, its size and whether it is complete. */
export interface CachedModelItem {
  label: string;
  description: string;
  id: string;
}

/** The models of the hub cache, newest first, as New Config lists them. */
export function cachedModelItems(cache: string, now = Date.now()): CachedModelItem[] {
  return listCachedModels(cache).map((m: CachedModel) => ({
    label: m.id,
    description: `${formatBytes(m.size)}${m.complete ? '' : ' · incomplete (a run downloads the rest)'} · ${ago(now - m.mtime)}`,
    id: m.id,
  }));
}

function ago(ms: number): string {
  const d = Math.floor(ms / 86_400_000);
  if (d >= 1) return `${d} day${d === 1 ? '' : 's'} ago`;
  const h = Math.floor(ms / 3_600_000);
  if (h >= 1) return `${h} hour${h === 1 ? '' : 's'} ago`;
  return 'just now';
}

/** The model choices of New Config: from scratch, each cached model (newest first), or a typed Hub id. */
export type ModelChoice = { label: string; description?: string; detail?: string } & (
  { choice: 'scratch' } | { choice: 'hub'; id: string } | { choice: 'enter' }
);

export function newConfigModelChoices(cache: string, now = Date.now()): ModelChoice[] {
  const cached = cachedModelItems(cache, now);
  return [
    { choice: 'scratch', label: 'From scratch', description: 'a small BERT with random weights; no download' },
    ...cached.map((c): ModelChoice => ({ choice: 'hub', id: c.id, label: c.label, description: c.description, detail: 'in the Hugging Face cache' })),
    { choice: 'enter', label: 'Hub id…', description: 'type a model id, e.g. bert-base-cased or dslim/bert-base-NER (downloaded on the first run)' },
  ];
}

/** Why a typed Hub id is not one (for the input box), undefined when it is. */
export function hubIdProblem(s: string): string | undefined {
  const v = s.trim();
  if (!v) return 'A Hub id is needed, e.g. bert-base-cased or org/name';
  return hasHubIdForm(v) ? undefined : `'${v}' is not a Hub id (letters, digits, '-', '_', '.', at most one '/')`;
}
