// Run identity (src/shared/run/identity.ts): short ids and the labels that tell the runs of one
// config apart, from resolved configs as run.json holds them.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  formatLabelNumber,
  isRenamed,
  LABEL_MAX,
  runIdentities,
  runLabels,
  shortKeys,
  shortRunId,
  shortRunIds,
  type IdentityRun,
} from '../src/shared/run/identity';

const CFG = '/w/textcls/textcls.finetune.yaml';

/** A resolved config (camelCase, as run.json holds it) like the textcls example's. */
function resolved(edit: (c: Record<string, any>) => void = () => {}): Record<string, any> {
  const c: Record<string, any> = {
    name: 'textcls',
    task: 'sequence-classification',
    configPath: CFG,
    baseDir: path.dirname(CFG),
    model: { fromScratch: { layers: 2, hidden: 128, heads: 4 }, dropout: 0.1, attentionDropout: 0.1, peft: { kind: 'none' } },
    data: { format: 'jsonl', train: '/w/textcls/data/train.jsonl', validation: '/w/textcls/data/dev.jsonl', maxLength: 64 },
    training: {
      epochs: 8,
      batchSize: 32,
      lr: 1e-3,
      weightDecay: 0.01,
      warmupRatio: 0.1,
      earlyStopping: { metric: 'accuracy', mode: 'max', patience: 2, minDelta: 0 },
    },
    evaluation: { every: 'epoch', metric: 'accuracy' },
    device: 'auto',
    threads: 0,
    seed: 42,
  };
  edit(c);
  return c;
}

/** A run as run.json has it: its name is its config's name (as the trainer and the extension write it). */
function run(id: string, edit?: (c: Record<string, any>) => void, o: Partial<IdentityRun> = {}): IdentityRun {
  const config = resolved(edit);
  return { id, name: config.name as string, configPath: CFG, config, ...o };
}

const labels = (runs: IdentityRun[]) => [...runLabels(runs).values()];

describe('run identity: short ids', () => {
  it('7 hex digits of the folder id, the same on every call', () => {
    const id = '20261130-175228-textcls';
    assert.match(shortRunId(id), /^[0-9a-f]{7}$/);
    assert.equal(shortRunId(id), shortRunId(`${id}`));
    assert.notEqual(shortRunId(id), shortRunId('20261130-175228-textcls-1'));
    assert.equal(shortRunIds([id]).get(id), shortRunId(id));
  });

  it('the digits are spread: no digit position is stuck (the hash top bits are not used)', () => {
    const firsts = new Set(Array.from({ length: 400 }, (_, i) => shortRunId(`20261130-1752${i}-x`)[0]));
    assert.equal(firsts.size, 16);
  });

  it('lengthened only for the ids whose 7 digits a sibling shares, so all are unique', () => {
    // find two real ids whose first 7 digits collide (a birthday search over 28 bits)
    const seen = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const id = `20261130-${String(i).padStart(6, '0')}-textcls`;
      const s = shortRunId(id);
      const other = seen.get(s);
      if (other) pair = [other, id];
      else seen.set(s, id);
    }
    const [a, b] = pair;
    const ids = shortRunIds([a, b, 'lonely']);
    assert.equal(ids.get('lonely'), shortRunId('lonely'));
    assert.ok(ids.get(a)!.length > 7 && ids.get(b)!.length > 7, `${ids.get(a)} ${ids.get(b)}`);
    assert.notEqual(ids.get(a), ids.get(b));
    assert.ok(ids.get(a)!.startsWith(shortRunId(a)));
  });

  it('unique among 20,000 siblings', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `20261130-${i}-sweep`);
    const short = shortRunIds(ids);
    assert.equal(new Set(short.values()).size, ids.length);
  });
});

describe('run identity: labels', () => {
  it('a sweep over training.lr: `lr=…` from the values, the run name (which a sweep sets per trial) left out', () => {
    const runs = [
      run('a', (c) => ((c.training.lr = 3e-4), (c.name = 'textcls[lr=0.0003]'))),
      run('b', (c) => ((c.training.lr = 1e-3), (c.name = 'textcls[lr=0.001]'))),
    ];
    assert.deepEqual(labels(runs), ['lr=3e-4', 'lr=1e-3']);
  });

  it('common keys are abbreviated, most telling first, in the config’s snake_case keys', () => {
    const runs = [
      run('a', (c) => ((c.training.lr = 3e-4), (c.training.batchSize = 32), (c.training.weightDecay = 0))),
      run('b', (c) => ((c.training.lr = 1e-3), (c.training.batchSize = 16), (c.training.weightDecay = 0.01))),
    ];
    assert.deepEqual(labels(runs), ['lr=3e-4 · bs=32 · wd=0', 'lr=1e-3 · bs=16 · wd=0.01']);
    const r = [run('a', (c) => (c.training.warmupRatio = 0.05)), run('b', (c) => (c.training.warmupRatio = 0.2))];
    assert.deepEqual(labels(r), ['warmup=0.05', 'warmup=0.2']);
  });

  it('other keys by their last segment; two that read the same get more segments', () => {
    const runs = [
      run('a', (c) => ((c.training.earlyStopping.metric = 'f1'), (c.evaluation.metric = 'f1'))),
      run('b', (c) => ((c.training.earlyStopping.metric = 'loss'), (c.evaluation.metric = 'loss'))),
    ];
    assert.deepEqual(labels(runs), ['early_stopping.metric=f1 · evaluation.metric=f1', 'early_stopping.metric=loss · evaluation.metric=loss']);
    const p = [run('a', (c) => (c.training.earlyStopping.patience = 2)), run('b', (c) => (c.training.earlyStopping.patience = 5))];
    assert.deepEqual(labels(p), ['patience=2', 'patience=5']);
    assert.deepEqual([...shortKeys(['training.lr', 'a.b.metric', 'c.b.metric', 'x.metric']).values()], ['lr', 'a.b.metric', 'c.b.metric', 'x.metric']);
  });

  it('nested keys: LoRA against full fine-tuning says peft=…, and the rank only where it tells LoRA runs apart', () => {
    const lora = (rank: number) => (c: Record<string, any>) => (c.model.peft = { kind: 'lora', rank, alpha: 16, dropout: 0, targets: ['query', 'value'] });
    assert.deepEqual(labels([run('full'), run('r8', lora(8))]), ['peft=none', 'peft=lora']);
    assert.deepEqual(labels([run('full'), run('r8', lora(8)), run('r16', lora(16))]), ['peft=none', 'peft=lora · r=8', 'peft=lora · r=16']);
    assert.deepEqual(labels([run('r8', lora(8)), run('r16', lora(16))]), ['r=8', 'r=16']);
  });

  it('a key one run lacks: `–`; a section one run lacks: on/off', () => {
    assert.deepEqual(labels([run('a'), run('b', (c) => (c.training.maxSteps = 100))]), ['steps=–', 'steps=100']);
    assert.deepEqual(labels([run('a'), run('b', (c) => delete c.training.earlyStopping)]), ['early_stopping=on', 'early_stopping=off']);
  });

  it('numbers compactly: 3e-4, 0.1, 32; as many digits as keep two values apart', () => {
    const cases: [number, string][] = [
      [3e-4, '3e-4'],
      [0.1, '0.1'],
      [32, '32'],
      [0.01, '0.01'],
      [0.001, '1e-3'],
      [2.5e-5, '2.5e-5'],
      [0.3333333, '0.333'],
      [-1e-4, '-1e-4'],
      [1.5e7 + 0.5, '1.5e7'],
    ];
    for (const [v, want] of cases) assert.equal(formatLabelNumber(v), want, String(v));
    const runs = [run('a', (c) => (c.training.lr = 1e-3)), run('b', (c) => (c.training.lr = 1.0004e-3))];
    assert.deepEqual(labels(runs), ['lr=1e-3', 'lr=1.0004e-3']);
    // one notation per key: 0.0015 beside 1e-3 is written 1.5e-3
    assert.deepEqual(labels([runs[0], run('c', (c) => (c.training.lr = 0.0015))]), ['lr=1e-3', 'lr=1.5e-3']);
    assert.deepEqual(labels([run('d', (c) => (c.model.dropout = 0.1)), run('e', (c) => (c.model.dropout = 0.25))]), ['dropout=0.1', 'dropout=0.25']);
  });

  it('paths by as many trailing segments as tell them apart; booleans and lists as written', () => {
    const runs = [
      run('a', (c) => ((c.data.train = '/w/a/train.jsonl'), (c.training.shuffle = true), (c.training.noDecay = ['bias']))),
      run('b', (c) => ((c.data.train = '/w/b/train.jsonl'), (c.training.shuffle = false), (c.training.noDecay = ['bias', 'norm']))),
    ];
    assert.deepEqual(labels(runs), ['train=a/train.jsonl · shuffle=true · no_decay=[bias]', 'train=b/train.jsonl · shuffle=false · no_decay=[bias,norm]']);
  });

  it('a run with no sibling is its name; runs that differ in nothing are told apart by their short ids', () => {
    assert.deepEqual(labels([run('only')]), ['textcls']);
    const same = [run('x1'), run('x2'), run('x3', (c) => (c.seed = 7))];
    assert.deepEqual(labels(same), [`seed=42 #${shortRunId('x1')}`, `seed=42 #${shortRunId('x2')}`, 'seed=7']);
    assert.deepEqual(labels([run('y1'), run('y2')]), [`textcls #${shortRunId('y1')}`, `textcls #${shortRunId('y2')}`]);
  });

  it('siblings are the runs of the same config path; other configs do not count', () => {
    const other = { ...run('o', (c) => (c.training.lr = 5)), configPath: '/w/other.finetune.yaml' };
    assert.deepEqual(labels([run('a'), other]), ['textcls', 'textcls']);
  });

  it("a rename wins over the computed label (run.json `renamed`); old run folders: a name that is not the config's", () => {
    const runs = [run('a', (c) => (c.training.lr = 3e-4)), run('b', (c) => (c.training.lr = 1e-3), { name: 'baseline', renamed: true })];
    assert.deepEqual(labels(runs), ['lr=3e-4', 'baseline']);
    // renamed back: the label is computed again even though the name is the config's
    assert.deepEqual(labels([runs[0], { ...runs[1], name: 'textcls', renamed: false }]), ['lr=3e-4', 'lr=1e-3']);
    // a run folder from before `renamed`: its name differs from its config's name, so a user gave it
    const legacy = { ...runs[1], renamed: undefined };
    assert.equal(isRenamed(legacy), true);
    assert.equal(isRenamed({ ...legacy, name: 'textcls' }), false);
    assert.deepEqual(labels([runs[0], legacy]), ['lr=3e-4', 'baseline']);
    // `renamed: true` is taken at its word, whatever the name
    assert.equal(isRenamed({ name: 'textcls', config: resolved(), renamed: true }), true);
  });

  it('a run whose config did not validate is its name', () => {
    const bad = { id: 'bad', name: 'textcls', configPath: CFG, config: null };
    assert.deepEqual(labels([run('a', (c) => (c.training.lr = 3e-4)), run('b'), bad]), ['lr=3e-4', 'lr=1e-3', 'textcls']);
  });

  it('many siblings: a 10 × 10 grid over lr and batch size gives 100 distinct labels within LABEL_MAX', () => {
    const runs: IdentityRun[] = [];
    for (let i = 0; i < 10; i++)
      for (let j = 0; j < 10; j++) runs.push(run(`g${i}-${j}`, (c) => ((c.training.lr = 1e-5 * (i + 1)), (c.training.batchSize = 8 * (j + 1)))));
    const ls = labels(runs);
    assert.equal(new Set(ls).size, 100);
    assert.equal(ls[0], 'lr=1e-5 · bs=8');
    assert.equal(ls[99], 'lr=1e-4 · bs=80');
    assert.ok(ls.every((l) => l.length <= LABEL_MAX));
  });

  it('capped at LABEL_MAX characters, with an ellipsis; a clipped label that collides keeps its short id', () => {
    const runs = [
      run('a', (c) =>
        Object.assign(c.training, { lr: 1e-3, batchSize: 16, epochs: 3, weightDecay: 0.1, warmupRatio: 0.2, schedule: 'cosine', optimizer: 'sgd' }),
      ),
      run('b', (c) =>
        Object.assign(c.training, { lr: 2e-3, batchSize: 32, epochs: 4, weightDecay: 0.2, warmupRatio: 0.3, schedule: 'linear', optimizer: 'adamw' }),
      ),
    ];
    const ls = labels(runs);
    for (const l of ls) assert.ok(l.length <= LABEL_MAX && l.endsWith('…'), l);
    assert.match(ls[0], /^lr=1e-3 · bs=16 · epochs=3 · /);
    // c differs from a only in seed, which comes after what fits: their clipped labels end with their short ids
    const c = run('c', (c) => ((c.training = { ...(runs[0].config as Record<string, any>).training }), (c.seed = 7)));
    const ids = runIdentities([...runs, c]);
    const [la, lb, lc] = ['a', 'b', 'c'].map((id) => ids.get(id)!.label);
    assert.ok(la.endsWith(`… #${shortRunId('a')}`) && lc.endsWith(`… #${shortRunId('c')}`), `${la} / ${lc}`);
    assert.ok(!lb.includes('#'), lb);
    for (const l of [la, lb, lc]) assert.ok(l.length <= LABEL_MAX, l);
  });

  it('configs in written keys give the same labels as resolved ones', () => {
    const written = (id: string, lr: number) => ({
      id,
      name: 'textcls',
      configPath: CFG,
      config: { name: 'textcls', training: { lr, batch_size: 32 }, model: { peft: 'none' } },
    });
    assert.deepEqual(labels([written('a', 3e-4), written('b', 1e-3)]), ['lr=3e-4', 'lr=1e-3']);
  });

  it('identity.ts is browser-safe: it and what it imports use no Node built-in', () => {
    const seen = new Set<string>();
    const bad: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^(?:import|export)[^;]*? from '([^']+)'/gms)) {
        const spec = m[1];
        if (!spec.startsWith('.')) bad.push(`${path.basename(file)} imports ${spec}`);
        else visit(path.resolve(path.dirname(file), `${spec}.ts`));
      }
    };
    visit(path.resolve(__dirname, '../src/shared/run/identity.ts'));
    assert.deepEqual(bad, []);
    assert.ok(seen.size >= 3, 'the walk follows the imports');
  });
});
