// Learning-rate schedules with the Hugging Face Trainer's semantics: the rate used by optimizer
// step s (0-based, i.e. s steps already taken) is base * factor(s); warmup grows linearly from 0.

export type ScheduleKind = 'linear' | 'cosine' | 'constant';

export interface Schedule {
  base: number;
  kind: ScheduleKind;
  warmup: number;
  total: number;
}

/** 1. warmup: s / warmup   2. decay: linear to 0 at `total`, or half a cosine, or constant. */
export function lrAt(s: Schedule, step: number): number {
  if (step < s.warmup) return (s.base * step) / Math.max(1, s.warmup);
  if (s.kind === 'constant') return s.base;
  const progress = (step - s.warmup) / Math.max(1, s.total - s.warmup);
  if (s.kind === 'linear') return s.base * Math.max(0, 1 - progress);
  return s.base * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}

export function warmupSteps(total: number, ratio: number, steps?: number): number {
  return steps ?? Math.ceil(total * ratio);
}
