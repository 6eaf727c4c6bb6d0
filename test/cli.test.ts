// The trainer bundle as users and the extension run it (built by `npm test` before the tests).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { isTrainerEvent, type TrainerEvent } from '../src/shared/protocol';

const ROOT = path.resolve(path.dirname(__filename), '..');
const TRAINER = path.join(ROOT, 'dist', 'trainer.js');
const cli = (args: string[]) => spawnSync(process.execPath, [TRAINER, ...args], { cwd: ROOT, encoding: 'utf8' });

describe('finetune CLI (dist/trainer.js)', () => {
  it('is built', () => assert.ok(fs.existsSync(TRAINER), 'run `npm run build` first'));

  it('check trains with the engine and reports JSON events', () => {
    const r = cli(['check', '--json', '--threads', '1', '--steps', '200']);
    assert.equal(r.status, 0, r.stderr);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as TrainerEvent);
    assert.ok(events.every(isTrainerEvent));
    const started = events[0];
    assert.equal(started.type, 'started');
    if (started.type === 'started') assert.equal(started.device.used, 'cpu');
    const train = events.filter((e) => e.type === 'train');
    assert.ok(train.length >= 5);
    const done = events[events.length - 1];
    assert.equal(done.type, 'completed');
    if (done.type === 'completed') assert.ok((done.metrics.accuracy ?? 0) >= 0.9, `accuracy ${done.metrics.accuracy}`);
  });

  it('bad arguments give a clear message and a non-zero exit', () => {
    const unknown = cli(['frobnicate']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const badDevice = cli(['check', '--device', 'tpu']);
    assert.equal(badDevice.status, 1);
    assert.match(badDevice.stderr, /--device must be auto, cpu or cuda, got 'tpu'/);
    const badSteps = cli(['check', '--steps', '0']);
    assert.equal(badSteps.status, 1);
    assert.match(badSteps.stderr, /--steps must be an integer >= 1, got '0'/);
  });
});
