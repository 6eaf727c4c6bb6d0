// The Hugging Face cache on disk, read without network: where it is (HF_HUB_CACHE, else
// HF_HOME/hub, else ~/.cache/huggingface/hub, XDG_CACHE_HOME honoured), the `models--org--name`
// folder of a repo, whether a revision's snapshot is complete (config + tokenizer + weights), and
// what the cache holds. The trainer's Hub resolver (src/trainer/hub) and the extension (hovers,
// New Config) both use this one implementation. Layout, as Python's huggingface_hub writes it:
//   <cache>/models--org--name/blobs/<etag>
//   <cache>/models--org--name/refs/<revision>          the commit sha the revision points to
//   <cache>/models--org--name/snapshots/<commit>/<f>   a relative symlink to ../../blobs/<etag>

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const WEIGHTS_INDEX = 'model.safetensors.index.json';
const COMMIT = /^[0-9a-f]{40}$/;

/** HF_HOME, else <XDG_CACHE_HOME or ~/.cache>/huggingface. */
export function hfHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.HF_HOME || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'huggingface');
}

/** The hub cache folder (holding models--org--name), absolute. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || path.join(hfHome(env), 'hub'));
}

/** The cache folder of a repo: <cache>/models--org--name or datasets--org--name (huggingface_hub's repo_folder_name). */
export function repoFolder(cache: string, id: string, type: 'model' | 'dataset' = 'model'): string {
  return path.join(cache, `${type}s--${id.replace(/\//g, '--')}`);
}

/** Whether a set of files has a tokenizer the loader reads: tokenizer.json, vocab.txt, or vocab.json + merges.txt (byte-level BPE). */
export const hasTokenizer = (has: (f: string) => boolean) => has('tokenizer.json') || has('vocab.txt') || (has('vocab.json') && has('merges.txt'));

/** The shard files a safetensors index names; a name with a path part is an error. */
export function shardsOf(indexFile: string): string[] {
  const index = JSON.parse(fs.readFileSync(indexFile, 'utf8')) as { weight_map?: Record<string, string> };
  const shards = [...new Set(Object.values(index.weight_map ?? {}))];
  for (const s of shards) if (typeof s !== 'string' || path.basename(s) !== s) throw new Error(`${indexFile}: invalid shard name ${JSON.stringify(s)}`);
  return shards;
}

/** The commit a revision points to (a commit sha as is, else refs/<revision>), undefined when unknown. */
export function revisionCommit(repo: string, revision: string): string | undefined {
  if (COMMIT.test(revision)) return revision;
  try {
    return fs.readFileSync(path.join(repo, 'refs', revision), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** What a model folder (a snapshot or a local folder) has, for a run: config, tokenizer, safetensors weights. */
export function folderParts(dir: string): { config: boolean; tokenizer?: string; weights?: string; pickledOnly: boolean; complete: boolean } {
  const there = (f: string) => fs.existsSync(path.join(dir, f)); // follows symlinks: a dangling one is missing
  const config = there('config.json');
  const tokenizer = there('tokenizer.json')
    ? 'tokenizer.json'
    : there('vocab.txt')
      ? 'vocab.txt'
      : there('vocab.json') && there('merges.txt')
        ? 'vocab.json + merges.txt'
        : undefined;
  let weights: string | undefined;
  if (there('model.safetensors')) weights = 'model.safetensors';
  else if (there(WEIGHTS_INDEX)) {
    try {
      const shards = shardsOf(path.join(dir, WEIGHTS_INDEX));
      if (shards.every(there)) weights = `${WEIGHTS_INDEX} (${shards.length} shard${shards.length === 1 ? '' : 's'})`;
    } catch {
      // an unreadable index: no weights
    }
  }
  const pickledOnly = !weights && (there('pytorch_model.bin') || there('pytorch_model.bin.index.json'));
  return { config, tokenizer, weights, pickledOnly, complete: config && tokenizer !== undefined && weights !== undefined };
}

/** A complete snapshot for a revision (a branch or tag through refs/, or a commit sha), else undefined. */
export function cachedSnapshot(repo: string, revision: string): string | undefined {
  const commit = revisionCommit(repo, revision);
  if (!commit) return undefined;
  const snap = path.join(repo, 'snapshots', commit);
  return folderParts(snap).complete ? snap : undefined;
}

/** Total bytes of the files under a folder, symlinks followed (a dangling one counts nothing). */
export function folderSize(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    try {
      const st = fs.statSync(p);
      if (st.isDirectory()) total += folderSize(p);
      else if (st.isFile()) total += st.size;
    } catch {
      // dangling link or vanished file
    }
  }
  return total;
}

export interface CachedModel {
  id: string;
  repo: string;
  /** The commit refs/main points to, when there is a refs/main. */
  commit?: string;
  /** The snapshot shown: refs/main's, else the newest one. */
  snapshot?: string;
  /** Bytes of the snapshot's files. */
  size: number;
  complete: boolean;
  /** When the snapshot (or the repo folder) last changed, ms since the epoch. */
  mtime: number;
}

/** The models in a hub cache folder, newest first. */
export function listCachedModels(cache: string): CachedModel[] {
  let names: string[];
  try {
    names = fs.readdirSync(cache).filter((n) => n.startsWith('models--'));
  } catch {
    return [];
  }
  const out: CachedModel[] = [];
  for (const name of names) {
    const repo = path.join(cache, name);
    const id = name.slice('models--'.length).replace(/--/g, '/');
    if (!id) continue;
    const commit = revisionCommit(repo, 'main');
    let snapshot = commit && fs.existsSync(path.join(repo, 'snapshots', commit)) ? path.join(repo, 'snapshots', commit) : undefined;
    if (!snapshot) {
      const snaps = safeDirs(path.join(repo, 'snapshots'));
      snapshot = snaps.sort((a, b) => mtimeOf(b) - mtimeOf(a))[0];
    }
    out.push({
      id,
      repo,
      commit,
      snapshot,
      size: snapshot ? folderSize(snapshot) : 0,
      complete: snapshot ? folderParts(snapshot).complete : false,
      mtime: snapshot ? mtimeOf(snapshot) : mtimeOf(repo),
    });
  }
  return out.sort((a, b) => b.mtime - a.mtime || a.id.localeCompare(b.id));
}

function safeDirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => path.join(dir, e.name));
  } catch {
    return [];
  }
}

function mtimeOf(p: string): number {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

/** Bytes as people read them: 532 B, 17.3 kB, 438.0 MB, 1.3 GB (powers of 1000, as the Hub shows sizes). */
export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(1)} GB`;
}
