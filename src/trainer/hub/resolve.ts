// A Hub model id → a local snapshot folder in the Hugging Face cache, laid out as Python's
// huggingface_hub lays it out, so either side reuses what the other downloaded:
//   <cache>/models--org--name/blobs/<etag>             the file (etag: sha256 for LFS files, git sha1 otherwise)
//   <cache>/models--org--name/refs/<revision>          the commit sha the revision points to
//   <cache>/models--org--name/snapshots/<commit>/<f>   a relative symlink to ../../blobs/<etag>
// The repo's file list and commit come from the Hub API through @huggingface/hub (`modelInfo`);
// each file is fetched from <endpoint>/<id>/resolve/<commit>/<file> into blobs/<etag>.incomplete,
// resumed with an HTTP Range request after a cut, checked (size; sha256 for LFS files, git blob
// sha1 for the others) and only then renamed into place and linked, so the cache never holds a
// wrong blob. Only what a run needs is fetched: config.json, the tokenizer files and
// model.safetensors (or its index and shards).

import { HubApiError, modelInfo } from '@huggingface/hub';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cachedSnapshot, hasTokenizer, repoFolder, shardsOf as indexShards, WEIGHTS_INDEX as INDEX } from '../../shared/hfCache';
import type { DownloadEvent } from '../../shared/protocol';
import { hubEnv, type HubEnv } from './env';
import { blobLockPath, withFileLock } from './lock';

export { cachedSnapshot, repoFolder };

export interface ResolveOptions {
  revision?: string;
  env?: HubEnv;
  /** Progress and notes, one line each. */
  log?: (level: 'info' | 'warn', message: string) => void;
  /** Attempts per file when the connection breaks (each resumes where the last stopped). */
  attempts?: number;
  /** Download progress, as the log lines give it (bytes, total, rate), typed. */
  progress?: (p: Omit<DownloadEvent, 'type' | 'model'>) => void;
  /** Polled between received chunks: true ends the download with HubStopped (the partial file is kept for a later resume). */
  shouldStop?: () => boolean;
}

const TOKENIZER_FILES = ['tokenizer.json', 'vocab.txt', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'];
const COMMIT = /^[0-9a-f]{40}$/;

export class HubError extends Error {}
/** A download ended on request (the run was stopped). */
export class HubStopped extends HubError {}

/** Resolves a Hub id to a snapshot folder holding the files a run needs, downloading what is missing. */
export async function resolveHubModel(id: string, o: ResolveOptions = {}): Promise<string> {
  const env = o.env ?? hubEnv();
  const revision = o.revision ?? 'main';
  const log = o.log ?? (() => {});
  const repo = repoFolder(env.cache, id);
  const named = `${id}${revision === 'main' ? '' : ` (revision ${revision})`}`;
  if (env.offline) {
    const snap = cachedSnapshot(repo, revision);
    if (!snap)
      throw new HubError(`HF_HUB_OFFLINE is set and ${named} is not in the Hugging Face cache (${repo}); download it once online, or unset HF_HUB_OFFLINE`);
    log('info', `model ${named}: using the cached snapshot ${snap} (HF_HUB_OFFLINE)`);
    return snap;
  }

  // The repo's files and the commit the revision points to.
  let files: string[];
  let commit: string;
  try {
    const info = await modelInfo({ name: id, revision, hubUrl: env.endpoint, additionalFields: ['sha', 'filePaths'], fetch: authFetch(env) });
    files = info.filePaths;
    commit = String(info.sha);
    if (!COMMIT.test(commit)) throw new HubError(`${env.endpoint} answered no commit sha for ${named}`);
  } catch (e) {
    if (e instanceof HubApiError) throw apiError(e, named, env);
    if (e instanceof HubError) throw e;
    // No connection: a complete cached snapshot still serves, as in Python.
    const snap = cachedSnapshot(repo, revision);
    if (snap) {
      log('warn', `model ${named}: cannot reach ${env.endpoint} (${causeOf(e)}); using the cached snapshot ${snap}`);
      return snap;
    }
    throw new HubError(
      `cannot reach ${env.endpoint} to download ${named}: ${causeOf(e)} (set HF_ENDPOINT for a mirror, or HF_HUB_OFFLINE=1 to use the cache only)`,
    );
  }

  const snapshot = path.join(repo, 'snapshots', commit);
  const needed = neededFiles(files, named);
  writeRef(repo, revision, commit);
  for (const f of needed) await fetchFile(env, id, commit, repo, f, log, o);
  if (needed.includes(INDEX)) {
    for (const shard of shardsOf(path.join(snapshot, INDEX))) {
      if (!files.includes(shard)) throw new HubError(`${named}: ${INDEX} names ${shard}, which the repo does not have`);
      await fetchFile(env, id, commit, repo, shard, log, o);
    }
  }
  log('info', `model ${named}: commit ${commit.slice(0, 10)} in ${snapshot}`);
  return snapshot;
}

/**
 * Records which commit a revision points to, as huggingface_hub 1.33's
 * _cache_commit_hash_for_specific_revision does: <repo>/refs/<revision> (so `refs/convert/parquet`
 * is the file refs/refs/convert/parquet), nothing for a commit sha, written only when it changed,
 * and atomically (a temporary file renamed over it), so that a concurrent reader never sees half a sha.
 */
export function writeRef(repo: string, revision: string, commit: string): void {
  if (revision === commit) return;
  const ref = path.join(repo, 'refs', revision);
  try {
    if (fs.readFileSync(ref, 'utf8') === commit) return;
  } catch {
    // not there yet
  }
  fs.mkdirSync(path.dirname(ref), { recursive: true });
  const tmp = `${ref}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, commit);
  fs.renameSync(tmp, ref);
}

/** The files of a repo that a run reads; a repo without safetensors weights is an error. */
function neededFiles(files: string[], named: string): string[] {
  const has = (f: string) => files.includes(f);
  const weights = has('model.safetensors') ? 'model.safetensors' : has(INDEX) ? INDEX : undefined;
  if (!weights) {
    const pickled = ['pytorch_model.bin', 'pytorch_model.bin.index.json'].find(has);
    throw new HubError(
      pickled
        ? `${named} has only ${pickled} (pickled PyTorch weights), which Fine-tune does not load; use a revision or a copy of the model with model.safetensors (e.g. the Hub's "refs/pr/N" safetensors conversion, or save it with save_pretrained(dir, safe_serialization=True) and point pretrained at that folder)`
        : `${named} has no model.safetensors or ${INDEX}`,
    );
  }
  if (!has('config.json')) throw new HubError(`${named} has no config.json`);
  if (!hasTokenizer(has)) throw new HubError(`${named} has no tokenizer.json, vocab.txt or vocab.json + merges.txt`);
  return ['config.json', ...TOKENIZER_FILES.filter(has), weights];
}

function shardsOf(indexFile: string): string[] {
  try {
    return indexShards(indexFile);
  } catch (e) {
    throw new HubError((e as Error).message);
  }
}

/** fetch with the token (when there is one) on requests to the endpoint only. */
export function authFetch(env: HubEnv): typeof fetch {
  return (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init?.headers);
    if (env.token && url.startsWith(env.endpoint + '/')) headers.set('Authorization', `Bearer ${env.token}`);
    return fetch(input, { ...init, headers });
  };
}

function apiError(e: HubApiError, named: string, env: HubEnv): HubError {
  if (e.statusCode === 401 || e.statusCode === 403) return new HubError(authMessage(e.statusCode, named, env));
  if (e.statusCode === 404)
    return new HubError(
      `${named}: no such model on ${env.endpoint} (HTTP 404); check the id and revision${env.token ? '' : ' (a private repo also needs a token: HF_TOKEN)'}`,
    );
  return new HubError(`${named}: ${env.endpoint} answered HTTP ${e.statusCode}: ${e.message}`);
}

function authMessage(status: number, named: string, env: HubEnv): string {
  const how = env.token
    ? `the token from ${env.tokenFrom} was refused or has no access (accept the model's terms on the Hub, or use another token)`
    : `no token was sent: set HF_TOKEN or log in with \`huggingface-cli login\` (token file ${env.tokenFile})`;
  return `${named} is gated or private (HTTP ${status} from ${env.endpoint}); ${how}`;
}

export function causeOf(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.message;
}

/** The etag as Python normalizes it: no weak prefix, no quotes. */
const normEtag = (s: string) => s.replace(/^W\//, '').replace(/^"|"$/g, '');

/**
 * Downloads one file of a commit into blobs/ and links it from the snapshot, unless it is there
 * already. `id`: the repo as its URLs name it (`org/name` for a model, `datasets/org/name`).
 */
export async function fetchFile(
  env: HubEnv,
  id: string,
  commit: string,
  repo: string,
  file: string,
  log: ResolveOptions['log'] & {},
  o: ResolveOptions,
): Promise<void> {
  const attempts = o.attempts ?? 3;
  const pointer = path.join(repo, 'snapshots', commit, file);
  if (fs.existsSync(pointer)) return;
  const url = `${env.endpoint}/${id}/resolve/${commit}/${file.split('/').map(encodeURIComponent).join('/')}`;
  const af = authFetch(env);
  // HEAD without following redirects: an LFS file answers with a redirect whose X-Linked-Etag
  // (the sha256) and X-Linked-Size describe the file.
  let head: Response;
  try {
    head = await af(url, { method: 'HEAD', redirect: 'manual', headers: { 'Accept-Encoding': 'identity' } });
  } catch (e) {
    throw new HubError(`cannot reach ${env.endpoint} for ${id}/${file}: ${causeOf(e)}`);
  }
  if (head.status === 401 || head.status === 403) throw new HubError(authMessage(head.status, id, env));
  if (head.status === 404) throw new HubError(`${id}: ${file} not found at commit ${commit} on ${env.endpoint} (HTTP 404)`);
  if (head.status >= 400) throw new HubError(`${id}: ${file}: HTTP ${head.status} from ${env.endpoint}`);
  const linked = head.headers.get('x-linked-etag');
  const etag = normEtag(linked ?? head.headers.get('etag') ?? '');
  const size = Number(head.headers.get('x-linked-size') ?? head.headers.get('content-length') ?? NaN);
  if (!/^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(etag)) throw new HubError(`${id}: ${file}: ${env.endpoint} gave no usable ETag (${JSON.stringify(etag)})`);
  if (!Number.isSafeInteger(size) || size < 0) throw new HubError(`${id}: ${file}: ${env.endpoint} gave no file size`);

  const blob = path.join(repo, 'blobs', etag);
  fs.mkdirSync(path.dirname(blob), { recursive: true });
  // One process downloads a blob; another that wants it waits on the lock, then finds it in place.
  if (!fs.existsSync(blob))
    await withFileLock(
      blobLockPath(repo, etag),
      async () => {
        if (fs.existsSync(blob)) return;
        const partial = `${blob}.incomplete`;
        for (let attempt = 1; ; attempt++) {
          try {
            await download(af, url, partial, size, file, log, o);
            break;
          } catch (e) {
            if (e instanceof HubError || attempt >= attempts)
              throw e instanceof HubError ? e : new HubError(`downloading ${id}/${file} failed: ${causeOf(e)} (run again to resume)`);
            log('warn', `${file}: ${causeOf(e)}; resuming (attempt ${attempt + 1} of ${attempts})`);
          }
        }
        const gotSize = fs.statSync(partial).size;
        const got = await digest(partial, etag.length === 64 ? 'sha256' : 'git-sha1', gotSize);
        if (gotSize !== size || got !== etag) {
          fs.rmSync(partial, { force: true });
          throw new HubError(
            `${id}: ${file} failed checksum verification (expected ${size} bytes with ${etag.length === 64 ? 'sha256' : 'git sha1'} ${etag}, got ${gotSize} bytes with ${got}); the download was discarded and the cache left unchanged`,
          );
        }
        fs.renameSync(partial, blob);
      },
      (pid) => log('info', `${file}: another process${pid ? ` (pid ${pid})` : ''} is downloading it into the cache; waiting for it`),
    );
  fs.mkdirSync(path.dirname(pointer), { recursive: true });
  fs.rmSync(pointer, { force: true });
  fs.symlinkSync(path.relative(path.dirname(pointer), blob), pointer);
}

/** GETs url into `partial`, resuming from its current length with a Range request. */
async function download(
  af: typeof fetch,
  url: string,
  partial: string,
  size: number,
  file: string,
  log: ResolveOptions['log'] & {},
  o: ResolveOptions,
): Promise<void> {
  let have = fs.existsSync(partial) ? fs.statSync(partial).size : 0;
  if (have > size) {
    fs.rmSync(partial);
    have = 0;
  }
  const res = await af(url, { headers: { 'Accept-Encoding': 'identity', ...(have > 0 ? { Range: `bytes=${have}-` } : {}) } });
  if (res.status === 416) {
    // The partial file is not a prefix of this one: start over.
    fs.rmSync(partial, { force: true });
    throw new Error('the server refused the resume range');
  }
  if (!res.ok || !res.body) throw new HubError(`${file}: HTTP ${res.status} from ${url}`);
  if (have > 0 && res.status !== 206) have = 0; // the server sent the whole file
  if (have > 0) log('info', `${file}: resuming at ${mb(have)} of ${mb(size)}`);
  const out = fs.openSync(partial, have > 0 ? 'a' : 'w');
  const t0 = Date.now();
  const start = have;
  let lastLog = t0; // the first line after a second; every file ends with one
  const report = (done: boolean) => {
    const s = (Date.now() - t0) / 1000;
    const rate = s > 0 ? (have - start) / s : 0;
    const eta = rate > 0 ? (size - have) / rate : NaN;
    o.progress?.({ file, bytes: have, total: size, rate, done });
    log(
      'info',
      `${file}: ${mb(have)} of ${mb(size)} (${size ? Math.floor((100 * have) / size) : 100}%), ${mb(rate)}/s${done ? '' : `, ETA ${Number.isFinite(eta) ? `${Math.ceil(eta)}s` : '?'}`}`,
    );
  };
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (o.shouldStop?.()) throw new HubStopped(`stopped while downloading ${file} (${mb(have)} of ${mb(size)}; a later run resumes it)`);
      fs.writeSync(out, chunk);
      have += chunk.length;
      if (Date.now() - lastLog > 1000) {
        lastLog = Date.now();
        report(false);
      }
    }
  } finally {
    fs.closeSync(out);
  }
  report(true);
}

/** sha256 of the file, or git's blob sha1 (sha1 of `blob <size>\0<bytes>`), as a hex string. */
async function digest(file: string, kind: 'sha256' | 'git-sha1', size: number): Promise<string> {
  const h = crypto.createHash(kind === 'sha256' ? 'sha256' : 'sha1');
  if (kind === 'git-sha1') h.update(`blob ${size}\0`);
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

const mb = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`);
