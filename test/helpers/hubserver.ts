// A Hugging Face Hub-compatible HTTP server on 127.0.0.1 for tests, speaking what the model
// download uses: model info (/api/models/<id>/revision/<rev>: siblings and commit sha), dataset
// info (/api/datasets/<id>/revision/<rev>, for repos keyed `datasets/<id>`), the file tree
// (/api/<models|datasets>/<id>/tree/<rev>[/<path>][?recursive=true]) and
// /<id>/resolve/<rev>/<file> (HEAD and GET; ETag = git blob sha1, or for LFS files — *.safetensors,
// *.bin, *.parquet — a 302 to http://localhost:<port>/cdn/<sha256>, on another host name as the
// Hub's CDN is, carrying X-Linked-Etag and X-Linked-Size, as the Hub does; X-Repo-Commit; HTTP
// Range). Both Node's resolver and Python's huggingface_hub download from it. Faults on request: a
// token required (401 without it), a connection cut mid-file (once), wrong bytes for a file. Every
// request is recorded.

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubRepo {
  /** 40-hex commit sha of `main`. */
  commit: string;
  files: Record<string, Buffer>;
  /** Other revision names that point to `commit` (e.g. 'refs/convert/parquet'); 'main' always does. */
  refs?: string[];
}

export interface HubFaults {
  /** Requests need `Authorization: Bearer <token>`; without it (or with another) 401. */
  token?: string;
  /** The next GET of this file sends half of it and then cuts the connection. */
  cutOnce?: string;
  /** This file's GET sends other bytes of the same length (headers still describe the real file). */
  corrupt?: string;
  /** This file's GET body trickles at this many bytes per second (a download long enough to watch; a test may change the rate meanwhile). */
  slow?: { file: string; bytesPerSecond: number };
}

export interface SeenRequest {
  method: string;
  url: string;
  range?: string;
  auth?: string;
}

const isLfs = (f: string) => /\.(safetensors|bin|h5|msgpack|parquet)$/.test(f);
/** The checksums the Hub names files by: sha256 for LFS files, git's blob sha1 for the rest. */
export const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
export const gitSha1 = (b: Buffer) =>
  crypto
    .createHash('sha1')
    .update(Buffer.concat([Buffer.from(`blob ${b.length}\0`), b]))
    .digest('hex');

export const commitOf = (seed: string) => crypto.createHash('sha1').update(seed).digest('hex');

/** The stand-in for an LFS file's pointer in git (its blob id is the ETag of the resolve redirect). */
const lfsPointer = (file: string) => Buffer.from('pointer ' + file);

/** /api/<type>/<id>/tree/<rev>/<path> entries, as the Hub lists them. */
function treeOf(repo: HubRepo, under: string, recursive: boolean): object[] {
  const prefix = under ? `${under.replace(/\/$/, '')}/` : '';
  const entries = new Map<string, object>();
  for (const [name, bytes] of Object.entries(repo.files)) {
    if (!name.startsWith(prefix)) continue;
    const parts = name.slice(prefix.length).split('/');
    // The folders on the way: all of them when recursive, else only the first.
    for (let i = 1; i < (recursive ? parts.length : Math.min(2, parts.length)); i++) {
      const dir = prefix + parts.slice(0, i).join('/');
      entries.set(dir, { type: 'directory', oid: gitSha1(Buffer.from('tree ' + dir)), size: 0, path: dir });
    }
    if (!recursive && parts.length > 1) continue;
    const lfs = isLfs(name) ? { lfs: { oid: sha256(bytes), size: bytes.length, pointerSize: lfsPointer(name).length } } : {};
    entries.set(name, { type: 'file', oid: gitSha1(isLfs(name) ? lfsPointer(name) : bytes), size: bytes.length, path: name, ...lfs });
  }
  return [...entries.values()];
}

export class HubServer {
  readonly seen: SeenRequest[] = [];
  faults: HubFaults = {};
  private server?: http.Server;
  constructor(readonly repos: Record<string, HubRepo>) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((ok) => this.server!.close(() => ok()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url!, 'http://x');
    this.seen.push({ method: req.method!, url: url.pathname, range: req.headers.range, auth: req.headers.authorization });
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    // The CDN an LFS resolve redirects to: no token, as the Hub's CDN URL is signed (clients drop
    // the Authorization header on a redirect to another host).
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    if (cdn) {
      for (const repo of Object.values(this.repos))
        for (const [name, bytes] of Object.entries(repo.files)) if (sha256(bytes) === cdn[1]) return this.sendFile(req, res, name, bytes, {});
      return json(404, { error: 'Entry not found' });
    }
    if (this.faults.token !== undefined && req.headers.authorization !== `Bearer ${this.faults.token}`)
      return json(401, { error: 'Access to this model is restricted. You must be authenticated.' }, { 'X-Error-Code': 'GatedRepo' });

    // The file tree (huggingface_hub's snapshot_download lists it): files with their blob ids and
    // LFS info, and with ?recursive=true the folders and files below the path.
    const tree = /^\/api\/(models|datasets)\/(.+?)\/tree\/([^/]+)(?:\/(.*))?$/.exec(url.pathname);
    if (tree) {
      const repo = this.repos[tree[1] === 'datasets' ? `datasets/${tree[2]}` : tree[2]];
      if (!repo) return json(404, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' });
      const rev = decodeURIComponent(tree[3]);
      if (rev !== 'main' && rev !== repo.commit && !repo.refs?.includes(rev))
        return json(404, { error: `Invalid rev id: ${rev}` }, { 'X-Error-Code': 'RevisionNotFound' });
      return json(200, treeOf(repo, tree[4] ? decodeURIComponent(tree[4]) : '', url.searchParams.get('recursive') === 'true'));
    }
    const info = /^\/api\/(models|datasets)\/(.+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (info) {
      const key = info[1] === 'datasets' ? `datasets/${info[2]}` : info[2];
      const repo = this.repos[key];
      if (!repo) return json(404, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' });
      const rev = decodeURIComponent(info[3]);
      if (rev !== 'main' && rev !== repo.commit && !repo.refs?.includes(rev))
        return json(404, { error: `Invalid rev id: ${rev}` }, { 'X-Error-Code': 'RevisionNotFound' });
      return json(200, {
        _id: `id-${info[2]}`,
        id: info[2],
        private: false,
        gated: false,
        downloads: 0,
        likes: 0,
        sha: repo.commit,
        siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })),
      });
    }
    const resolve = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (resolve) {
      const [, id, rev, file] = resolve;
      const repo = this.repos[id];
      const bytes = repo && (rev === 'main' || rev === repo.commit) ? repo.files[decodeURIComponent(file)] : undefined;
      if (!bytes) return json(404, { error: 'Entry not found' }, { 'X-Error-Code': repo ? 'EntryNotFound' : 'RepoNotFound' });
      const common = { 'X-Repo-Commit': repo.commit };
      if (isLfs(file)) {
        res.writeHead(302, {
          ...common,
          // On another host name, as the Hub's CDN is: huggingface_hub follows a HEAD's redirect
          // while it stays on the same host and reads the file's metadata from the redirect
          // response only when it leaves it. (localhost is this same server.)
          Location: `http://localhost:${(this.server!.address() as AddressInfo).port}/cdn/${sha256(bytes)}`,
          'X-Linked-Etag': `"${sha256(bytes)}"`,
          'X-Linked-Size': String(bytes.length),
          ETag: `"${gitSha1(lfsPointer(file))}"`,
        });
        return res.end();
      }
      return this.sendFile(req, res, file, bytes, { ...common, ETag: `"${gitSha1(bytes)}"` });
    }
    json(404, { error: 'not found' });
  }

  private sendFile(req: http.IncomingMessage, res: http.ServerResponse, name: string, bytes: Buffer, headers: Record<string, string>) {
    let body = bytes;
    if (req.method === 'GET' && this.faults.corrupt === name) body = Buffer.alloc(bytes.length, 7);
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      const from = Number(range[1]);
      if (from >= bytes.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` });
        return res.end();
      }
      body = body.subarray(from);
      status = 206;
      headers = { ...headers, 'Content-Range': `bytes ${from}-${bytes.length - 1}/${bytes.length}` };
    }
    res.writeHead(status, { ...headers, 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length), 'Accept-Ranges': 'bytes' });
    if (req.method === 'HEAD') return res.end();
    if (this.faults.cutOnce === name) {
      this.faults.cutOnce = undefined;
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    const slow = this.faults.slow;
    if (slow?.file === name) return void trickle(res, body, () => this.faults.slow?.bytesPerSecond ?? Infinity);
    res.end(body);
  }
}

/** Sends `body` in 1 kB pieces at the rate `rate()` gives (read again for each piece: a test may change it); stops when the client goes away. */
async function trickle(res: http.ServerResponse, body: Buffer, rate: () => number) {
  const piece = 1024;
  for (let at = 0; at < body.length && !res.destroyed; at += piece) {
    res.write(body.subarray(at, at + piece));
    await new Promise((ok) => setTimeout(ok, (1000 * piece) / rate()));
  }
  res.end();
}

/**
 * Points the Hugging Face environment of this process at a test server and a cache home (no
 * HF_HUB_CACHE, HF_TOKEN or HF_HUB_OFFLINE from outside); the returned function puts every HF_*
 * variable back as it was.
 */
export function useHubEnv(home: string, url: string): () => void {
  const saved = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('HF_')));
  for (const k of Object.keys(process.env)) if (k.startsWith('HF_')) delete process.env[k];
  Object.assign(process.env, { HF_HOME: home, HF_ENDPOINT: url });
  return () => {
    for (const k of Object.keys(process.env)) if (k.startsWith('HF_')) delete process.env[k];
    Object.assign(process.env, saved);
  };
}
