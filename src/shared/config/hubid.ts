// Hub ids in model.pretrained: `bert-base-cased` or `org/name` (huggingface_hub's validate_repo_id
// rule). A written value is a Hub id when it has that form and no such local path exists next to
// the config (as Transformers' from_pretrained decides); with an `org/` part, also only when no
// local folder `org` exists there, so a mistyped local path is still reported as a missing folder.
// The resolved config keeps a Hub id as written; a local folder becomes an absolute path.

import * as fs from 'node:fs';
import * as path from 'node:path';

const HUB_ID = /^(?:[\w.-]+\/)?[\w.-]{1,96}$/;

/** Whether `s` has the form of a Hub model id (not whether the Hub has it). */
export function hasHubIdForm(s: string): boolean {
  return HUB_ID.test(s) && !s.includes('--') && !s.includes('..') && !s.endsWith('.git') && !/^[.-]|[.-]$|\/[.-]|[.-]\//.test(s);
}

/** The written `model.pretrained` value as a Hub id, or undefined when it names a local path. */
export function writtenHubId(written: string, baseDir: string): string | undefined {
  if (!hasHubIdForm(written) || fs.existsSync(path.resolve(baseDir, written))) return undefined;
  const slash = written.indexOf('/');
  if (slash > 0 && fs.existsSync(path.resolve(baseDir, written.slice(0, slash)))) return undefined;
  return written;
}

/** Whether a resolved `model.pretrained` is a Hub id (local folders resolve to absolute paths). */
export function isHubId(resolved: string): boolean {
  return !path.isAbsolute(resolved) && hasHubIdForm(resolved);
}
