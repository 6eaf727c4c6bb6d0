// The exported inference model of a run: model.onnx (forward only, any batch size and length),
// labels.json and the tokenizer files, usable from any ONNX Runtime; and on request
// model.int8.onnx, model.onnx dynamically quantized (engine/quantize.ts).

import * as fs from 'node:fs';
import { parseModel, serializeModel } from '../engine/onnx';
import { quantizeDynamic, type QuantizeOptions, type QuantizeReport } from '../engine/quantize';
import { writeTokenizerFolder } from '../tokenize';
import { runPaths, writeFileAtomic, writeJsonAtomic } from '../../shared/run';
import type { RunData } from './dataset';
import { inferenceGraph, type ModelSetup } from './model';

/** model.onnx (any batch and length), labels.json and the tokenizer files in the run folder. */
export function exportModel(dir: string, m: ModelSetup, data: RunData): void {
  const g = inferenceGraph(m, false);
  const out = runPaths(dir);
  writeFileAtomic(out.model, serializeModel(g));
  writeJsonAtomic(out.labels, { task: data.task, labels: data.labels, maxLength: m.config.maxPositions });
  writeTokenizerFolder(out.tokenizer, data.tokenizer);
}

export interface Int8Export {
  path: string;
  /** Sizes of model.onnx and model.int8.onnx in bytes. */
  bytes: { fp32: number; int8: number };
  report: QuantizeReport;
}

/**
 * model.int8.onnx beside a run's model.onnx: the same model read back and quantized as ONNX
 * Runtime's quantize_dynamic does (int8 weight MatMuls, uint8 embedding tables). The caller checks
 * that model.onnx exists (predict.ts readExported says why it does not); it is only read.
 */
export function exportInt8(dir: string, o: QuantizeOptions = {}): Int8Export {
  const p = runPaths(dir);
  const fp32 = fs.readFileSync(p.model);
  const { graph, report } = quantizeDynamic(parseModel(fp32), o);
  if (report.matmuls.length === 0) throw new Error(`${p.model} has no MatMul with a float32 weight to quantize`);
  const bytes = serializeModel(graph);
  writeFileAtomic(p.modelInt8, bytes);
  return { path: p.modelInt8, bytes: { fp32: fp32.length, int8: bytes.length }, report };
}
