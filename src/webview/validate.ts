// Field-level validation of what the host sends. `isHostToWebview` only checks the type tag; these
// check every field the dashboard reads. Bad messages are dropped whole; inside a good history or
// append message, bad records are dropped one by one.

import {
  isHostToWebview,
  type EvalRecord,
  type HostToWebview,
  type MetricsRecord,
  type MisclassifiedExample,
  type PrfJson,
  type RunSummary,
  type TrainRecord,
} from '../shared/protocol';

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isNum = (x: unknown): x is number => typeof x === 'number' && !Number.isNaN(x);
const isFiniteNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const optNum = (x: unknown) => x === undefined || isNum(x);
const optStr = (x: unknown) => x === undefined || isStr(x);
const STATUSES = new Set(['queued', 'running', 'completed', 'failed', 'stopped', 'pruned']);
const SPLITS = new Set(['validation', 'test']);

export function isRunSummary(x: unknown): x is RunSummary {
  if (!isObj(x)) return false;
  if (!isStr(x.id) || !isStr(x.name) || !isStr(x.dir) || !isStr(x.configPath)) return false;
  if (!STATUSES.has(x.status as string) || !isFiniteNum(x.step)) return false;
  if (!optNum(x.totalSteps) || !optNum(x.epoch) || !optStr(x.startedAt) || !optStr(x.endedAt) || !optStr(x.notes)) return false;
  if (!optStr(x.shortId) || !optStr(x.label)) return false;
  if (x.device !== undefined && !(isObj(x.device) && isStr(x.device.used) && isFiniteNum(x.device.threads))) return false;
  if (x.best !== undefined && !(isObj(x.best) && isStr(x.best.metric) && isNum(x.best.value) && isFiniteNum(x.best.step))) return false;
  if (x.final !== undefined && !isNumRecord(x.final)) return false;
  if (x.error !== undefined && !(isObj(x.error) && isStr(x.error.message))) return false;
  if (x.tags !== undefined && !(Array.isArray(x.tags) && x.tags.every(isStr))) return false;
  return true;
}

function isNumRecord(x: unknown): x is Record<string, number> {
  return isObj(x) && Object.values(x).every(isNum);
}

function isPrf(x: unknown): x is PrfJson {
  return isObj(x) && isNum(x.precision) && isNum(x.recall) && isNum(x.f1) && isNum(x.support);
}

function isReport(x: unknown): x is Record<string, PrfJson> {
  return isObj(x) && Object.values(x).every(isPrf);
}

export function isTrainRecord(x: unknown): x is TrainRecord {
  return (
    isObj(x) &&
    x.type === 'train' &&
    isFiniteNum(x.step) &&
    isNum(x.epoch) &&
    isNum(x.loss) &&
    isNum(x.lr) &&
    isNum(x.gradNorm) &&
    isNum(x.stepsPerSec) &&
    isNum(x.samplesPerSec) &&
    optNum(x.tokensPerSec) &&
    optNum(x.time)
  );
}

export function isEvalRecord(x: unknown): x is EvalRecord {
  if (!isObj(x) || x.type !== 'eval' || !SPLITS.has(x.split as string) || !isFiniteNum(x.step) || !isNum(x.epoch)) return false;
  if (!isNumRecord(x.metrics) || !optNum(x.time)) return false;
  if (x.perClass !== undefined && !isReport(x.perClass)) return false;
  if (x.tokenReport !== undefined && !isReport(x.tokenReport)) return false;
  if (x.confusion !== undefined) {
    const c = x.confusion;
    if (!isObj(c) || !Array.isArray(c.labels) || !c.labels.every(isStr) || !Array.isArray(c.matrix)) return false;
    const n = c.labels.length;
    if (c.matrix.length !== n || !c.matrix.every((r) => Array.isArray(r) && r.length === n && r.every(isFiniteNum))) return false;
  }
  return true;
}

export function isMisclassifiedExample(x: unknown): x is MisclassifiedExample {
  if (!isObj(x) || !isStr(x.file) || !Number.isInteger(x.line) || !isStr(x.gold) || !isStr(x.pred) || !optStr(x.text)) return false;
  if (x.words !== undefined && !(Array.isArray(x.words) && x.words.every(isStr))) return false;
  if (x.position !== undefined && !Number.isInteger(x.position)) return false;
  return true;
}

export const isMetricsRecord = (x: unknown): x is MetricsRecord => isTrainRecord(x) || isEvalRecord(x);

/** The message, checked field by field (bad records filtered out), or null to drop it. */
export function checkMessage(x: unknown): HostToWebview | null {
  if (!isHostToWebview(x)) return null;
  const m = x as unknown as Obj;
  switch (x.type) {
    case 'init':
      if ((m.mode !== 'run' && m.mode !== 'compare') || !Array.isArray(m.runs)) return null;
      return { type: 'init', mode: m.mode, runs: m.runs.filter(isRunSummary) };
    case 'history':
      if (!isStr(m.runId) || !Array.isArray(m.records) || typeof m.done !== 'boolean') return null;
      return { type: 'history', runId: m.runId, records: m.records.filter(isMetricsRecord), done: m.done };
    case 'append':
      if (!isStr(m.runId) || !Array.isArray(m.records)) return null;
      return { type: 'append', runId: m.runId, records: m.records.filter(isMetricsRecord) };
    case 'status':
      if (!isRunSummary(m.run) || !(m.etaSeconds === undefined || isNum(m.etaSeconds))) return null;
      return { type: 'status', run: m.run, etaSeconds: m.etaSeconds };
    case 'misclassified':
      if (!isStr(m.runId) || !SPLITS.has(m.split as string) || !Array.isArray(m.examples)) return null;
      return { type: 'misclassified', runId: m.runId, split: m.split as 'validation' | 'test', examples: m.examples.filter(isMisclassifiedExample) };
    default: {
      const never: never = x;
      void never;
      return null;
    }
  }
}
