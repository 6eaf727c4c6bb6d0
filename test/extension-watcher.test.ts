// How runs folders are watched (src/extension/core/watcher.ts): native events on a local disk,
// polling on a network filesystem (a cluster's shared disk, where Slurm jobs on other machines
// write runs that this machine's file-change events never see).
// Run: node --import tsx --test test/extension-watcher.test.ts

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { needsPolling, networkFs, RunsWatcher } from '../src/extension/core/watcher';
import { createRunFolder, newRunInfo, writeRunInfo } from '../src/shared/run';

const NFS = 0x6969;
const EXT4 = 0xef53;

describe('runs folder watching', () => {
  it('auto polls a folder on a network filesystem only; always and never say so; a missing folder is judged by its nearest existing ancestor', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-watch-'));
    const asked: string[] = [];
    const on = (type: number) => (p: string) => (asked.push(p), type);
    assert.equal(networkFs(tmp, on(NFS)), 'nfs');
    assert.equal(networkFs(tmp, on(0x0bd00bd0)), 'lustre');
    assert.equal(networkFs(tmp, on(EXT4)), undefined);
    assert.equal(needsPolling(tmp, 'auto', on(NFS)), true);
    assert.equal(needsPolling(tmp, 'auto', on(EXT4)), false);
    assert.equal(needsPolling(tmp, 'always', on(EXT4)), true);
    assert.equal(needsPolling(tmp, 'never', on(NFS)), false);
    asked.length = 0;
    networkFs(path.join(tmp, 'not', 'yet', '.finetune', 'runs'), on(NFS));
    assert.deepEqual(asked, [tmp]);
    // the real statfs on this machine's temp folder: a local disk
    assert.equal(needsPolling(tmp, 'auto'), networkFs(tmp) !== undefined);
  });

  it('a polled runs folder reports a new run, as the native watcher does', async () => {
    const runs = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-watch-')), '.finetune', 'runs');
    fs.mkdirSync(runs, { recursive: true });
    const w = new RunsWatcher([runs], 50, (f) => f === runs);
    const seen: string[] = [];
    w.on('run', (d) => seen.push(d));
    try {
      assert.deepEqual(w.pollingFolders(), [runs]);
      await new Promise((r) => setTimeout(r, 1500)); // the poller's first scan
      const { id, dir } = createRunFolder(runs, 'polled');
      writeRunInfo(dir, newRunInfo({ id, name: 'polled', configPath: path.join(runs, 'x.finetune.yaml'), config: {}, configHash: 'h', status: 'queued' }));
      for (let i = 0; i < 250 && !seen.length; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(seen, [dir]);
    } finally {
      await w.close();
    }
  });
});
