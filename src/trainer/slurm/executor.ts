// The slurm executor of `finetune sweep`: each trial is one requeueable batch job (./script.ts)
// running the trainer CLI in a run folder the sweep created first, on the cluster's shared
// filesystem. The sweep stays on the login node: it submits up to `sweep.slurm.parallel` jobs,
// reads each trial's metrics.jsonl for early termination, and asks Slurm how the jobs are.
//
// - There is no IPC channel to a job, so early termination is asynchronous: a trial judged bad is
//   sent SIGTERM (`scancel --signal=TERM --full`); its trainer finishes its block, checkpoints and
//   ends `stopped`, and the sweep records it `pruned` (run.json too) once its job has left the
//   queue. It stops a block or so after the evaluation that pruned it (the local executor stops it
//   exactly there); a trial that completes first stays completed.
// - A job's end is its run folder's status plus what Slurm says: a job that ends without its
//   trainer recording a result (a failing setup line, a time limit, out of memory, a node failure)
//   has its run marked failed with the job's state, reason and exit code and the end of slurm.log.
// - A preempted or requeued job restarts in the same run folder with `--resume` (the job script
//   does it), so while Slurm holds a job in the queue its trial is running, whatever run.json says.
// - Stop (Ctrl-C) signals the running jobs the same way (they checkpoint) and cancels pending ones;
//   again: `scancel` for all. `finetune sweep --resume` watches the jobs still queued, and resubmits
//   a stopped trial with `--resume` of its run folder.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { configHash, loadConfigWithWarnings, trialName } from '../../shared/config/config';
import type { SlurmSettings } from '../../shared/config/types';
import { hasResumeCheckpoint, newRunInfo, readRun, updateRunInfo, writeLaunch, writeRunInfo } from '../../shared/run';
import type { SweepTrial } from '../../shared/sweep/folder';
import type { TrialExecutor, TrialJudge } from '../executor';
import { cancelJob, describeJob, hasEnded, jobState, submitJob, type JobState } from './jobs';
import { jobFiles, jobScript, sbatchArgs, trainerProgram, type JobSpec } from './script';

interface Watched {
  trial: SweepTrial;
  judge: TrialJudge;
  /** Slurm's last word on the job. */
  job?: JobState;
  /** SIGTERM sent (pruned or stopped). */
  signalled: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The last lines of a job's output, for a run's error. */
function logTail(runDir: string, lines = 4): string {
  try {
    const text = fs.readFileSync(jobFiles(runDir).log, 'utf8').slice(-4000);
    const last = text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(-lines);
    return last.length ? `; ${path.basename(jobFiles(runDir).log)} ends: ${last.join(' | ')}` : '';
  } catch {
    return '';
  }
}

export function slurmExecutor(settings: SlurmSettings, o: { pollMs?: number } = {}): TrialExecutor {
  const active = new Map<SweepTrial, Watched>();
  let stopRequested = false;

  const end = (w: Watched, how: 'signal' | 'cancel') => {
    if (!w.trial.job) return;
    try {
      // A signal reaches only a running job; a pending one is cancelled (it has nothing to checkpoint).
      const state = (w.job ?? jobState(w.trial.job.id))?.state;
      cancelJob(w.trial.job.id, how === 'signal' && state !== 'PENDING' ? 'signal' : 'cancel');
      w.signalled = true;
    } catch (e) {
      console.error(`sweep: ${(e as Error).message}`);
    }
  };

  return {
    stop(hard) {
      stopRequested = true;
      for (const w of active.values()) end(w, hard ? 'cancel' : 'signal');
    },

    async run(d) {
      const { info } = d;
      const pollMs = o.pollMs ?? 500;
      let refused = false;

      /** Writes the trial's job script and submits it; a refusal fails the trial and ends submitting. */
      const submit = (trial: SweepTrial, resume: boolean) => {
        const overrides = { ...info.overrides, ...trial.params, name: trialName(d.config, trial.params) };
        const cfg = loadConfigWithWarnings(info.configPath, overrides).config;
        if (!resume) {
          // Queued, as the extension queues a run: the history shows the trial before its job starts.
          const id = path.basename(trial.runDir);
          writeRunInfo(
            trial.runDir,
            newRunInfo({ id, name: cfg.name, configPath: info.configPath, configHash: configHash(cfg), config: cfg, status: 'queued' }),
          );
          writeLaunch(trial.runDir, { configPath: info.configPath, overrides });
        }
        const spec: JobSpec = {
          runDir: trial.runDir,
          workDir: path.dirname(info.configPath),
          program: trainerProgram(),
          freshArgs: d.trainArgs(trial),
          trainerArgs: d.trainerArgs,
          resume,
          threads: cfg.threads,
          name: cfg.name,
          settings,
          sweepDir: d.dir,
        };
        const script = jobFiles(trial.runDir).script;
        fs.writeFileSync(script, jobScript(spec), { mode: 0o755 });
        trial.status = 'running';
        delete trial.endedAt;
        try {
          trial.job = { id: submitJob(script, sbatchArgs(spec), spec.workDir) };
        } catch (e) {
          const message = (e as Error).message;
          updateRunInfo(trial.runDir, { status: 'failed', endedAt: new Date().toISOString(), error: { message } });
          d.settle(trial, []);
          d.log(`trial ${trial.number} failed: ${message}; no more trials are submitted (fix sweep.slurm, then finetune sweep --resume ${d.dir})`);
          refused = true;
          return;
        }
        d.save();
        d.log(`trial ${trial.number}: Slurm job ${trial.job.id}${resume ? ' resumes' : ' runs'} ${trial.runDir}`);
        active.set(trial, { trial, judge: d.judge(trial), signalled: false });
      };

      /** The job has left the queue: the trial's end, with Slurm's reason where the trainer recorded none. */
      const finish = (w: Watched, job: JobState | undefined) => {
        const { trial } = w;
        active.delete(trial);
        w.judge.poll();
        const slurmSays = job ? describeJob(job) : `Slurm job ${trial.job?.id} is no longer known to Slurm`;
        const run = readRun(trial.runDir)?.info;
        if (run && (run.status === 'queued' || run.status === 'running')) {
          // The trainer recorded no result: it never started (a pending job cancelled by Stop), or
          // its job failed before it could (a setup line, the node) or killed it (a limit, the node).
          const neverRan = run.status === 'queued' && stopRequested && job?.state === 'CANCELLED';
          const stopped = neverRan || (stopRequested && hasResumeCheckpoint(trial.runDir));
          updateRunInfo(trial.runDir, {
            status: stopped ? 'stopped' : 'failed',
            endedAt: new Date().toISOString(),
            error: stopped ? undefined : { message: `${slurmSays}${logTail(trial.runDir)}` },
          });
        } else if (run?.status === 'failed') {
          updateRunInfo(trial.runDir, { error: { ...run.error, message: `${run.error?.message ?? 'failed'} (${slurmSays})` } });
        } else if (run?.status === 'stopped' && !stopRequested && !trial.pruned && job && job.state !== 'FAILED') {
          // Stopped by Slurm (a time limit, a preemption that does not requeue): resumable, and why.
          updateRunInfo(trial.runDir, { error: { message: `${slurmSays}; finetune sweep --resume continues it from its checkpoint` } });
        }
        d.settle(trial, w.judge.points);
        const value = trial.value !== undefined ? ` (${info.metric} ${trial.value})` : '';
        d.log(`trial ${trial.number} ${trial.status}${value}${trial.status === 'failed' ? `: ${slurmSays}` : `; its job ${trial.job?.id} has ended`}`);
      };

      /** Asks Slurm about each job; ends the trials whose jobs have left the queue. */
      const askSlurm = () => {
        for (const w of [...active.values()]) {
          let job: JobState | undefined;
          try {
            job = jobState(w.trial.job!.id);
          } catch (e) {
            // slurmctld busy or restarting: ask again at the next poll (the jobs run on meanwhile).
            d.log(`${(e as Error).message}; asking again`);
            return;
          }
          if (!job || hasEnded(job)) {
            finish(w, job);
            continue;
          }
          const was = w.job;
          w.job = job;
          if (was?.state !== job.state || was?.reason !== job.reason) {
            w.trial.job = { id: job.id, state: job.state, ...(job.reason ? { reason: job.reason } : {}) };
            d.save();
            d.log(
              `trial ${w.trial.number}: job ${job.id} ${job.state}${job.reason ? ` (${job.reason})` : ''}${job.restarts ? `, restarted ${job.restarts}×` : ''}`,
            );
          }
        }
      };

      // A sweep resumed: trials left running or stopped. A job still queued is watched again; a
      // stopped trial is resubmitted to resume from its checkpoint, or restarted without one.
      for (const trial of info.trials.filter((t) => t.status === 'running' || t.status === 'stopped')) {
        if (d.stopping() || refused) break;
        const job = trial.job ? jobState(trial.job.id) : undefined;
        if (job && !hasEnded(job)) {
          d.log(`trial ${trial.number}: Slurm job ${job.id} is still ${job.state}; watching it`);
          active.set(trial, { trial, judge: d.judge(trial), job, signalled: false });
          continue;
        }
        const run = readRun(trial.runDir)?.info;
        if (run?.status === 'completed' || trial.pruned || run?.status === 'pruned') {
          const j = d.judge(trial);
          j.poll();
          d.settle(trial, j.points);
        } else if (hasResumeCheckpoint(trial.runDir)) submit(trial, true);
        else {
          if (run)
            updateRunInfo(trial.runDir, {
              status: 'failed',
              endedAt: new Date().toISOString(),
              error: { message: 'ended before its first checkpoint; the sweep restarted this trial in a new run folder' },
            });
          d.restartIn(trial);
          submit(trial, false);
        }
      }

      let asked = 0;
      for (;;) {
        while (!d.stopping() && !refused && active.size < settings.parallel) {
          const trial = d.next();
          if (!trial) break;
          submit(trial, false);
        }
        if (!active.size) break;
        await sleep(pollMs);
        let ending = false;
        for (const w of active.values()) {
          if (w.judge.poll() && !w.signalled && !d.stopping()) {
            d.log(`trial ${w.trial.number}: stopping Slurm job ${w.trial.job!.id} (pruned)`);
            end(w, 'signal');
          }
          const status = readRun(w.trial.runDir)?.info.status;
          if (status && status !== 'queued' && status !== 'running') ending = true;
        }
        // Slurm is asked every poll_seconds, and sooner (at most once a second) when a trainer has ended.
        const since = Date.now() - asked;
        if (since >= settings.pollSeconds * 1000 || (ending && since >= 1000)) {
          asked = Date.now();
          askSlurm();
        }
      }
    },
  };
}
