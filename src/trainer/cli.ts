// The `finetune` command-line program (dist/trainer.js). The extension forks this same program.

import { isGraphError } from './engine/errors';
import type { TrainerEvent } from '../shared/protocol';
import { DEFAULT_RUNS_FOLDER } from '../shared/run';
import { runCheck } from './check';
import type { Device } from './engine/session';

const USAGE = `usage: finetune <command> [options]

commands:
  train <config>         fine-tune as the config says; writes a run folder
      --run-dir DIR      use this run folder (default <config dir>/${DEFAULT_RUNS_FOLDER}/<id>); it must
                         be new or empty: a folder holding a run is never overwritten
      --resume RUN_DIR   continue a stopped or interrupted run from its last checkpoint, with the
                         config and data it started with (a completed run is not resumed)
      --allow-changes    with --resume: accept a config file, --set overrides or changed data files
      --set KEY=VALUE    override a config value (dotted key, e.g. training.lr=3e-5); repeatable
      --force            run even when the memory estimate says the run will not fit
                         (the same as --set training.memory_check=warn)
  sweep <config>         run the config's sweep: one run per trial, bad trials stopped early (docs/sweeps.md)
      --resume SWEEP_DIR continue a sweep whose process stopped or was killed
      --concurrency N    run N trials at once (default: the sweep's concurrency setting, else 1)
      --set KEY=VALUE    override a config value for every trial; repeatable
      --executor local|slurm  run the trials here (default) or as Slurm batch jobs (docs/cluster.md);
                         overrides the config's sweep.executor
  eval <run-dir>         evaluate a run's exported model on its test (or --split validation|train) data
      --int8             evaluate model.int8.onnx instead (made by export --int8)
  predict <run-dir> TEXT run a run's exported model.onnx on text and print entities or the label
                         (TEXT '-' reads it from stdin; any length: long text is windowed
                         with the run's max_length and stride)
      --int8             run model.int8.onnx instead
  export --int8 <run-dir>  write model.int8.onnx beside the run's model.onnx: its MatMul weights in
                         int8 and embedding tables in uint8, activations quantized as it runs (ONNX
                         Runtime's dynamic quantization; about 4x smaller, faster on CPU)
      --per-channel      one weight scale per output column instead of one per matrix
  check                  train a small model on generated data with the ONNX engine and evaluate it
                         (shows the install works and which device is used)

options:
  --device auto|cpu|cuda   execution provider (default auto: CUDA when available)
  --threads N              intra-op threads (default: the config's threads, else number of CPU cores)
  --steps N                optimizer steps (check: default 400)
  --steps-per-run K        optimizer steps per ONNX Runtime call (default 8)
  --json                   print events as JSON lines
  --help                   this text

exit codes (train): 0 completed; 1 failed; 2 bad arguments or an invalid config (no run folder
  written); 3 stopped on request with a checkpoint (--resume continues it); 130 aborted by a
  second Ctrl-C/SIGTERM (recorded as stopped when a checkpoint exists)
`;

/** Longer command lines make a predict run its text in a child process on stdin (see 'predict'). */
const LONG_COMMAND_LINE = 8192;

function parseArgs(argv: string[]) {
  const flags: Record<string, string | boolean> = {};
  const sets: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (
      a === '--json' ||
      a === '--help' ||
      a === '-h' ||
      a === '--no-progress' ||
      a === '--force' ||
      a === '--sweep-trial' ||
      a === '--allow-changes' ||
      a === '--int8' ||
      a === '--per-channel'
    )
      flags[a.replace(/^-+/, '')] = true;
    else if (a.startsWith('--')) {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`option ${a} needs a value`);
      if (a === '--set') sets.push(v);
      else flags[a.slice(2)] = v;
      i++;
    } else positional.push(a);
  }
  return { flags, positional, sets };
}

function intFlag(flags: Record<string, string | boolean>, name: string, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER, why = ''): number {
  const v = flags[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}${why}`}, got '${v}'`);
  return n;
}

function printer(json: boolean): (e: TrainerEvent) => void {
  if (json) return (e) => process.stdout.write(JSON.stringify(e) + '\n');
  return (e) => {
    switch (e.type) {
      case 'started':
        console.log(
          `device: ${e.device.used}${e.device.reason ? ` (${e.device.reason})` : ''}; ${e.device.threads} threads; onnxruntime ${e.device.onnxruntime}; ${e.params} parameters`,
        );
        break;
      case 'train':
        console.log(
          `step ${String(e.step).padStart(5)}  loss ${e.loss.toFixed(4)}  lr ${e.lr.toExponential(2)}  grad-norm ${e.gradNorm.toFixed(3)}  ${e.stepsPerSec.toFixed(0)} steps/s`,
        );
        break;
      case 'eval':
        console.log(`eval at step ${e.step}: ${JSON.stringify(e.metrics)}`);
        break;
      case 'completed':
        console.log(
          `done in ${e.seconds.toFixed(1)} s: ${Object.entries(e.metrics)
            .map(([k, v]) => `${k} ${v.toFixed(4)}`)
            .join(', ')}`,
        );
        break;
      case 'checkpoint':
        break;
      case 'stopped':
        console.log(`stopped at step ${e.step}${e.checkpoint ? `; resume from ${e.checkpoint}` : ''}`);
        break;
      case 'log':
        (e.level === 'info' ? console.log : console.error)(e.message);
        break;
      case 'download':
        break; // its log line says the same
      case 'failed':
        console.error(`failed: ${e.error}`);
        break;
    }
  };
}

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    console.error(`finetune: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { flags, positional, sets } = parsed;
  if (flags.help || positional.length === 0) {
    process.stdout.write(USAGE);
    return flags.help ? 0 : 2;
  }
  const emit = printer(!!flags.json);
  try {
    const device = (flags.device ?? 'auto') as Device;
    if (!['auto', 'cpu', 'cuda'].includes(device)) throw new Error(`--device must be auto, cpu or cuda, got '${device}'`);
    // Bounded before anything starts: ONNX Runtime crashed on 100000 threads.
    const cores = (await import('node:os')).availableParallelism();
    const threads = intFlag(flags, 'threads', cores, 1, cores, " (this machine's cores)");
    const stepsPerRun = intFlag(flags, 'steps-per-run', 8, 1, 64);
    switch (positional[0]) {
      case 'train': {
        // A config with a sweep block is never silently one run; `finetune sweep` passes --sweep-trial for its trials.
        const refusal = flags.resume || flags['sweep-trial'] ? undefined : (await import('./sweep')).sweepRefusal(positional[1]);
        if (refusal) {
          console.error(refusal);
          return 2;
        }
        const { runTrain } = await import('./commands');
        const { parseSetArgs } = await import('../shared/config/config');
        return await runTrain({
          configPath: positional[1],
          runDir: flags['run-dir'] as string | undefined,
          resume: flags.resume as string | undefined,
          overrides: parseSetArgs(flags.force ? [...sets, 'training.memory_check=warn'] : sets),
          allowChanges: !!flags['allow-changes'],
          sweepTrial: !!flags['sweep-trial'],
          json: !!flags.json,
          device: flags.device as Device | undefined,
          threads: flags.threads ? threads : undefined,
          emit,
        });
      }
      case 'sweep': {
        const { runSweep } = await import('./sweep');
        const { parseSetArgs } = await import('../shared/config/config');
        const trainerArgs = [...(flags.device ? ['--device', String(flags.device)] : []), ...(flags.threads ? ['--threads', String(threads)] : [])];
        const executor = flags.executor as string | undefined;
        if (executor !== undefined && executor !== 'local' && executor !== 'slurm') throw new Error(`--executor must be local or slurm, got '${executor}'`);
        const concurrency = flags.concurrency === undefined ? undefined : intFlag(flags, 'concurrency', 1, 1, 64);
        return await runSweep({
          configPath: positional[1],
          resume: flags.resume as string | undefined,
          overrides: parseSetArgs(sets),
          trainerArgs,
          executor,
          concurrency,
        });
      }
      case 'eval': {
        const { runEval } = await import('./commands');
        const split = flags.split ?? 'test';
        if (split !== 'test' && split !== 'validation' && split !== 'train')
          throw new Error(`--split must be test, validation or train, got '${String(split)}'`);
        // Not refused (a fit check is a fair use), but never silent: these numbers say nothing about new data.
        if (split === 'train')
          console.error('warning: evaluating the training split: the model has seen these examples, so the numbers measure fit, not how it does on new data');
        return await runEval({ runDir: positional[1], split, json: !!flags.json, emit, int8: !!flags.int8, threads: flags.threads ? threads : undefined });
      }
      case 'predict': {
        const { runPredict } = await import('./commands');
        const args = positional.slice(2);
        if (args.length === 1 && args[0] === '-') {
          const fs = await import('node:fs');
          return await runPredict({
            runDir: positional[1],
            text: fs.readFileSync(0, 'utf8'),
            json: !!flags.json,
            threads: flags.threads ? threads : undefined,
            int8: !!flags.int8,
          });
        }
        const text = args.join(' ');
        // ONNX Runtime overflows the main thread's stack (SIGSEGV) while creating a session when the
        // process's command line is long (about 28 KB at Linux's default 8 MB stack), whatever the
        // session: a long TEXT goes to a fresh process of this program on stdin instead.
        if (Buffer.byteLength(process.argv.join(' ')) > LONG_COMMAND_LINE) {
          const { spawnSync } = await import('node:child_process');
          const again = [...process.execArgv, process.argv[1], 'predict', positional[1], '-'];
          if (flags.json) again.push('--json');
          if (flags.int8) again.push('--int8');
          if (flags.threads) again.push('--threads', String(threads));
          const r = spawnSync(process.execPath, again, { input: text, stdio: ['pipe', 'inherit', 'inherit'], maxBuffer: Infinity });
          if (r.error) throw r.error;
          return r.status ?? 1;
        }
        return await runPredict({ runDir: positional[1], text, json: !!flags.json, threads: flags.threads ? threads : undefined, int8: !!flags.int8 });
      }
      case 'export': {
        const { runExport } = await import('./commands');
        if (positional.length > 2) throw new Error(`export takes one run folder, got ${positional.length - 1}: ${positional.slice(1).join(' ')}`);
        return await runExport({ runDir: positional[1], int8: !!flags.int8, perChannel: !!flags['per-channel'], json: !!flags.json });
      }
      case 'check': {
        const res = await runCheck({ device, threads, stepsPerRun, steps: intFlag(flags, 'steps', 400, 1), emit });
        return res.accuracy >= 0.9 ? 0 : 1;
      }
      default:
        console.error(`finetune: unknown command '${positional[0]}'\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    const err = e as Error;
    const g = isGraphError(err) ? err : undefined;
    emit({ type: 'failed', error: err.message, node: g?.node, op: g?.op, step: (err as { step?: number }).step });
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2))
    .then(
      (code) => {
        process.exitCode = code;
      },
      // main() reports its own failures; this is a failure while reporting one.
      (e: unknown) => {
        console.error(`finetune: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        process.exitCode = 1;
      },
    )
    .finally(() => {
      // Forked by the extension, the IPC channel would keep this process alive after its final
      // event; close it (queued messages are delivered first) so the process exits.
      if (process.connected) process.disconnect();
    });
}
