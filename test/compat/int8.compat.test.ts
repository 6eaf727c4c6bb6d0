// The int8 export judged by ONNX Runtime's own tool: Python's onnxruntime.quantization.quantize_dynamic
// of the same model.onnx (test/compat/py/int8_reference.py) against `finetune export --int8`.
// Without the Python environment (test/compat/requirements.txt) this is one skipped test saying why.
//
// Tolerance: logits within 1e-5 of the float32 logits' largest magnitude (the same int8 arithmetic
// on both sides; observed ~1e-7, from float32 summation order).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ResolvedConfig } from '../../src/shared/config/config';
import { readRunInfo, runPaths } from '../../src/shared/run';
import type { TokenFeature } from '../../src/trainer/encode';
import { Session } from '../../src/trainer/engine/session';
import { readExported } from '../../src/trainer/predict';
import { loadRunData } from '../../src/trainer/train/dataset';
import { tinyWorkspace } from '../helpers/tinyrun';
import { compatPython, finetune, py } from './pyenv';

const env = compatPython();

interface Reference {
  checker: string;
  ort: string;
  ops_theirs: string[];
  ops_ours: string[];
  matched: Record<string, boolean>;
  ours: number[];
  theirs: number[];
  fp32: number[];
}

if ('skip' in env) {
  it('int8 export against Python onnxruntime quantize_dynamic', { skip: env.skip }, () => {});
} else {
  describe("int8 export against Python onnxruntime's quantize_dynamic", () => {
    const ws = tinyWorkspace('', { train: 96, dev: 16 });
    const runDir = path.join(ws.dir, 'run');
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'finetune-int8-'));
    after(() => fs.rmSync(work, { recursive: true, force: true }));
    let ref: Reference;
    let ours: Float32Array;

    before(async () => {
      finetune(['train', ws.config, '--run-dir', runDir, '--threads', '1', '--device', 'cpu', '--set', 'training.epochs=2']);
      finetune(['export', '--int8', runDir]);
      // The first test sentences, padded to the longest: the same batch on both sides.
      const x = readExported(runDir);
      const data = await loadRunData(readRunInfo(runDir).config as ResolvedConfig, x.tokenizerDir, x.labels.labels);
      const feats = (data.test!.features as TokenFeature[]).slice(0, 8);
      const T = Math.max(...feats.map((f) => f.inputIds.length));
      const pad = (xs: number[]) => [...xs, ...new Array<number>(T - xs.length).fill(0)];
      const inputs = { input_ids: feats.map((f) => pad(f.inputIds)), attention_mask: feats.map((f) => pad(f.attentionMask)) };
      fs.writeFileSync(path.join(work, 'inputs.json'), JSON.stringify(inputs));
      const p = runPaths(runDir);
      ref = await py<Reference>('int8_reference.py', [p.model, p.modelInt8, path.join(work, 'inputs.json'), work]);
      const s = await Session.create(
        fs.readFileSync(p.modelInt8),
        [
          { name: 'input_ids', dtype: 'int64', shape: ['batch', 'sequence'] },
          { name: 'attention_mask', dtype: 'int64', shape: ['batch', 'sequence'] },
        ],
        { threads: 1, device: 'cpu' },
      );
      const B = feats.length;
      const big = (rows: number[][]) => BigInt64Array.from(rows.flat(), (v) => BigInt(v));
      const out = await s.run({
        input_ids: { dtype: 'int64', shape: [B, T], data: big(inputs.input_ids) },
        attention_mask: { dtype: 'int64', shape: [B, T], data: big(inputs.attention_mask) },
      });
      ours = out.logits.data as Float32Array;
      await s.release();
    });

    it("passes onnx.checker (full check) and loads in Python's onnxruntime, with the same op types as quantize_dynamic's model", () => {
      assert.equal(ref.checker, 'ok');
      assert.deepEqual(ref.ops_ours, ref.ops_theirs);
      assert.ok(ref.ops_ours.includes('MatMulInteger') && ref.ops_ours.includes('DynamicQuantizeLinear'));
    });

    it('holds bit-identical int8/uint8 values, scales and zero points for every tensor quantize_dynamic quantized', () => {
      assert.ok(Object.keys(ref.matched).length >= 10, `quantize_dynamic quantized ${Object.keys(ref.matched).length} tensors`);
      assert.deepEqual(
        Object.entries(ref.matched).filter(([, ok]) => !ok),
        [],
      );
    });

    it("gives quantize_dynamic's logits (within 1e-5 of scale), in Python's onnxruntime and in onnxruntime-node", () => {
      const scale = Math.max(...ref.fp32.map(Math.abs));
      const worst = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a, (v, i) => Math.abs(v - b[i])).reduce((m, d) => Math.max(m, d), 0) / scale;
      assert.ok(worst(ref.ours, ref.theirs) <= 1e-5, `ours vs quantize_dynamic in Python: ${worst(ref.ours, ref.theirs)}`);
      assert.ok(worst(ours, ref.theirs) <= 1e-5, `ours in onnxruntime-node vs quantize_dynamic in Python: ${worst(ours, ref.theirs)}`);
      // and they are int8 logits, not float32 ones
      assert.ok(worst(ref.theirs, ref.fp32) > 1e-5);
    });
  });
}
