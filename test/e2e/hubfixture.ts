// For the end-to-end test (vscode.e2e.mjs, which runs this with `node --import tsx`): the test Hub
// server (test/helpers/hubserver.ts) on 127.0.0.1 serving the tiny checkpoint of
// test/fixtures/hf-tiny-bert as two repos, and a Hugging Face cache (HF_HOME = argv[2]) in which
// the first one is already downloaded, by the trainer's own resolver:
//   CACHED   (org/tiny-bert)           in the cache: the hover says "cached", New Config offers it
//   DOWNLOAD (org/tiny-bert-download)  not cached; its weights trickle at 4 kB/s, so that a run's
//                                      download lasts a few seconds and its progress shows
// Prints one JSON line ({ url, cached, download, commit }) when ready, then serves until stdin
// closes (the test ended or died) or SIGTERM.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { hubEnv } from '../../src/trainer/hub/env';
import { resolveHubModel } from '../../src/trainer/hub/resolve';
import { commitOf, HubServer } from '../helpers/hubserver';

const CACHED = 'org/tiny-bert';
const DOWNLOAD = 'org/tiny-bert-download';
const FOLDER = path.resolve(path.dirname(__filename), '../fixtures/hf-tiny-bert');

async function main() {
  const home = process.argv[2];
  if (!home) throw new Error('usage: hubfixture.ts <HF_HOME>');
  const files = Object.fromEntries(fs.readdirSync(FOLDER).map((f) => [f, fs.readFileSync(path.join(FOLDER, f))]));
  const server = await new HubServer({
    [CACHED]: { commit: commitOf('e2e-cached'), files },
    [DOWNLOAD]: { commit: commitOf('e2e-download'), files },
  }).start();
  await resolveHubModel(CACHED, { env: hubEnv({ HF_HOME: home, HF_ENDPOINT: server.url }) });
  server.faults = { slow: { file: 'model.safetensors', bytesPerSecond: 4000 } };
  process.stdout.write(JSON.stringify({ url: server.url, cached: CACHED, download: DOWNLOAD, commit: commitOf('e2e-cached') }) + '\n');
  const stop = () => void server.stop().finally(() => process.exit(0));
  process.stdin.on('end', stop).on('close', stop).resume();
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  process.stderr.write(`hubfixture: ${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
