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
const adamCache = new WeakMap<Tensor, { stepSize: Tensor; bc2Sqrt: Tensor; decayFactor: Map<number, Tensor> }>();

function adamw(b: Builder, cfg: AdamWConfig, p: Tensor, g: Tensor, [m, v]: Tensor[], s: StepScalars, decay: boolean): ParamUpdate {
  const beta1 = cfg.beta1 ?? 0.9;
  const beta2 = cfg.beta2 ?? 0.999;
  const eps = cfg.eps ?? 1e-8;
  const wd = decay ? (cfg.weightDecay ?? 0.01) : 0;
  let shared = adamCache.get(s.step);
  if (!shared) {
    // bias_correction1 = 1 - beta1^t; step_size = lr / bias_correction1; sqrt(1 - beta2^t)
    const bc1 = b.sub(b.scalar(1, s.lr), b.pow(b.scalar(beta1, s.lr), s.step));
    const bc2 = b.sub(b.scalar(1, s.lr), b.pow(b.scalar(beta2, s.lr), s.step));
    shared = { stepSize: b.div(s.lr, bc1), bc2Sqrt: b.sqrt(bc2), decayFactor: new Map() };
    adamCache.set(s.step, shared);
  }
  // param.mul_(1 - lr * weight_decay)   (decoupled weight decay, applied first)
  let p1 = p;
  if (wd !== 0) {
    let f = shared.decayFactor.get(wd);
    if (!f) {
      f = b.sub(b.scalar(1, s.lr), b.mulScalar(s.lr, wd));
      shared.decayFactor.set(wd, f);
    }
    p1 = b.mul(p, f);
  }
  // exp_avg.lerp_(grad, 1 - beta1);  exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
  const m1 = b.add(b.mulScalar(m, beta1), b.mulScalar(g, 1 - beta1));
  const v1 = b.add(b.mulScalar(v, beta2), b.mulScalar(b.mul(g, g), 1 - beta2));
  // denom = exp_avg_sq.sqrt() / bias_correction2_sqrt + eps;  param -= step_size * exp_avg / denom
  const denom = b.addScalar(b.div(b.sqrt(v1), shared.bc2Sqrt), eps);
  const p2 = b.sub(p1, b.mul(b.div(m1, denom), shared.stepSize));
  return { param: p2, state: [m1, v1] };
}

function sgd(b: Builder, cfg: SGDConfig, p: Tensor, grad: Tensor, state: Tensor[], s: StepScalars, decay: boolean): ParamUpdate {
  const momentum = cfg.momentum ?? 0;
  const dampening = cfg.dampening ?? 0;
  const wd = decay ? (cfg.weightDecay ?? 0) : 0;
  let g = wd !== 0 ? b.add(grad, b.mulScalar(p, wd)) : grad;
  const newState: Tensor[] = [];
  if (momentum !== 0) {
    // first step: buf = g; later: buf = momentum * buf + (1 - dampening) * g
    const later = b.add(b.mulScalar(state[0], momentum), b.mulScalar(g, 1 - dampening));
    // With a zero-initialized buf and no dampening the two agree, so the select is only built when needed.
    const buf = dampening === 0 ? later : b.where(b.equal(s.step, b.scalar(1, s.step)), g, later);
    newState.push(buf);
    g = cfg.nesterov ? b.add(g, b.mulScalar(buf, momentum)) : buf;
  }
  return { param: b.sub(p, b.mul(g, s.lr)), state: newState };
}

/**
 * torch.nn.utils.clip_grad_norm_: total = ||(||g_1||, ..., ||g_n||)||_2;
 * coef = min(maxNorm / (total + 1e-6), 1); every gradient is multiplied by coef.
 * Returns the clipped gradients and the total norm before clipping.
 */
export function clipByGlobalNorm(b: Builder, grads: Tensor[], maxNorm: number): { grads: Tensor[]; norm: Tensor } {
  const norm = globalNorm(b, grads);
  const coef = b.min(b.div(b.scalar(maxNorm, norm), b.addScalar(norm, 1e-6)), b.scalar(1, norm));
  return { grads: grads.map((g) => b.mul(g, coef)), norm };
}

export function globalNorm(b: Builder, grads: Tensor[]): Tensor {
  const squares = grads.map((g) => b.reduceSumSquare(g, null, false));
  return b.sqrt(b.sum(squares));
}
