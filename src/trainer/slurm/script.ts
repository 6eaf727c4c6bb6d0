// A trial's batch job: the script (written into its run folder as job.sh) and the sbatch options.
// The job runs the very trainer CLI the sweep runs (`node dist/trainer.js train …`) in the run folder
// the sweep created for it. It is requeueable, and its output (every attempt, appended) goes to the
// run folder's slurm.log. When Slurm restarts it (a preemption, a node failure, `scontrol requeue`:
// SLURM_RESTART_COUNT >= 1) it resumes its own run folder from its last checkpoint instead of
// starting over, and so ends with the numbers an uninterrupted run has. The trainer is exec'd, so
// Slurm's SIGTERM reaches it directly: it finishes its block, checkpoints, and exits.

import * as path from 'node:path';
import type { SlurmSettings } from '../../shared/config/types';
import { RUN_FILES } from '../../shared/run';
import { trainerEnv } from '../../shared/trainerEnv';

export interface JobSpec {
  runDir: string;
  /** The folder the job starts in (the config's). */
  workDir: string;
  /** The program: node, its flags and the trainer script. */
  program: string[];
  /** `train CONFIG --sweep-trial --run-dir RUN --set …`: a fresh start in the run folder. */
  freshArgs: string[];
  /** More trainer arguments for both starts (--device, --threads). */
  trainerArgs: string[];
  /** Resume the run folder even on the first attempt (a trial the sweep resumes). */
  resume: boolean;
  /** The config's `threads` (0: the trainer takes the job's CPUs). */
  threads: number;
  name: string;
  settings: SlurmSettings;
  /** The sweep folder, for the script's comment. */
  sweepDir: string;
}

/** A trial's job script and its output, in its run folder. */
export const jobFiles = (runDir: string) => ({ script: path.join(runDir, RUN_FILES.jobScript), log: path.join(runDir, RUN_FILES.jobLog) });

/** A word quoted for bash. */
export const shq = (s: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** A Slurm job name from a trial name (no quotes, spaces or shell characters). */
export const jobName = (name: string) => `finetune-${name}`.replace(/[^A-Za-z0-9_.,=+[\]-]/g, '_').slice(0, 120);

/** The sbatch options (given on its command line, so that paths need no #SBATCH quoting). */
export function sbatchArgs(spec: JobSpec): string[] {
  const s = spec.settings;
  return [
    `--job-name=${jobName(spec.name)}`,
    `--output=${jobFiles(spec.runDir).log}`,
    '--open-mode=append',
    '--requeue',
    `--chdir=${spec.workDir}`,
    `--cpus-per-task=${s.cpus}`,
    ...(s.partition ? [`--partition=${s.partition}`] : []),
    ...(s.time ? [`--time=${s.time}`] : []),
    ...(s.mem ? [`--mem=${s.mem}`] : []),
    ...(s.gpus ? [`--gpus=${s.gpus}`] : []),
  ];
}

export function jobScript(spec: JobSpec): string {
  const run = (args: string[]) => ['exec', ...spec.program, ...args].map(shq).join(' ');
  const threads = spec.threads === 0 && !spec.trainerArgs.includes('--threads') ? ' --threads "${SLURM_CPUS_PER_TASK:-1}"' : '';
  const extra = spec.settings.extra.map((l) => (l.startsWith('#SBATCH') ? l : `#SBATCH ${l}`));
  const resume = run(['train', '--resume', spec.runDir, ...spec.trainerArgs]) + threads;
  return [
    '#!/bin/bash',
    `# A trial of the sweep ${spec.sweepDir}, written by \`finetune sweep --executor slurm\`.`,
    `# Submitted as: sbatch ${sbatchArgs(spec).map(shq).join(' ')} ${shq(jobFiles(spec.runDir).script)}`,
    ...extra,
    'set -eo pipefail',
    `export GLIBC_TUNABLES=${shq(trainerEnv().GLIBC_TUNABLES!)} # transparent huge pages for large tensors (docs/benchmarks.md, "Page faults")`,
    'echo "finetune: job ${SLURM_JOB_ID:-?} attempt $(( ${SLURM_RESTART_COUNT:-0} + 1 )) on $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ)"',
    ...spec.settings.setup,
    spec.resume
      ? '# The sweep resumes this trial: continue its run folder from its last checkpoint.'
      : '# Requeued (preempted, a node failure, scontrol requeue): continue this run folder from its last checkpoint.',
    ...(spec.resume
      ? [resume]
      : [`if [ "\${SLURM_RESTART_COUNT:-0}" -ge 1 ]; then`, `  ${resume}`, 'fi', run([...spec.freshArgs, ...spec.trainerArgs]) + threads]),
    '',
  ].join('\n');
}

/** The program that runs the trainer CLI: this node, its flags, and this trainer script. */
export function trainerProgram(): string[] {
  return [process.execPath, ...process.execArgv, path.resolve(process.argv[1])];
}
