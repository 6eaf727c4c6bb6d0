// The compatibility layer's Python: test/compat/setup.sh makes (or finds) the pinned venv in
// .cache/compat-py; `py` runs a script of test/compat/py with it and parses the JSON it prints.

import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.resolve(path.dirname(__filename), '..', '..');
export const TRAINER = path.join(ROOT, 'dist', 'trainer.js');
/** The venv: .cache/compat-py, or FINETUNE_COMPAT_VENV (relative to the repository root), as setup.sh makes it. */
const PYTHON = path.join(path.resolve(ROOT, process.env.FINETUNE_COMPAT_VENV || path.join('.cache', 'compat-py')), 'bin', 'python');

/** The venv's python, or why there is none (the layer is then skipped with that reason). */
export function compatPython(): { python: string } | { skip: string } {
  const r = spawnSync(path.join(ROOT, 'test', 'compat', 'setup.sh'), { cwd: ROOT, encoding: 'utf8', timeout: 15 * 60_000 });
  if (r.error) return { skip: `test/compat/setup.sh could not run: ${r.error.message}` };
  if (r.status !== 0) {
    const why = r.stderr.trim().split('\n').pop() || `exit status ${r.status}`;
    return { skip: `the Python environment (test/compat/requirements.txt) could not be made: ${why}` };
  }
  return { python: PYTHON };
}

/**
 * Runs test/compat/py/<script> with args; its stdout's last line is JSON. Fails with its stderr.
 * Asynchronous: a script may talk to a server in this process (the test Hub).
 */
export function py<T>(script: string, args: string[], env: Record<string, string | undefined> = {}): Promise<T> {
  const child = spawn(PYTHON, [path.join(ROOT, 'test', 'compat', 'py', script), ...args], {
    cwd: ROOT,
    env: { ...process.env, PYTHONHASHSEED: '0', TOKENIZERS_PARALLELISM: 'false', OMP_NUM_THREADS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return collect(child).then(({ code, stdout, stderr }) => {
    if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited ${code}:\n${stderr.slice(-4000)}`);
    try {
      return JSON.parse(stdout.trim().split('\n').pop()!) as T;
    } catch (e) {
      throw new Error(`${script}: no JSON result (${(e as Error).message}):\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`);
    }
  });
}

/** A child's exit code and whole output. */
function collect(child: ReturnType<typeof spawn>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `node dist/trainer.js ARGS`: stdout, or a failure with both streams. */
export function finetune(args: string[], env: Record<string, string | undefined> = {}): string {
  const r = spawnSync(process.execPath, [TRAINER, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`finetune ${args.join(' ')} exited ${r.status}:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

/** `node dist/trainer.js ARGS` without blocking this process (several run at once on the cores). */
export function finetuneAsync(args: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  const child = spawn(process.execPath, [TRAINER, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return collect(child).then(({ code, stdout, stderr }) => {
    if (code !== 0) throw new Error(`finetune ${args.join(' ')} exited ${code}:\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`);
    return stdout;
  });
}

/** Runs the jobs, `width` at a time; the results in the jobs' order. */
export async function inParallel<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
  return out;
}
