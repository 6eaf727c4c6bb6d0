// The exported inference model of a run: model.onnx (forward only, any batch size and length),
// labels.json and the tokenizer files, usable from any ONNX Runtime.

import { serializeModel } from '../engine/onnx';
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
