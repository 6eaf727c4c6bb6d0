// The memory estimate a run gets before it allocates anything (src/trainer/train/memory.ts), and
// the trainer refusing a run that cannot fit, with the estimate in the message (dist/trainer.js:
// `npm run build` first).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { bertParamShapes, bertSized } from '../src/trainer/models/bert';
import { activationBytes, estimateMemory, judgeMemory, type MemoryPlan } from '../src/trainer/train/memory';
import { hasHugepageTunable, trainerEnv } from '../src/shared/trainerEnv';
import { firstStepsPerRun } from '../src/trainer/train/trainer';
import { arenaByDefault } from '../src/trainer/engine/program';

const ROOT = path.resolve(path.dirname(__filename), '..');
const TRAINER = path.join(ROOT, 'dist', 'trainer.js');
const GB = 2 ** 30;

function plan(layers: number, hidden: number, heads: number, batch: number, length: number, o: Partial<MemoryPlan> = {}): MemoryPlan {
  const c = bertSized(layers, hidden, heads);
  const params = bertParamShapes(c).reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  return { model: c, params, trained: params, slots: 2, batch, lengths: [length], evalBatch: 32, evalLength: length, ...o };
}

const part = (p: MemoryPlan, name: string) => estimateMemory(p).parts.find((x) => x.name.startsWith(name))!.bytes;

describe('memory estimate', () => {
  it('counts weights, gradients and AdamW state from the parameter count', () => {
    const base = plan(12, 768, 12, 32, 128);
    assert.ok(base.params > 108e6 && base.params < 111e6, `BERT-base has ~110M parameters, got ${base.params}`);
    assert.equal(part(base, 'gradients'), base.trained * 4);
    assert.equal(part(base, 'optimizer state'), 2 * part(plan(12, 768, 12, 32, 128, { slots: 1 }), 'optimizer state'));
    // Head-only / LoRA: frozen weights have no gradient and no state.
    const frozen = plan(12, 768, 12, 32, 128, { trained: 10_000 });
    assert.equal(part(frozen, 'gradients'), 40_000);
    assert.ok(part(frozen, 'frozen weights') > base.params * 4);
  });

  it('scales activations with batch, layers and length, quadratically in length through attention', () => {
    const p = plan(4, 256, 4, 16, 128);
    assert.equal(activationBytes({ ...p, batch: 32 }, 128), 2 * activationBytes(p, 128));
    assert.equal(activationBytes({ ...p, model: { ...p.model, layers: 8 } }, 128), 2 * activationBytes(p, 128));
    assert.ok(activationBytes(p, 256) > 2 * activationBytes(p, 128));
    // One program per bucket, each keeping its activations' arena: they add up.
    assert.equal(part({ ...p, lengths: [16, 32, 128] }, 'activations'), activationBytes(p, 16) + activationBytes(p, 32) + activationBytes(p, 128));
  });

  it('gradient checkpointing keeps layer inputs plus one layer instead of every layer', () => {
    const p = plan(24, 1024, 16, 32, 128);
    const full = part(p, 'activations');
    const ckpt = part({ ...p, gradientCheckpointing: true }, 'activations');
    assert.ok(ckpt < full / 5, `checkpointed ${ckpt} vs ${full}`);
    assert.ok(estimateMemory({ ...p, gradientCheckpointing: true }).parts.some((x) => x.name === 'activations (checkpointed)'));
  });

  it('matches the peaks measured at BERT-mini and BERT-small sizes within 30% (docs/benchmarks.md)', () => {
    // Peak RSS of `finetune train` from scratch, batch 32, length 128, measured here (/usr/bin/time -v).
    const measured = [
      { p: plan(4, 256, 4, 32, 128), gb: 1.31 },
      { p: plan(4, 512, 8, 32, 128), gb: 2.87 },
    ];
    for (const { p, gb } of measured) {
      // Those runs had a 2,492-token vocabulary (built from the data), not 30,522.
      const shapes = bertParamShapes({ ...p.model, vocabSize: 2492, maxPositions: 128 } as never);
      const n = shapes.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
      const est = estimateMemory({ ...p, params: n, trained: n }).total / GB;
      assert.ok(Math.abs(est / gb - 1) <= 0.3, `estimate ${est.toFixed(2)} GB vs measured ${gb} GB`);
    }
  });

  it('holds weights and state once plus one copy during a call (state updated in place)', () => {
    const p = plan(12, 768, 12, 32, 128);
    assert.equal(part(p, 'weights'), p.trained * 4);
    assert.equal(part(p, 'optimizer state'), p.trained * 2 * 4);
    assert.equal(part(p, 'state copy during a call'), p.trained * 3 * 4);
  });

  it("without the arena, bucket programs' activations add up too, at the lower factor", () => {
    const p = plan(4, 256, 4, 16, 128, { lengths: [32, 64, 128] });
    const off = { ...p, arena: false };
    assert.equal(part(off, 'activations'), activationBytes(off, 32) + activationBytes(off, 64) + activationBytes(off, 128));
    assert.equal(part(p, 'activations'), activationBytes(p, 32) + activationBytes(p, 64) + activationBytes(p, 128));
    assert.ok(part(off, 'activations') < part(p, 'activations') / 2);
  });

  it('covers the real-length BERT-mini run without the arena (huge pages): 0.81-1.23 GB measured over 4 runs', () => {
    // The trainer on bench/reallength.ts's data (2,200-word vocabulary, batch 32, buckets 16-128), peak RSS sampled.
    const p = plan(4, 256, 4, 32, 128, { lengths: [16, 32, 64, 128], arena: false });
    const n = bertParamShapes({ ...p.model, vocabSize: 2200, maxPositions: 128 } as never).reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
    const est = estimateMemory({ ...p, params: n, trained: n }).total / GB;
    assert.ok(est >= 0.81 && est <= 1.23, `estimate ${est.toFixed(2)} GB, measured 0.81-1.23 GB`);
  });

  it('matches the steps measured by bench/memory.ts without the arena within 15% (docs/benchmarks.md)', () => {
    // bench/memory.ts peaks (no evaluation session): BERT-large sizes batch 4 checkpointed (4 KB
    // pages), BERT-base batch 32 plain and checkpointed (huge pages, as trainers start).
    const measured = [
      { p: plan(24, 1024, 16, 4, 128, { gradientCheckpointing: true, arena: false }), mb: 10022 },
      { p: plan(12, 768, 12, 32, 128, { arena: false }), mb: 7150 },
      { p: plan(12, 768, 12, 32, 128, { gradientCheckpointing: true, arena: false }), mb: 3777 },
    ];
    for (const { p, mb } of measured) {
      const est = (estimateMemory(p).total - part(p, 'evaluation')) / 2 ** 20;
      assert.ok(Math.abs(est / mb - 1) <= 0.15, `estimate ${est.toFixed(0)} MB vs measured ${mb} MB`);
    }
  });

  it('refuses what does not fit, warns near the limit, passes the rest', () => {
    const e = estimateMemory(plan(4, 256, 4, 16, 128));
    assert.equal(judgeMemory(e, { bytes: 10 * e.total, source: 'available memory' }).kind, 'fits');
    assert.equal(judgeMemory(e, { bytes: 1.1 * e.total, source: 'available memory' }).kind, 'warn');
    const v = judgeMemory(e, { bytes: 0.5 * e.total, source: 'available memory' }, 8 * GB);
    assert.equal(v.kind, 'refuse');
    if (v.kind === 'refuse')
      assert.match(v.message, /will not fit in memory: estimated peak memory [\d.]+ GB \(.*activations [\d.]+ GB.*\); available memory [\d.]+ GB of 8\.00 GB/);
  });
});

describe('steps per call at the start of a run', () => {
  it("'auto' starts at 4, and at 1 from 50M trained parameters (a K-step Loop holds one more state copy); a number is kept", () => {
    assert.equal(firstStepsPerRun('auto', 11e6), 4);
    assert.equal(firstStepsPerRun('auto', 108.9e6), 1);
    assert.equal(firstStepsPerRun(8, 108.9e6), 8);
  });
});

describe('trainer processes start with transparent huge pages for malloc', () => {
  it('adds glibc.malloc.hugetlb=1 to GLIBC_TUNABLES, keeping what is there and a hugetlb already chosen', () => {
    assert.equal(trainerEnv({ PATH: '/bin' }).GLIBC_TUNABLES, 'glibc.malloc.hugetlb=1');
    assert.equal(trainerEnv({ PATH: '/bin' }).PATH, '/bin');
    assert.equal(trainerEnv({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }).GLIBC_TUNABLES, 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1');
    assert.equal(trainerEnv({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }).GLIBC_TUNABLES, 'glibc.malloc.hugetlb=0');
    assert.equal(hasHugepageTunable(trainerEnv({})), true);
    assert.equal(hasHugepageTunable({}), false);
  });

  it("training programs drop ORT's arena with huge pages (and from 50M trained parameters), keep it with 4 KB pages", () => {
    assert.equal(arenaByDefault(11e6, false), true);
    assert.equal(arenaByDefault(11e6, true), false);
    assert.equal(arenaByDefault(110e6, false), false);
    // In a process started as trainers are: huge pages where glibc (2.35+) and the kernel (THP not `never`) give them.
    const thp = fs.existsSync('/sys/kernel/mm/transparent_hugepage/enabled') ? fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8') : '';
    const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime ?? '';
    const capable = process.platform === 'linux' && !!thp && !thp.includes('[never]') && Number(glibc.split('.')[1]) >= 35;
    const probe = (env: NodeJS.ProcessEnv) =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', "console.log(require('./src/shared/trainerEnv.ts').hugePagesActive())"], {
        cwd: path.resolve(__dirname, '..'),
        encoding: 'utf8',
        env,
      }).stdout.trim();
    const { GLIBC_TUNABLES: _g, ...plain } = process.env;
    assert.equal(probe(trainerEnv(plain)), String(capable));
    assert.equal(probe(plain), 'false');
  });
});

describe('finetune train refuses a run that cannot fit', () => {
  it('a BERT-large-sized config with batch 512: refused before allocating, with the estimate', () => {
    assert.ok(fs.existsSync(TRAINER), 'run `npm run build` first');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-mem-'));
    // 20 sentences of 120 words: batches pad to the 128 bucket.
    const words = Array.from({ length: 2400 }, (_, i) => `w${i % 50}\t${i % 7 ? 'O' : 'B-PER'}${i % 120 === 119 ? '\n' : ''}`);
    fs.writeFileSync(path.join(dir, 'train.txt'), words.join('\n') + '\n');
    const config = path.join(dir, 'large.finetune.yaml');
    fs.writeFileSync(
      config,
      [
        'task: token-classification',
        'model:',
        '  from_scratch: { layers: 24, hidden: 1024, heads: 16, intermediate: 4096, max_positions: 512, min_frequency: 1 }',
        'data: { format: conll, train: train.txt, max_length: 512 }',
        'training: { batch_size: 512, max_steps: 1 }',
        '',
      ].join('\n'),
    );
    // A broken check would start allocating BERT-large: the timeout stops that.
    const r = spawnSync(process.execPath, [TRAINER, 'train', config, '--run-dir', path.join(dir, 'run')], { encoding: 'utf8', timeout: 120_000 });
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stderr, /this run will not fit in memory: estimated peak memory \d+\.\d\d GB \(.*weights \d+\.\d\d GB.*activations \d+\.\d\d GB/);
    assert.match(r.stderr, /training\.memory_check: warn \(--force\)/);
    const run = JSON.parse(fs.readFileSync(path.join(dir, 'run', 'run.json'), 'utf8')) as { status: string; error?: { message: string } };
    assert.equal(run.status, 'failed');
    assert.match(run.error?.message ?? '', /will not fit in memory/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
