// A Hub dataset id → the local Parquet files of one split of its Parquet conversion, the
// `refs/convert/parquet` revision the Hub's dataset viewer writes for every public dataset
// (files `<config>/<split>/0000.parquet`, `0001.parquet`, …), in the same cache and layout as
// Python's huggingface_hub (`datasets--org--name/{blobs,refs,snapshots}`; the revision's commit in
// `refs/refs/convert/parquet`, as hf_hub_download(revision="refs/convert/parquet") writes it).
// Downloads, resumes and checks each file as a model's (resolve.ts `fetchFile`); HF_HUB_OFFLINE and
// an unreachable Hub fall back to the cached snapshot. The file list and commit come from the Hub's
// dataset info call (/api/datasets/<id>/revision/<rev>: `sha` and `siblings`), called here:
// @huggingface/hub's datasetInfo does not return the file list.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { hubEnv } from './env';
import { authFetch, causeOf, fetchFile, HubError, writeRef, type ResolveOptions } from './resolve';
import { repoFolder } from '../../shared/hfCache';

/** The revision holding the Hub's Parquet conversion. */
export const PARQUET_REVISION = 'refs/convert/parquet';
const COMMIT = /^[0-9a-f]{40}$/;

export interface DatasetSplitOptions extends ResolveOptions {
  /** The dataset's config (subset); default 'default'. */
  config?: string;
  /** Default PARQUET_REVISION; a commit sha of it pins one conversion. */
  revision?: string;
}

/** The cache folder of a dataset repo. */
export function datasetFolder(cache: string, id: string): string {
  return repoFolder(cache, id, 'dataset');
}

/** The files of a split in a conversion's file list, in shard order. */
function splitFiles(files: string[], config: string, split: string): string[] {
  const dir = `${config}/${split}/`;
  return files.filter((f) => f.startsWith(dir) && /^\d+\.parquet$/.test(f.slice(dir.length))).sort();
}

/** What the conversion has, for an error: `config/split` pairs. */
function available(files: string[]): string {
  const pairs = [...new Set(files.filter((f) => f.endsWith('.parquet')).map((f) => f.split('/').slice(0, 2).join('/')))].sort();
  return pairs.length ? pairs.join(', ') : 'no Parquet files';
}

function cachedSplit(repo: string, revision: string, config: string, split: string): string[] | undefined {
  let commit = revision;
  if (!COMMIT.test(revision)) {
    try {
      commit = fs.readFileSync(path.join(repo, 'refs', revision), 'utf8').trim();
    } catch {
      return undefined;
    }
  }
  const dir = path.join(repo, 'snapshots', commit, config, split);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  const files = names
    .filter((n) => /^\d+\.parquet$/.test(n))
    .sort()
    .map((n) => path.join(dir, n));
  return files.length && files.every((f) => fs.existsSync(f)) ? files : undefined;
}

/** Resolves one split of a Hub dataset's Parquet conversion to local files, downloading what is missing. */
export async function resolveHubDatasetSplit(id: string, split: string, o: DatasetSplitOptions = {}): Promise<string[]> {
  const env = o.env ?? hubEnv();
  const config = o.config ?? 'default';
  const revision = o.revision ?? PARQUET_REVISION;
  const log = o.log ?? (() => {});
  const repo = datasetFolder(env.cache, id);
  const named = `dataset ${id} (config ${config}, split ${split})`;
  if (env.offline) {
    const files = cachedSplit(repo, revision, config, split);
    if (!files)
      throw new HubError(`HF_HUB_OFFLINE is set and ${named} is not in the Hugging Face cache (${repo}); download it once online, or unset HF_HUB_OFFLINE`);
    log('info', `${named}: using the cached Parquet conversion (HF_HUB_OFFLINE)`);
    return files;
  }
  let files: string[];
  let commit: string;
  let res: Response;
  try {
    res = await authFetch(env)(`${env.endpoint}/api/datasets/${id}/revision/${encodeURIComponent(revision)}`);
  } catch (e) {
    const cached = cachedSplit(repo, revision, config, split);
    if (cached) {
      log('warn', `${named}: cannot reach ${env.endpoint} (${causeOf(e)}); using the cached Parquet conversion`);
      return cached;
    }
    throw new HubError(
      `cannot reach ${env.endpoint} to download ${named}: ${causeOf(e)} (set HF_ENDPOINT for a mirror, or HF_HUB_OFFLINE=1 to use the cache only)`,
    );
  }
  if (res.status === 401 || res.status === 403)
    throw new HubError(
      `dataset ${id} is gated or private (HTTP ${res.status} from ${env.endpoint}); ${env.token ? `the token from ${env.tokenFrom} was refused or has no access` : `no token was sent: set HF_TOKEN or log in with \`huggingface-cli login\` (token file ${env.tokenFile})`}`,
    );
  if (res.status === 404)
    throw new HubError(`dataset ${id}: no such dataset, or no Parquet conversion (${revision}), on ${env.endpoint} (HTTP 404); check the id`);
  if (!res.ok) throw new HubError(`dataset ${id}: ${env.endpoint} answered HTTP ${res.status}`);
  try {
    const info = (await res.json()) as { sha?: unknown; siblings?: { rfilename?: unknown }[] };
    files = (info.siblings ?? []).map((f) => String(f.rfilename));
    commit = String(info.sha);
  } catch (e) {
    throw new HubError(`dataset ${id}: ${env.endpoint} answered no readable dataset info (${causeOf(e)})`);
  }
  if (!COMMIT.test(commit)) throw new HubError(`${env.endpoint} answered no commit sha for dataset ${id} at ${revision}`);
  const wanted = splitFiles(files, config, split);
  if (wanted.length === 0) throw new HubError(`${named}: the Parquet conversion has no such config/split (it has: ${available(files)})`);
  writeRef(repo, revision, commit);
  for (const f of wanted) await fetchFile(env, `datasets/${id}`, commit, repo, f, log, o);
  log('info', `${named}: ${wanted.length} Parquet file${wanted.length === 1 ? '' : 's'} of commit ${commit.slice(0, 10)}`);
  return wanted.map((f) => path.join(repo, 'snapshots', commit, f));
}

/**
 * The dataset card (README.md of the dataset's `main`), fetched into the cache like any file (a
 * cached one serves offline or without a connection); undefined when the dataset has none or it
 * cannot be had. Read for label names when the Parquet files carry no ClassLabel metadata.
 */
export async function hubDatasetCard(id: string, o: ResolveOptions = {}): Promise<string | undefined> {
  const env = o.env ?? hubEnv();
  const log = o.log ?? (() => {});
  const repo = datasetFolder(env.cache, id);
  const cached = () => {
    let commit: string;
    try {
      commit = fs.readFileSync(path.join(repo, 'refs', 'main'), 'utf8').trim();
    } catch {
      return undefined;
    }
    try {
      return fs.readFileSync(path.join(repo, 'snapshots', commit, 'README.md'), 'utf8');
    } catch {
      return undefined;
    }
  };
  if (env.offline) return cached();
  let info: { sha?: unknown; siblings?: { rfilename?: unknown }[] };
  try {
    const res = await authFetch(env)(`${env.endpoint}/api/datasets/${id}/revision/main`);
    if (!res.ok) return cached();
    info = (await res.json()) as typeof info;
  } catch {
    return cached();
  }
  const commit = String(info.sha);
  if (!COMMIT.test(commit) || !(info.siblings ?? []).some((f) => f.rfilename === 'README.md')) return undefined;
  try {
    writeRef(repo, 'main', commit);
    await fetchFile(env, `datasets/${id}`, commit, repo, 'README.md', log, o);
    return fs.readFileSync(path.join(repo, 'snapshots', commit, 'README.md'), 'utf8');
  } catch (e) {
    log('warn', `dataset ${id}: cannot read its card (README.md): ${(e as Error).message}`);
    return cached();
  }
}

/**
 * ClassLabel names of a column from a dataset card's YAML header, as the Hub's cards write them:
 * `dataset_info` (one entry, or a list with `config_name`s) → `features[]` → the feature named
 * `column` → `dtype.class_label.names` (or, for a list of labels, `sequence`/`list`'s
 * `class_label`), the names a list or an {"0": name, …} map. Undefined when the card has none.
 */
export function cardClassLabels(card: string, config: string, column: string): string[] | undefined {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\s*(\r?\n|$)/.exec(card);
  if (!m) return undefined;
  let header: unknown;
  try {
    header = parseYaml(m[1]);
  } catch {
    return undefined; // a card whose header is not YAML names nothing
  }
  const infos = (header as { dataset_info?: unknown } | null)?.dataset_info;
  const list = (Array.isArray(infos) ? infos : infos ? [infos] : []) as { config_name?: unknown; features?: unknown }[];
  const info = list.find((i) => (i.config_name ?? 'default') === config) ?? (list.length === 1 && list[0].config_name === undefined ? list[0] : undefined);
  const feature = (Array.isArray(info?.features) ? info.features : []).find((f: { name?: unknown }) => f?.name === column) as
    Record<string, unknown> | undefined;
  if (!feature) return undefined;
  type Node = Record<string, unknown> | undefined;
  const dig = (n: Node): Node => {
    if (!n || typeof n !== 'object') return undefined;
    if (n.class_label) return n.class_label as Node;
    for (const k of ['dtype', 'sequence', 'list', 'feature']) {
      const found = dig(n[k] as Node);
      if (found) return found;
    }
    return undefined;
  };
  const names = dig(feature)?.names;
  if (Array.isArray(names)) return names.every((n) => typeof n === 'string') ? names : undefined;
  if (names && typeof names === 'object') {
    const entries = Object.entries(names as Record<string, unknown>);
    const out: string[] = [];
    for (const [k, v] of entries) {
      if (!/^\d+$/.test(k) || typeof v !== 'string') return undefined;
      out[Number(k)] = v;
    }
    return out.length === entries.length && out.every((v) => typeof v === 'string') ? out : undefined;
  }
  return undefined;
}
