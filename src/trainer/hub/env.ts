// Where the Hugging Face cache, endpoint and token are, read from the environment as Python's
// huggingface_hub reads them: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub
// (XDG_CACHE_HOME honoured; the rule is src/shared/hfCache.ts, which the extension reads too); HF_ENDPOINT; HF_TOKEN, else the token file the Hugging Face CLI login
// writes (HF_TOKEN_PATH, else HF_HOME/token); HF_HUB_OFFLINE.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { hfHome, hubCacheDir } from '../../shared/hfCache';

export interface HubEnv {
  /** The hub cache folder (holding models--org--name). */
  cache: string;
  /** The Hub's base URL, without a trailing slash. */
  endpoint: string;
  token?: string;
  /** Where the token came from, for messages: 'HF_TOKEN' or the token file's path. */
  tokenFrom?: string;
  /** The token file looked at when HF_TOKEN is not set. */
  tokenFile: string;
  offline: boolean;
}

const truthy = (v: string | undefined) => v !== undefined && ['1', 'on', 'yes', 'true'].includes(v.trim().toLowerCase());

export function hubEnv(env: NodeJS.ProcessEnv = process.env): HubEnv {
  const home = hfHome(env);
  const endpoint = (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
  const tokenFile = env.HF_TOKEN_PATH || path.join(home, 'token');
  let token: string | undefined = env.HF_TOKEN?.trim() || env.HUGGING_FACE_HUB_TOKEN?.trim() || undefined;
  let tokenFrom: string | undefined = token ? (env.HF_TOKEN?.trim() ? 'HF_TOKEN' : 'HUGGING_FACE_HUB_TOKEN') : undefined;
  if (!token) {
    try {
      token = fs.readFileSync(tokenFile, 'utf8').trim() || undefined;
      if (token) tokenFrom = tokenFile;
    } catch {
      // no token file: anonymous
    }
  }
  return { cache: hubCacheDir(env), endpoint, token, tokenFrom, tokenFile, offline: truthy(env.HF_HUB_OFFLINE) || truthy(env.TRANSFORMERS_OFFLINE) };
}
