// Long file: the run-folder contract (its file names, RunInfo, run.json reads and writes, the user fields a trainer keeps) is one module on purpose, so no other code names these files.
// The run folder: the contract between the trainer, the extension, the webview and other tools.
// This module is the only place that names a run folder's files or the default runs folder, builds
// a RunInfo, and reads or writes run.json. run.json is replaced atomically; metrics.jsonl (see
// ./metricsFile) is append-only and read tolerantly. Plain Node: no `vscode`, no engine.
//
// <runs folder>/<id>/               <runs folder>: `.finetune/runs` beside the config by default
//   run.json                        RunInfo: status, resolved config, device, best and final metrics
//   metrics.jsonl                   one `train` or `eval` record per line (protocol.ts MetricsRecord)
//   launch.json                     how the extension started it (config + `--set` overrides)
//   train.log                       the run's log
//   tensorboard/                    TensorBoard event files
//   checkpoints/best, checkpoints/last   Hugging Face folders + optimizer and trainer state
//   misclassified-<split>.json      examples the model got wrong, for the dashboard
//   model.onnx, labels.json, tokenizer/  the exported inference model
//   model.int8.onnx                 model.onnx dynamically quantized (`finetune export --int8`)

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EvalMetrics, FinalMetrics, MetricName } from '../metrics';
import type { DeviceInfo, EarlyStop, MetricsRecord, RunStatus } from '../protocol';
import { ensureWritableFolder, folderWriteError } from '../config/fileKind';
import type { RunFingerprint } from './fingerprint';

// ---------------------------------------------------------------------------------------------
// Names and paths

/** The file and folder names inside a run folder. */
export const RUN_FILES = {
  info: 'run.json',
  metrics: 'metrics.jsonl',
  launch: 'launch.json',
  log: 'train.log',
  tensorboard: 'tensorboard',
  checkpoints: 'checkpoints',
  model: 'model.onnx',
  modelInt8: 'model.int8.onnx',
  labels: 'labels.json',
  tokenizer: 'tokenizer',
  lock: 'trainer.lock',
  jobScript: 'job.sh', // a Slurm trial's batch script, and its output (every attempt appended):
  jobLog: 'slurm.log',
} as const;

/** The runs folder a config's runs go to unless told otherwise: `<base>/.finetune/runs`. */
export const DEFAULT_RUNS_FOLDER = path.join('.finetune', 'runs');

export function defaultRunsFolder(baseDir: string): string {
  return path.join(baseDir, DEFAULT_RUNS_FOLDER);
}

/** Folders inside a run folder that hold no run-level files (a watcher can skip them). */
export const RUN_SUBFOLDERS: readonly string[] = [RUN_FILES.checkpoints, RUN_FILES.tensorboard, RUN_FILES.tokenizer];

export type CheckpointKind = 'best' | 'last';
export type EvalSplit = 'validation' | 'test';

/** The absolute paths of everything in one run folder. */
export function runPaths(dir: string) {
  const p = (name: string) => path.join(dir, name);
  return {
    dir,
    info: p(RUN_FILES.info),
    metrics: p(RUN_FILES.metrics),
    launch: p(RUN_FILES.launch),
    log: p(RUN_FILES.log),
    tensorboard: p(RUN_FILES.tensorboard),
    model: p(RUN_FILES.model),
    modelInt8: p(RUN_FILES.modelInt8),
    labels: p(RUN_FILES.labels),
    tokenizer: p(RUN_FILES.tokenizer),
    lock: p(RUN_FILES.lock),
    checkpoint: (kind: CheckpointKind) => path.join(dir, RUN_FILES.checkpoints, kind),
    misclassified: (split: EvalSplit) => p(`misclassified-${split}.json`),
  };
}

/** Whether a run folder has a checkpoint to resume from (checkpoints/last). */
export const hasResumeCheckpoint = (dir: string) => fs.existsSync(runPaths(dir).checkpoint('last'));
/** Whether a run folder has an exported model (model.onnx). */
export const hasExportedModel = (dir: string) => fs.existsSync(runPaths(dir).model);

// ---------------------------------------------------------------------------------------------
// RunInfo

export interface RunInfo {
  id: string;
  name: string;
  configPath: string;
  configHash: string;
  /** The resolved config (every default filled); null when the config did not validate. */
  config: unknown;
  status: RunStatus;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  pid?: number;
  host: string;
  device?: DeviceInfo;
  versions: Record<string, string>;
  step: number;
  totalSteps?: number;
  epoch: number;
  best?: { metric: MetricName; value: number; step: number; checkpoint: string };
  final?: FinalMetrics & EvalMetrics;
  error?: { message: string; node?: string; op?: string; step?: number };
  /** Set when early stopping ended training before `totalSteps`: at which step and why. */
  earlyStop?: EarlyStop;
  resumedFrom?: string;
  /** The config hash and the data files (size, mtime, sha256) the run started on; a resume refuses other ones. */
  fingerprint?: RunFingerprint;
  notes?: string;
  tags?: string[];
  /** Pinned on top of the experiments table (a user field, like notes and tags). */
  pinned?: boolean;
  /** Set by Rename: `name` is the user's, and is the run's label (./identity.ts); absent: the config's name, and the label is computed. */
  renamed?: boolean;
}

/** The fields a user edits (rename, notes, tags, pin); a trainer rewriting run.json keeps the file's values of these. */
const USER_FIELDS = ['name', 'renamed', 'notes', 'tags', 'pinned'] as const;

/** The one constructor of a RunInfo: a run at step 0 created now on this host. */
export function newRunInfo(o: {
  id: string;
  name: string;
  configPath: string;
  config: unknown;
  configHash: string;
  status: RunStatus;
  versions?: Record<string, string>;
  now?: Date;
  endedAt?: string;
  error?: RunInfo['error'];
}): RunInfo {
  const info: RunInfo = {
    id: o.id,
    name: o.name,
    configPath: o.configPath,
    configHash: o.configHash,
    config: o.config,
    status: o.status,
    createdAt: (o.now ?? new Date()).toISOString(),
    host: os.hostname(),
    versions: o.versions ?? { node: process.version },
    step: 0,
    epoch: 0,
  };
  if (o.endedAt) info.endedAt = o.endedAt;
  if (o.error) info.error = o.error;
  return info;
}

// ---------------------------------------------------------------------------------------------
// Atomic writes

/** Writes a file atomically: temp file in the same folder, fsync, rename, fsync the folder. On failure the temp file is removed and `file` is untouched. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  try {
    const dfd = fs.openSync(dir, 'r');
    fs.fsyncSync(dfd);
    fs.closeSync(dfd);
  } catch {
    // some file systems do not allow fsync on a folder
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

// ---------------------------------------------------------------------------------------------
// Creating run folders

function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'run'
  );
}

/** A new run folder <runsDir>/<yyyymmdd-hhmmss>-<name>[-n]. */
export function createRunFolder(runsDir: string, name: string, now = new Date()): { id: string; dir: string } {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  ensureWritableFolder(runsDir);
  for (let n = 0; ; n++) {
    const id = `${stamp}-${slug(name)}${n ? `-${n}` : ''}`;
    const dir = path.join(runsDir, id);
    try {
      fs.mkdirSync(dir);
      return { id, dir };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw folderWriteError(e, dir);
    }
  }
}

/** The folder a new run writes to: `runDir` when given (created if missing; its name is the id), else a new folder in `runsDir`. */
export function openRunFolder(o: { runDir?: string; runsDir: string; name: string; now?: Date }): { id: string; dir: string } {
  if (!o.runDir) return createRunFolder(o.runsDir, o.name, o.now);
  const dir = path.resolve(o.runDir);
  ensureWritableFolder(dir);
  return { id: path.basename(dir), dir };
}

const QUEUED_FILES: ReadonlySet<string> = new Set([RUN_FILES.info, RUN_FILES.launch, RUN_FILES.jobScript, RUN_FILES.jobLog]);
/**
 * Throws unless a folder may take a new run: it is empty, or it holds only a run queued there (run.json
 * `queued`, launch.json, a Slurm job's script and output) — never a run that started, whatever its
 * status, nor files that are not a run's. Call it holding the folder's lock (the lock file is ignored).
 */
export function assertNewRunFolder(dir: string): void {
  const names = fs.readdirSync(dir).filter((n) => n !== RUN_FILES.lock);
  if (!names.length) return;
  const r = inspectRun(dir);
  if (r && 'info' in r && r.info.status === 'queued' && names.every((n) => QUEUED_FILES.has(n))) return;
  const what =
    r && 'info' in r
      ? `a ${r.info.status} run${r.info.step ? ` (step ${r.info.step}${r.info.totalSteps ? ` of ${r.info.totalSteps}` : ''})` : ''}`
      : r
        ? `a run folder whose ${RUN_FILES.info} cannot be used (${r.reason})`
        : `${names.length} file${names.length === 1 ? '' : 's'} (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''})`;
  const hint = r && 'info' in r && r.info.status !== 'completed' ? '`--resume` it to continue, or choose' : 'choose';
  throw Object.assign(new Error(`--run-dir ${dir} already holds ${what}; it is never overwritten: ${hint} another --run-dir (or none, for a new folder)`), {
    code: 'EEXIST',
  });
}

/** Writes a new run folder's run.json. */
export function writeRunInfo(dir: string, info: RunInfo): void {
  writeJsonAtomic(runPaths(dir).info, info);
}

/** The writer a trainer holds for its run folder: run.json updates and metrics.jsonl appends. */
export class RunWriter {
  readonly paths: ReturnType<typeof runPaths>;

  constructor(
    readonly dir: string,
    public info: RunInfo,
  ) {
    this.paths = runPaths(dir);
  }

  /**
   * Merges fields into run.json and writes it atomically. The user's own fields (name, notes,
   * tags), which the editor may change while the run is going, are taken from the file first.
   */
  update(fields: Partial<RunInfo>): void {
    try {
      const onDisk = JSON.parse(fs.readFileSync(this.paths.info, 'utf8')) as Partial<RunInfo>;
      for (const k of USER_FIELDS) if (onDisk[k] !== undefined) (this.info as unknown as Record<string, unknown>)[k] = onDisk[k];
    } catch {
      // not written yet, or unreadable: keep what we have
    }
    this.info = { ...this.info, ...fields };
    writeJsonAtomic(this.paths.info, this.info);
  }

  append(record: MetricsRecord): void {
    fs.appendFileSync(this.paths.metrics, JSON.stringify(record) + '\n');
  }
}

// ---------------------------------------------------------------------------------------------
// Reading run folders

/** A run folder and its parsed run.json. */
export interface RunRecord {
  dir: string;
  info: RunInfo;
}

/** A run folder whose run.json is there but cannot be used, and why. */
export interface UnreadableRun {
  dir: string;
  reason: string;
}

export const TERMINAL: ReadonlySet<RunStatus> = new Set(['completed', 'failed', 'stopped', 'pruned']);

/** run.json of a folder; `{ dir, reason }` when it exists but cannot be used; undefined when the folder has none. */
export function inspectRun(dir: string): RunRecord | UnreadableRun | undefined {
  let text: string;
  try {
    text = fs.readFileSync(runPaths(dir).info, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'EISDIR') return { dir, reason: `${RUN_FILES.info} is a folder, not a file` };
    if (code === 'EACCES' || code === 'EPERM') return { dir, reason: `${RUN_FILES.info} cannot be read: permission denied` };
    return { dir, reason: `${RUN_FILES.info} cannot be read: ${(e as Error).message}` };
  }
  if (!text.trim()) return { dir, reason: `${RUN_FILES.info} is empty` };
  let info: RunInfo;
  try {
    info = JSON.parse(text) as RunInfo;
  } catch (e) {
    return { dir, reason: `${RUN_FILES.info} is not valid JSON (${(e as Error).message})` };
  }
  if (!info || typeof info !== 'object' || Array.isArray(info)) return { dir, reason: `${RUN_FILES.info} does not hold a run record (not a JSON object)` };
  if (typeof info.status !== 'string') return { dir, reason: `${RUN_FILES.info} has no run status` };
  return { dir, info: { ...info, id: info.id || path.basename(dir), name: info.name || path.basename(dir) } };
}

const isRecord = (r: RunRecord | UnreadableRun | undefined): r is RunRecord => !!r && 'info' in r;

/** run.json of a folder, or undefined when it is missing or not (yet) valid JSON. */
export function readRun(dir: string): RunRecord | undefined {
  const r = inspectRun(dir);
  return isRecord(r) ? r : undefined;
}

/** run.json of a folder; throws, naming the file, when it is missing or cannot be used. */
export function readRunInfo(dir: string): RunInfo {
  if (!fs.existsSync(dir)) throw new Error(`no such run folder: ${path.resolve(dir)}`);
  const r = inspectRun(dir);
  if (isRecord(r)) return r.info;
  throw new Error(r ? `${runPaths(dir).info}: ${r.reason}` : `${dir} is not a run folder (no ${RUN_FILES.info})`);
}

/** The run folders (a child folder with a run.json) of a runs folder, and those whose run.json cannot be used; a missing folder has none. */
export function scanRunsFolderDetailed(runsDir: string): { runs: RunRecord[]; unreadable: UnreadableRun[] } {
  let names: fs.Dirent[];
  try {
    names = fs.readdirSync(runsDir, { withFileTypes: true });
  } catch {
    return { runs: [], unreadable: [] };
  }
  const runs: RunRecord[] = [];
  const unreadable: UnreadableRun[] = [];
  for (const d of names) {
    if (!d.isDirectory()) continue;
    const r = inspectRun(path.join(runsDir, d.name));
    if (isRecord(r)) runs.push(r);
    else if (r) unreadable.push(r);
  }
  return { runs, unreadable };
}

/** Every run folder (a child folder with a readable run.json) of a runs folder; a missing folder has none. */
export function scanRunsFolder(runsDir: string): RunRecord[] {
  return scanRunsFolderDetailed(runsDir).runs;
}

/** Which file of a run folder a path is (run.json or metrics.jsonl), for watchers. */
export function runFileKind(file: string): 'info' | 'metrics' | undefined {
  const base = path.basename(file);
  return base === RUN_FILES.info ? 'info' : base === RUN_FILES.metrics ? 'metrics' : undefined;
}

// ---------------------------------------------------------------------------------------------
// Edits to a run folder (by the extension: user fields, or the status of a run whose trainer is gone)

/**
 * Merges fields into run.json (atomically) and returns the new info; a field set to undefined is
 * removed. It does not lock: a trainer still writing the folder keeps the user fields (name, renamed,
 * notes, tags) on its next write, but would overwrite anything else, so callers change `status`, `endedAt`
 * and `error` only for runs whose trainer is gone.
 */
export function updateRunInfo(
  dir: string,
  fields: Partial<Pick<RunInfo, 'name' | 'renamed' | 'notes' | 'tags' | 'pinned' | 'status' | 'endedAt' | 'error'>>,
): RunInfo {
  const r = readRun(dir);
  if (!r) throw new Error(`${dir} has no readable ${RUN_FILES.info}`);
  const info = { ...r.info, ...fields };
  for (const k of Object.keys(info) as (keyof RunInfo)[]) if (info[k] === undefined) delete info[k];
  writeRunInfo(dir, info);
  return info;
}

/** Deletes one run folder, after checking it really is one (it has a run.json, readable or not: an unreadable run can be deleted too). */
export function deleteRunFolder(dir: string): void {
  if (!inspectRun(dir)) throw new Error(`${dir} is not a run folder (no ${RUN_FILES.info})`);
  if (path.resolve(dir) === path.parse(path.resolve(dir)).root) throw new Error(`refusing to delete ${dir}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Copies a completed run's inference model (model.onnx, labels.json, tokenizer/, and model.int8.onnx when made) to a folder; returns the copied paths. */
export function exportModel(runDir: string, dest: string, overwrite = false): string[] {
  const items = [RUN_FILES.model, RUN_FILES.modelInt8, RUN_FILES.labels, RUN_FILES.tokenizer];
  if (!hasExportedModel(runDir)) throw new Error(`${runDir} has no ${RUN_FILES.model} (the run did not complete)`);
  fs.mkdirSync(dest, { recursive: true });
  if (!overwrite) {
    const clash = items.filter((n) => fs.existsSync(path.join(runDir, n)) && fs.existsSync(path.join(dest, n)));
    if (clash.length) throw Object.assign(new Error(`${dest} already has ${clash.join(', ')}`), { code: 'EEXIST' });
  }
  const out: string[] = [];
  for (const n of items) {
    const from = path.join(runDir, n);
    if (!fs.existsSync(from)) continue;
    fs.cpSync(from, path.join(dest, n), { recursive: true, force: true });
    out.push(path.join(dest, n));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// launch.json: how the extension started a run (so it can be rerun)

export interface Launch {
  configPath: string;
  /** `--set` overrides (a sweep combination, and its run name). */
  overrides: Record<string, unknown>;
}

export function writeLaunch(dir: string, launch: Launch): void {
  writeJsonAtomic(runPaths(dir).launch, launch);
}

/** How a run folder was launched (launch.json), else its config with no overrides. */
export function readLaunch(dir: string, configPath?: string): Launch | undefined {
  try {
    const l = JSON.parse(fs.readFileSync(runPaths(dir).launch, 'utf8')) as Launch;
    if (typeof l.configPath === 'string') return { configPath: l.configPath, overrides: l.overrides ?? {} };
  } catch {
    // not launched by the extension
  }
  return configPath ? { configPath, overrides: {} } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Whether a process id is alive on this machine (EPERM: alive, owned by someone else). */
export function isPidAlive(pid: number | undefined): boolean {
  if (!pid || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a run's trainer is alive: it says `running`, on this host, and its process (other than this one) exists. */
export function isRunAlive(info: RunInfo, alive = isPidAlive, host = os.hostname()): boolean {
  return info.status === 'running' && !!info.pid && info.pid !== process.pid && (!info.host || info.host === host) && alive(info.pid);
}
