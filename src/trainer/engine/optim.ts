// Optimizers emitted as graph ops, with PyTorch's semantics (torch.optim.AdamW / SGD and
// torch.nn.utils.clip_grad_norm_). The learning rate and step number are tensors fed from
// outside, so any schedule is computed by the caller.

import type { Builder } from './builder';
import type { Tensor } from './ir';

export interface AdamWConfig {
  kind: 'adamw';
  beta1?: number; // default 0.9
  beta2?: number; // default 0.999
  eps?: number; // default 1e-8
  weightDecay?: number; // default 0.01 (applied only to parameters with decay: true)
}

export interface SGDConfig {
  kind: 'sgd';
  momentum?: number; // default 0
  dampening?: number; // default 0
  nesterov?: boolean; // default false
  weightDecay?: number; // default 0 (L2, added to the gradient, as torch.optim.SGD does)
}

export type OptimizerConfig = AdamWConfig | SGDConfig;

/** Names of the per-parameter state slots an optimizer keeps (each the parameter's shape). */
export function stateSlots(cfg: OptimizerConfig): string[] {
  if (cfg.kind === 'adamw') return ['m', 'v'];
  return (cfg.momentum ?? 0) !== 0 ? ['momentum'] : [];
}

export interface StepScalars {
  lr: Tensor; // scalar
  step: Tensor; // scalar, 1-based step number (float)
  /** Scalar every gradient is multiplied by first (the clipping coefficient), if any. */
  gradScale?: Tensor;
  /**
   * Bool scalar: false on a step whose loss or gradients are not finite. The update then leaves
   * the parameter and its state exactly as they were, so that state updated in place (the
   * training program writes it into the buffers it was fed from) is never lost to a NaN.
   */
  ok?: Tensor;
}

export interface ParamUpdate {
  param: Tensor;
  state: Tensor[];
}

/**
 * One optimizer update for one parameter. `decay` says whether weight decay applies to it
 * (PyTorch parameter groups: biases and LayerNorm weights are usually excluded).
 */
export function optimizerUpdate(b: Builder, cfg: OptimizerConfig, p: Tensor, grad: Tensor, state: Tensor[], s: StepScalars, decay: boolean): ParamUpdate {
  return cfg.kind === 'adamw' ? adamw(b, cfg, p, grad, state, s, decay) : sgd(b, cfg, p, grad, state, s, decay);
}

/** Scalars shared by every parameter in one step (built once per step, not once per parameter). */
interface AdamScalars {
  c1: Tensor; // (1 - beta1) * gradScale (0 on a skipped step)
  c2: Tensor; // (1 - beta2) * gradScale^2 (0 on a skipped step)
  beta1: Tensor | number; // 1 on a skipped step
  beta2: Tensor | number; // 1 on a skipped step
  epsHat: Tensor; // eps * sqrt(bias_correction2)
  stepHat: Tensor; // lr / bias_correction1 * sqrt(bias_correction2) (0 on a skipped step)
  decay: Map<number, Tensor>; // 1 - lr * weight_decay (1 on a skipped step)
  lr?: Tensor; // the learning rate, 0 on a skipped step
}
const adamCache = new WeakMap<Tensor, AdamScalars>();

/**
 * AdamW as torch.optim.AdamW computes it, rearranged so that every scalar factor is applied to a
 * scalar rather than to a whole tensor (the update is memory-bound: each full-size pass counts):
 *   p <- p (1 - lr wd)                                     decoupled weight decay
 *   m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2
 *   p <- p - lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)
 *      = p - [lr / bc1 * sqrt(bc2)] * m / (sqrt(v) + eps sqrt(bc2))
 * with g = gradScale * grad when clipping (the clip coefficient is folded into the scalars).
 * A skipped step (s.ok false) zeroes the gradient (one Where per parameter: a NaN times zero is
 * still NaN), the learning rate and the clip coefficient, and sets the betas to 1, so that p, m and
 * v come out bit for bit as they went in; on other steps the arithmetic is unchanged.
 */
function adamw(b: Builder, cfg: AdamWConfig, p: Tensor, g: Tensor, [m, v]: Tensor[], s: StepScalars, decay: boolean): ParamUpdate {
  const beta1 = cfg.beta1 ?? 0.9;
  const beta2 = cfg.beta2 ?? 0.999;
  const eps = cfg.eps ?? 1e-8;
  const wd = decay ? (cfg.weightDecay ?? 0.01) : 0;
  let k = adamCache.get(s.step);
  if (!k) {
    const one = b.scalar(1, s.lr);
    const bc1 = b.sub(one, b.pow(b.scalar(beta1, s.lr), s.step));
    const bc2Sqrt = b.sqrt(b.sub(one, b.pow(b.scalar(beta2, s.lr), s.step)));
    const scale = s.gradScale;
    const ok = s.ok;
    const gate = (t: Tensor, skipped: number) => (ok ? b.where(ok, t, b.scalar(skipped, t)) : t);
    const lr = gate(s.lr, 0);
    k = {
      c1: gate(scale ? b.mulScalar(scale, 1 - beta1) : b.scalar(1 - beta1, s.lr), 0),
      c2: gate(scale ? b.mulScalar(b.mul(scale, scale), 1 - beta2) : b.scalar(1 - beta2, s.lr), 0),
      beta1: ok ? gate(b.scalar(beta1, s.lr), 1) : beta1,
      beta2: ok ? gate(b.scalar(beta2, s.lr), 1) : beta2,
      epsHat: b.mulScalar(bc2Sqrt, eps),
      stepHat: b.mul(b.div(lr, bc1), bc2Sqrt),
      decay: new Map(),
    };
    k.lr = lr;
    adamCache.set(s.step, k);
  }
  let p1 = p;
  if (wd !== 0) {
    let f = k.decay.get(wd);
    if (!f) k.decay.set(wd, (f = b.sub(b.scalar(1, s.lr), b.mulScalar(k.lr!, wd))));
    p1 = b.mul(p, f);
  }
  if (s.ok) g = b.where(s.ok, g, b.scalar(0, g));
  const scaled = (t: Tensor, beta: Tensor | number) => (typeof beta === 'number' ? b.mulScalar(t, beta) : b.mul(t, beta));
  const m1 = b.add(scaled(m, k.beta1), b.mul(g, k.c1));
  const v1 = b.add(scaled(v, k.beta2), b.mul(b.mul(g, g), k.c2));
  const ratio = b.div(m1, b.add(b.sqrt(v1), k.epsHat));
  return { param: b.sub(p1, b.mul(ratio, k.stepHat)), state: [m1, v1] };
}

function sgd(b: Builder, cfg: SGDConfig, p: Tensor, grad: Tensor, state: Tensor[], s: StepScalars, decay: boolean): ParamUpdate {
  const momentum = cfg.momentum ?? 0;
  const dampening = cfg.dampening ?? 0;
  const wd = decay ? (cfg.weightDecay ?? 0) : 0;
  const clipped = s.gradScale ? b.mul(grad, s.gradScale) : grad;
  let g = wd !== 0 ? b.add(clipped, b.mulScalar(p, wd)) : clipped;
  const newState: Tensor[] = [];
  if (momentum !== 0) {
    // first step: buf = g; later: buf = momentum * buf + (1 - dampening) * g
    const later = b.add(b.mulScalar(state[0], momentum), b.mulScalar(g, 1 - dampening));
    // With a zero-initialized buf and no dampening the two agree, so the select is only built when needed.
    const buf = dampening === 0 ? later : b.where(b.equal(s.step, b.scalar(1, s.step)), g, later);
    newState.push(buf);
    g = cfg.nesterov ? b.add(g, b.mulScalar(buf, momentum)) : buf;
  }
  const param = b.sub(p, b.mul(g, s.lr));
  // A skipped step keeps the old values (SGD is not where memory is tight: a Where per output is fine).
  if (!s.ok) return { param, state: newState };
  const ok = s.ok;
  return { param: b.where(ok, param, p), state: newState.map((t, i) => b.where(ok, t, state[i])) };
}

/**
 * torch.nn.utils.clip_grad_norm_: total = ||(||g_1||, ..., ||g_n||)||_2 (globalNorm);
 * coef = min(maxNorm / (total + 1e-6), 1); every gradient is to be multiplied by coef (the
 * optimizer folds it into its scalars).
 */
export function clipFromNorm(b: Builder, norm: Tensor, maxNorm: number): Tensor {
  return b.min(b.div(b.scalar(maxNorm, norm), b.addScalar(norm, 1e-6)), b.scalar(1, norm));
}

export function globalNorm(b: Builder, grads: Tensor[]): Tensor {
  const squares = grads.map((g) => b.reduceSumSquare(g, null, false));
  return b.sqrt(b.sum(squares));
}
