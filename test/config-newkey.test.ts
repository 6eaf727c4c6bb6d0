// Adding a config key means: a schema entry, a default, and optionally a semantic check, nothing
// else. This test registers two keys that do not exist (a leaf in a defaulted section and a key
// inside the `{ lora: {...} }` branch of model.peft) in the one CONFIG_SCHEMA object every module
// reads, and then checks, through the real code paths, that the resolved config, the diagnostics,
// the editor's hover lookup, `--set` overrides and sweeps all know them.
//
// The keys are added before anything in this process validates (the Ajv validators compile on
// first use, and node --test runs every test file in its own process).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { configHash, expandSweep, formatConfigError, parseSetArgs, validateConfigText } from '../src/shared/config/config';
import { CONFIG_SCHEMA, schemaAt, type JsonSchema } from '../src/shared/config/schema';
import { displayValue, isLeafKey, keyAtOffset, resolvedValue } from '../src/extension/core/configKeys';

/** Adds a property to the schema in place, as an edit to schema.ts would. */
function register(dotted: string, node: JsonSchema): void {
  assert.equal(schemaAt(dotted), undefined, `${dotted} already exists; pick a new key for this test`);
  const parent = schemaAt(dotted.split('.').slice(0, -1).join('.'), CONFIG_SCHEMA)!;
  const holder = [parent, ...(parent.anyOf ?? [])].find((n) => n.properties)!;
  holder.properties![dotted.split('.').pop()!] = node;
}

const SMOOTHING = 'Label smoothing for the cross-entropy loss (a test-only key).';
register('training.label_smoothing', { description: SMOOTHING, type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0 });
register('model.peft.lora.bias', { description: 'Which biases train with LoRA (a test-only key).', type: 'string', enum: ['none', 'all'], default: 'none' });

const FILE = '/runs/newkey.finetune.yaml';
const TEXT = `task: token-classification
model:
  pretrained: ./bert
  peft:
    lora: {rank: 4, bias: all}
data: {format: conll, train: train.txt}
training:
  lr: 3.0e-5
  label_smoothing: 0.1
`;
const WITHOUT = TEXT.replace('  label_smoothing: 0.1\n', '').replace(', bias: all', '');

const errorsOf = (text: string, overrides?: Record<string, unknown>) => validateConfigText(text, FILE, overrides).errors.map(formatConfigError);
const offsetOf = (text: string, needle: string, plus = 0) => {
  const i = text.indexOf(needle);
  assert.ok(i >= 0, needle);
  return i + plus;
};

describe('a new config key needs only its schema entry', () => {
  it('resolves to its camelCase name, written or defaulted, and counts in the hash', () => {
    const r = validateConfigText(TEXT, FILE);
    assert.deepEqual(r.errors, []);
    const c = r.config as unknown as { training: Record<string, unknown>; model: { peft: Record<string, unknown> } };
    assert.equal(c.training.labelSmoothing, 0.1);
    assert.deepEqual(c.model.peft, { kind: 'lora', rank: 4, alpha: 16, dropout: 0, targets: ['query', 'value'], bias: 'all' });

    const d = validateConfigText(WITHOUT, FILE).config as unknown as typeof c;
    assert.equal(d.training.labelSmoothing, 0);
    assert.equal(d.model.peft.bias, 'none');
    assert.notEqual(configHash(r.config!), configHash(validateConfigText(TEXT.replace('0.1', '0.2'), FILE).config!));
  });

  it('diagnostics: schema errors and did-you-mean at file:line:col', () => {
    assert.deepEqual(errorsOf(TEXT.replace('label_smoothing: 0.1', 'label_smoothing: 1.5')), [`${FILE}:9:20: training.label_smoothing must be < 1, got 1.5`]);
    assert.deepEqual(errorsOf(TEXT.replace('label_smoothing: 0.1', 'label_smothing: 0.1')), [
      `${FILE}:9:3: unknown key 'label_smothing' — did you mean 'label_smoothing'?`,
    ]);
    assert.deepEqual(errorsOf(TEXT.replace('bias: all', 'bias: al')), [
      `${FILE}:5:27: model.peft.lora.bias must be one of 'none', 'all', got 'al' — did you mean 'all'?`,
    ]);
  });

  it('hover: the key at the cursor, its description and its resolved value', () => {
    const config = validateConfigText(TEXT, FILE).config!;
    for (const [needle, key, value] of [
      ['label_smoothing', 'training.label_smoothing', '0.1'],
      ['0.1', 'training.label_smoothing', '0.1'],
      ['bias', 'model.peft.lora.bias', 'all'],
    ] as const) {
      const k = keyAtOffset(TEXT, offsetOf(TEXT, needle, 1))!;
      assert.equal(k.key, key);
      assert.ok(isLeafKey(k.key));
      assert.ok(schemaAt(k.key)?.description);
      assert.equal(displayValue(resolvedValue(config, k.key)), value);
    }
    assert.equal(schemaAt('training.label_smoothing')?.description, SMOOTHING);
    const swept = `${TEXT}sweep:\n  training.label_smoothing: [0, 0.2]\n`;
    const s = keyAtOffset(swept, offsetOf(swept, 'training.label_smoothing: [', 3))!;
    assert.deepEqual([s.key, s.inSweep], ['training.label_smoothing', true]);
  });

  it('--set overrides it (and its errors name the override)', () => {
    const overrides = parseSetArgs(['training.label_smoothing=0.2', 'model.peft.lora.bias=all']);
    const c = validateConfigText(WITHOUT, FILE, overrides).config as unknown as { training: Record<string, unknown>; model: { peft: Record<string, unknown> } };
    assert.equal(c.training.labelSmoothing, 0.2);
    assert.equal(c.model.peft.bias, 'all');
    assert.deepEqual(errorsOf(WITHOUT, parseSetArgs(['training.label_smoothing=2'])), [
      `${FILE}:7:1: training.label_smoothing must be < 1, got 2 (override training.label_smoothing=2)`,
    ]);
  });

  it('sweeps over it, validating every value', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ft-newkey-'));
    try {
      const file = path.join(dir, 'newkey.finetune.yaml');
      fs.writeFileSync(file, `${WITHOUT}sweep:\n  training.label_smoothing: [0, 0.2]\n`);
      const c = validateConfigText(fs.readFileSync(file, 'utf8'), file).config!;
      assert.deepEqual(expandSweep(c, file), [
        { overrides: { 'training.label_smoothing': 0 }, name: 'newkey[label_smoothing=0]' },
        { overrides: { 'training.label_smoothing': 0.2 }, name: 'newkey[label_smoothing=0.2]' },
      ]);
      const bad = `${WITHOUT}sweep:\n  training.label_smoothing: [0, 1.5]\n`;
      assert.deepEqual(errorsOf(bad), [`${FILE}:10:33: sweep['training.label_smoothing'][1] must be < 1, got 1.5`]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
