// The environment trainer processes start with. On Linux with glibc, large blocks (every tensor
// from 128 KB up to 32 MB after glibc's threshold adjusts, and all larger ones) are fresh mmap
// regions, and ONNX Runtime allocates per tensor when its arena is off (large models), while the
// Node binding copies every output of a call into a fresh buffer. Each first touch of a 4 KB page
// then costs a page fault: on the VMs measured in docs/benchmarks.md ("Page faults") touching fresh
// memory ran ~100× slower than rewriting warm memory, and BERT-base training spent most of its step
// there. glibc.malloc.hugetlb=1 (glibc 2.35+) makes malloc ask for transparent huge pages
// (madvise) on those regions: one fault per 2 MB instead of per 4 KB. Elsewhere (macOS, Windows,
// musl, older glibc, THP off) the variable is ignored.

import * as fs from 'node:fs';

export const HUGEPAGE_TUNABLE = 'glibc.malloc.hugetlb=1';

/** `env` with the hugepage malloc tunable added to GLIBC_TUNABLES, unless it already sets hugetlb. */
export function trainerEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (hasHugepageTunable(env)) return env;
  const cur = env.GLIBC_TUNABLES;
  return { ...env, GLIBC_TUNABLES: cur ? `${cur}:${HUGEPAGE_TUNABLE}` : HUGEPAGE_TUNABLE };
}

/** Whether this process started with transparent huge pages for malloc (the tunable is read at start-up only). */
export function hasHugepageTunable(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.GLIBC_TUNABLES?.includes('glibc.malloc.hugetlb') ?? false;
}

let active: boolean | undefined;

/**
 * Whether malloc in this process gets transparent huge pages: Linux, glibc 2.35 or later, the
 * tunable set when the process started, and THP not `never`. Read once.
 */
export function hugePagesActive(): boolean {
  if (active !== undefined) return active;
  active = false;
  if (process.platform !== 'linux' || !hasHugepageTunable()) return active;
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  const [major, minor] = (glibc ?? '0.0').split('.').map(Number);
  if (major < 2 || (major === 2 && minor < 35)) return active;
  try {
    active = !fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8').includes('[never]');
  } catch {
    active = false;
  }
  return active;
}
