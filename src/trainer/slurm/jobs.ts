// Slurm's own commands, as the sweep uses them: `sbatch` submits a trial's job, `scontrol show job`
// says how it is (accounting is often off, so no `sacct`: a job is known to slurmctld for MinJobAge
// seconds after it ends, and the sweep asks far more often than that), `scancel` signals or cancels it.

import { spawnSync } from 'node:child_process';

/** A job as `scontrol show job` describes it. */
export interface JobState {
  id: string;
  /** JobState: PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, CANCELLED, TIMEOUT, … */
  state: string;
  /** Why it is pending, or why it ended (None when there is nothing to say). */
  reason?: string;
  /** The batch script's exit status and the signal that ended it, as `code:signal`. */
  exitCode?: string;
  /** How many times it was requeued. */
  restarts: number;
}

/** States in which a job has ended for good (a requeued job goes back to PENDING instead). */
const ENDED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE', 'SPECIAL_EXIT']);

export const hasEnded = (j: JobState) => ENDED.has(j.state);

/** Runs one of Slurm's commands; an error that says what to install when it is missing. */
function slurm(cmd: string, args: string[], cwd?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new Error(`${cmd} not found: the slurm executor runs on a Slurm login node, with sbatch, scontrol and scancel on PATH (or use --executor local)`);
    throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  }
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** Submits a batch script; returns the job id, or throws with sbatch's own words. */
export function submitJob(script: string, args: string[], cwd: string): string {
  const r = slurm('sbatch', ['--parsable', ...args, script], cwd);
  const id = r.stdout.trim().split(';')[0];
  if (r.status !== 0 || !/^\d+$/.test(id))
    throw new Error(`sbatch refused the job: ${(r.stderr.trim() || r.stdout.trim() || `exit status ${r.status}`).replace(/\s*\n\s*/g, '; ')}`);
  return id;
}

/** Parses one line of `scontrol show job -o` (Key=Value pairs; a value may hold spaces). */
export function parseScontrolJob(line: string): JobState | undefined {
  const fields: Record<string, string> = {};
  const re = /(?:^|\s)([A-Za-z][A-Za-z0-9:/_]*)=/g;
  const keys: { key: string; at: number; end: number }[] = [];
  for (let m = re.exec(line); m; m = re.exec(line)) keys.push({ key: m[1], at: m.index, end: m.index + m[0].length });
  keys.forEach((k, i) => (fields[k.key] ??= line.slice(k.end, i + 1 < keys.length ? keys[i + 1].at : undefined).trim()));
  if (!fields.JobId || !fields.JobState) return undefined;
  return {
    id: fields.JobId,
    state: fields.JobState.split(/\s/)[0],
    ...(fields.Reason && fields.Reason !== 'None' ? { reason: fields.Reason } : {}),
    ...(fields.ExitCode ? { exitCode: fields.ExitCode } : {}),
    restarts: Number(fields.Restarts ?? 0) || 0,
  };
}

/** A job's state, or undefined when slurmctld no longer knows it (it ended more than MinJobAge ago). */
export function jobState(id: string): JobState | undefined {
  const r = slurm('scontrol', ['show', 'job', '-o', id]);
  if (r.status !== 0) {
    if (/invalid job id/i.test(r.stderr)) return undefined;
    throw new Error(`scontrol show job ${id}: ${r.stderr.trim() || `exit status ${r.status}`}`);
  }
  return parseScontrolJob(r.stdout.split('\n')[0]);
}

/**
 * Ends a job. `signal`: SIGTERM to every process of the job, batch script included (the trainer
 * checkpoints and exits; the job is not requeued and leaves the queue when the trainer ends);
 * otherwise `scancel` proper (a pending job just leaves the queue; a running one gets SIGTERM, then
 * SIGKILL after the cluster's KillWait).
 */
export function cancelJob(id: string, how: 'signal' | 'cancel'): void {
  const r = slurm('scancel', how === 'signal' ? ['--signal=TERM', '--full', id] : [id]);
  if (r.status !== 0 && !/invalid job id|already completing or completed/i.test(r.stderr))
    throw new Error(`scancel ${id}: ${r.stderr.trim() || `exit status ${r.status}`}`);
}

/** How a job ended, in words for a run's error: "Slurm job 12 FAILED (reason NonZeroExitCode, exit code 1:0)". */
export function describeJob(j: JobState): string {
  const parts = [...(j.reason ? [`reason ${j.reason}`] : []), ...(j.exitCode && j.exitCode !== '0:0' ? [`exit code ${j.exitCode}`] : [])];
  return `Slurm job ${j.id} ${j.state}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}
