// `npm run bench:int8`: the int8 export (engine/quantize.ts, `finetune export --int8`) beside
// PyTorch's dynamic quantization, on the bundled NER example: evaluation tokens/s and the test F1
// each costs.
//
//   npm run bench:int8 [-- --rounds 5 --threads 2 --epochs 3 --markdown]
//
// 1. The example (examples/ner/ner.finetune.yaml, --epochs epochs) is trained once into
//    .cache/bench-int8/run (reused while it is there and completed).
// 2. Ours: model.onnx, and model.int8.onnx as `finetune export --int8` writes it (quantize_dynamic's
//    defaults), plus per-channel scales and ORT's fused DynamicQuantizeMatMul as two more rows.
// 3. PyTorch (bench/int8_py.py): the run's best checkpoint (the weights model.onnx was exported
//    from) loaded with Transformers, float32 and torch.ao.quantization.quantize_dynamic on nn.Linear
//    (qint8), on the same padded batches (the test split as evaluation batches it: sorted by length, 32).
// Every side's logits are scored by the same code (train/evaluate.ts scoreLogits), so the F1 column
// differs only by the model's numbers. Tokens/s: the split's tokens ([CLS]/[SEP] included, padding
// not) over the seconds of one pass of forward calls, median of the rounds; rounds interleave the
// sides so that machine noise hits them alike.
//
// Python: FINETUNE_BENCH_PYTHON, else .cache/py (scripts/setup_reference_venv.sh: torch 2.x and
// transformers), as bench/sweep.ts does.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, type ResolvedConfig } from '../src/shared/config/config';
import type { TrainerEvent } from '../src/shared/protocol';
import { readRunInfo, runPaths } from '../src/shared/run';
import type { TokenFeature } from '../src/trainer/encode';
import { parseModel, serializeModel } from '../src/trainer/engine/onnx';
import { quantizeDynamic, type QuantizeOptions } from '../src/trainer/engine/quantize';
import { Session } from '../src/trainer/engine/session';
import { readExported } from '../src/trainer/predict';
import { loadRunData, type RunData } from '../src/trainer/train/dataset';
import { EVAL_BATCH, Evaluator, scoreLogits } from '../src/trainer/train/evaluate';
import { exportInt8 } from '../src/trainer/train/export';
import { train } from '../src/trainer/train/trainer';

const ROOT = path.resolve(path.dirname(__filename), '..');
const WORK = path.join(ROOT, '.cache', 'bench-int8');
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const ROUNDS = Number(opt('rounds', '5'));
const THREADS = Number(opt('threads', '2'));
const EPOCHS = Number(opt('epochs', '3'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function python(): string {
  const given = process.env.FINETUNE_BENCH_PYTHON;
  if (given) return given;
  const venv = path.join(ROOT, '.cache', 'py', 'bin', 'python');
  if (fs.existsSync(venv)) return venv;
  throw new Error('bench:int8 needs a Python with torch 2.x and transformers: scripts/setup_reference_venv.sh (.cache/py), or FINETUNE_BENCH_PYTHON');
}

/** The example, trained once (reused while completed). */
async function trainedRun(): Promise<string> {
  const runDir = path.join(WORK, 'run');
  if (fs.existsSync(runPaths(runDir).model) && readRunInfo(runDir).status === 'completed') return runDir;
  fs.rmSync(runDir, { recursive: true, force: true });
  console.error(`bench:int8: training the NER example for ${EPOCHS} epochs into ${path.relative(ROOT, runDir)} (once)...`);
  const config = loadConfig(path.join(ROOT, 'examples', 'ner', 'ner.finetune.yaml'), { 'training.epochs': EPOCHS, threads: THREADS });
  const quiet = (_e: TrainerEvent) => {};
  const res = await train({ config, runDir, emit: quiet });
  if (res.status !== 'completed') throw new Error(`training the example ended ${res.status}`);
  return runDir;
}

/** The test split's features in evaluation's batches (Evaluator.logits: sorted by length, EVAL_BATCH each), padded. */
function batchesOf(features: TokenFeature[]) {
  const order = features.map((_, i) => i).sort((a, b) => features[a].inputIds.length - features[b].inputIds.length);
  const batches = [];
  for (let s = 0; s < order.length; s += EVAL_BATCH) {
    const ids = order.slice(s, s + EVAL_BATCH);
    const T = Math.max(...ids.map((i) => features[i].inputIds.length));
    const pad = (xs: number[]) => [...xs, ...new Array<number>(T - xs.length).fill(0)];
    batches.push({
      ids,
      input_ids: ids.map((i) => pad(features[i].inputIds)),
      attention_mask: ids.map((i) => pad(features[i].attentionMask)),
      lengths: ids.map((i) => features[i].inputIds.length),
    });
  }
  return batches;
}

interface Row {
  name: string;
  bytes?: number;
  tps: number[];
  f1?: number;
}

async function main() {
  fs.mkdirSync(WORK, { recursive: true });
  const runDir = await trainedRun();
  const x = readExported(runDir);
  const data: RunData = await loadRunData(readRunInfo(runDir).config as ResolvedConfig, x.tokenizerDir, x.labels.labels);
  const features = data.test!.features as TokenFeature[];
  const C = data.labels.length;
  const tokens = features.reduce((n, f) => n + f.inputIds.length, 0);
  const score = (logits: Float32Array[]) =>
    scoreLogits(data, 'test', logits, { step: 0, epoch: 0, mode: (readRunInfo(runDir).config as ResolvedConfig).evaluation.mode, maxMisclassified: 0 }).record
      .metrics.f1!;

  // Ours: model.onnx, model.int8.onnx (as `finetune export --int8`), and two variants.
  const fp32 = fs.readFileSync(x.model);
  const made = exportInt8(runDir);
  const variants: [string, QuantizeOptions][] = [
    ['per-channel', { perChannel: true }],
    ['fused', { fused: true }],
  ];
  const models: [string, Uint8Array][] = [
    ['ours fp32 (model.onnx)', fp32],
    ['ours int8 (model.int8.onnx: quantize_dynamic defaults)', fs.readFileSync(made.path)],
    ...variants.map(
      ([n, o]) =>
        [`ours int8, ${n === 'fused' ? 'fused DynamicQuantizeMatMul' : 'per-channel scales'}`, serializeModel(quantizeDynamic(parseModel(fp32), o).graph)] as [
          string,
          Uint8Array,
        ],
    ),
  ];
  const inputs = [
    { name: 'input_ids', dtype: 'int64' as const, shape: ['batch', 'sequence'] },
    { name: 'attention_mask', dtype: 'int64' as const, shape: ['batch', 'sequence'] },
  ];
  const evaluators = await Promise.all(
    models.map(async ([, bytes]) => new Evaluator(await Session.create(bytes, inputs, { threads: THREADS, device: 'cpu' }), { head: 'token', numLabels: C })),
  );
  const rows: Row[] = models.map(([name, bytes]) => ({ name, bytes: bytes.length, tps: [] }));
  for (const [i, ev] of evaluators.entries()) rows[i].f1 = score(await ev.logits(features)); // also the warm-up

  // PyTorch: the same batches, float32 and quantize_dynamic.
  const py = python();
  const batches = batchesOf(features);
  const batchFile = path.join(WORK, 'batches.json');
  fs.writeFileSync(batchFile, JSON.stringify({ batches }));
  const checkpoint = runPaths(runDir).checkpoint('best');
  const torchRows: Row[] = [
    { name: 'PyTorch fp32 (Transformers, the best checkpoint)', tps: [] },
    { name: 'PyTorch int8 (torch.ao quantize_dynamic, nn.Linear qint8)', tps: [] },
  ];
  let torchVersion = '';
  const runTorch = (mode: 'fp32' | 'int8', row: Row) => {
    const out = path.join(os.tmpdir(), `finetune-bench-int8-${process.pid}-${mode}.f32`);
    const r = spawnSync(py, [path.join(ROOT, 'bench', 'int8_py.py'), checkpoint, batchFile, mode, String(THREADS), out], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: String(THREADS), TOKENIZERS_PARALLELISM: 'false' },
    });
    if (r.status !== 0) throw new Error(`bench/int8_py.py ${mode} failed:\n${r.stderr.slice(-3000)}`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number; torch: string };
    torchVersion = res.torch;
    row.tps.push(tokens / res.seconds);
    if (row.f1 === undefined) {
      // Logits come back in batch order; put them back in feature order for scoring.
      const flat = new Float32Array(fs.readFileSync(out).buffer.slice(0));
      const logits = new Array<Float32Array>(features.length);
      let off = 0;
      for (const b of batches)
        for (const i of b.ids) {
          const n = features[i].inputIds.length * C;
          logits[i] = flat.slice(off, off + n);
          off += n;
        }
      row.f1 = score(logits);
    }
    fs.rmSync(out, { force: true });
  };

  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, ev] of evaluators.entries()) {
      const t = performance.now();
      await ev.logits(features);
      rows[i].tps.push(tokens / ((performance.now() - t) / 1000));
    }
    runTorch('fp32', torchRows[0]);
    runTorch('int8', torchRows[1]);
    console.error(`round ${round + 1}/${ROUNDS}: ${[...rows, ...torchRows].map((r) => r.tps[r.tps.length - 1].toFixed(0)).join(' / ')} tokens/s`);
  }
  for (const ev of evaluators) await ev.release();
  printTable([...rows, ...torchRows], { tokens, features: features.length, torchVersion, made });
}

function printTable(rows: Row[], o: { tokens: number; features: number; torchVersion: string; made: ReturnType<typeof exportInt8> }) {
  const [ours32, ours8, , , torch32, torch8] = rows;
  const med = (r: Row) => median(r.tps);
  console.log(
    `\nNER example (examples/ner, ${EPOCHS} epochs), test split: ${o.features} windows, ${o.tokens} tokens; ${THREADS} threads; medians of ${ROUNDS} rounds; PyTorch ${o.torchVersion}; ${os.cpus()[0]?.model ?? 'cpu'}\n`,
  );
  console.log('| model | eval tokens/s | × its fp32 | test F1 | F1 cost | model file |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const base = r.name.startsWith('PyTorch') ? torch32 : ours32;
    const file = r.bytes ? `${(r.bytes / 1e6).toFixed(2)} MB` : '—';
    console.log(
      `| ${r.name} | ${med(r).toFixed(0)} | ${(med(r) / med(base)).toFixed(2)}× | ${r.f1!.toFixed(4)} | ${r === base ? '—' : (r.f1! - base.f1!).toFixed(4)} | ${file} |`,
    );
  }
  console.log(
    `\nours int8 / PyTorch int8: ${(med(ours8) / med(torch8)).toFixed(2)}× the tokens/s; ours fp32 / PyTorch fp32: ${(med(ours32) / med(torch32)).toFixed(2)}×. ` +
      `model.int8.onnx quantized ${o.made.report.matmuls.length} MatMul weights and ${o.made.report.embeddings.length} embedding tables ` +
      `(${(o.made.report.floatBytes / 1e6).toFixed(2)} MB of float32 -> ${(o.made.report.quantizedBytes / 1e6).toFixed(2)} MB).`,
  );
  if (Math.abs(ours32.f1! - torch32.f1!) > 1e-3)
    console.log(`WARNING: fp32 F1 differs between ours (${ours32.f1}) and PyTorch (${torch32.f1}): not the same weights?`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
});
