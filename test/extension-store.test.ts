// The run store reads a large history in batches across event-loop turns.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { RunStore } from '../src/extension/core/store';

describe('run store', () => {
  it('addFolderAsync reads run folders in batches, yielding between them, and lists unreadable ones', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-store-'));
    for (let i = 0; i < 450; i++) {
      const d = path.join(dir, `run-${i}`);
      fs.mkdirSync(d);
      fs.writeFileSync(
        path.join(d, 'run.json'),
        JSON.stringify({
          id: `run-${i}`,
          name: 'r',
          configPath: '/x.finetune.yaml',
          status: 'completed',
          createdAt: '',
          host: 'h',
          versions: {},
          step: 1,
          epoch: 1,
          configHash: 'h',
          config: {},
        }),
      );
    }
    fs.mkdirSync(path.join(dir, 'broken'));
    fs.writeFileSync(path.join(dir, 'broken', 'run.json'), '{"id": ');
    const store = new RunStore();
    const batches: number[] = [];
    store.on('change', (dirs) => batches.push(dirs.length));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    await store.addFolderAsync(dir, 100);
    clearInterval(ticker);
    assert.equal(store.all().length, 450);
    assert.equal(store.unreadable().length, 1);
    assert.ok(batches.length >= 5, `changes in ${batches.length} batches`);
    assert.ok(ticks >= 1, 'other work ran between batches');
    assert.equal(await store.addFolderAsync(dir), false, 'a folder is added once');
  });
});
