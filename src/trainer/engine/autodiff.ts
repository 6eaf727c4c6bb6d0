// Reverse-mode autodiff over the IR. The engine walks the nodes between the parameters and the
// loss in reverse, asks each op's rule (gradients.ts) for its input gradients, sums gradients on
// fan-out, and reduces broadcast axes in one place (reduceToShape), so rules never deal with
// broadcasting themselves.

import { Builder } from './builder';
import type { Graph, Node, Tensor } from './ir';
import { GraphError, describeInputs, fmtShape, isFloat } from './ir';
import { NON_DIFFERENTIABLE, ruleFor, type GradContext } from './gradients';

/** Sums broadcast axes of `grad` so that it has `shape` (the shape of the input it belongs to). */
export function reduceToShape(b: Builder, grad: Tensor, target: Tensor, where: Node): Tensor {
  const gs = grad.shape;
  const ts = target.shape;
  if (gs.length === ts.length && gs.every((d, i) => d === ts[i])) return grad;
  const lead = gs.length - ts.length;
  if (lead < 0) {
    throw new GraphError(`gradient ${fmtShape(gs)} has lower rank than input ${target.name}${fmtShape(ts)}`, where.name, where.op);
  }
  const sumLead = Array.from({ length: lead }, (_, i) => i);
  const keep: number[] = [];
  ts.forEach((d, i) => {
    const gd = gs[lead + i];
    if (d === gd) return;
    if (d === 1) keep.push(lead + i);
    else {
      throw new GraphError(`gradient ${fmtShape(gs)} cannot be reduced to input ${target.name}${fmtShape(ts)}`, where.name, where.op);
    }
  });
  let out = grad;
  if (keep.length) out = b.reduceSum(out, keep, true);
  if (sumLead.length) out = b.reduceSum(out, sumLead, false);
  // Symbolic dims may remain spelled differently; settle on the input's own shape.
  if (!out.shape.every((d, i) => d === ts[i])) out = b.reshapeLike(out, target);
  return out;
}

export interface GradientOptions {
  /** Gradient of the loss itself (default: ones, i.e. d loss / d loss = 1). */
  seed?: Tensor;
}

/**
 * Gradients of `loss` with respect to each tensor in `wrt`, built into graph `g`. A tensor in
 * `wrt` that the loss does not depend on gets a zero gradient.
 */
export function gradients(g: Graph, loss: Tensor, wrt: Tensor[], opts: GradientOptions = {}): Map<string, Tensor> {
  const b = new Builder(g);
  const wrtNames = new Set(wrt.map((t) => t.name));
  for (const t of wrt) {
    if (!isFloat(t.dtype)) throw new GraphError(`cannot differentiate with respect to ${t.name}: dtype ${t.dtype}`);
  }

  // Forward: which values depend on a parameter (through differentiable ops).
  const dependsOnParam = new Set(wrtNames);
  for (const n of g.nodes) {
    if (NON_DIFFERENTIABLE.has(n.op)) continue;
    if (n.inputs.some((i) => dependsOnParam.has(i))) for (const o of n.outputs) dependsOnParam.add(o);
  }
  // Backward: which values the loss depends on.
  const feedsLoss = new Set([loss.name]);
  const nodes = g.nodes.slice(); // gradient nodes appended below must not be visited
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (n.outputs.some((o) => feedsLoss.has(o))) for (const x of n.inputs) if (x) feedsLoss.add(x);
  }
  const needs = (name: string) => !!name && dependsOnParam.has(name) && feedsLoss.has(name);

  const contributions = new Map<string, Tensor[]>();
  const push = (name: string, t: Tensor) => {
    const list = contributions.get(name);
    if (list) list.push(t);
    else contributions.set(name, [t]);
  };
  const total = (name: string): Tensor | null => {
    const list = contributions.get(name);
    if (!list || list.length === 0) return null;
    const s = b.sum(list);
    contributions.set(name, [s]);
    return s;
  };

  push(loss.name, opts.seed ?? b.full(loss.shape, 1, loss.dtype));

  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!node.outputs.some((o) => contributions.has(o))) continue;
    const inputNeeds = node.inputs.map(needs);
    if (!inputNeeds.some(Boolean)) continue;
    const rule = ruleFor(node.op);
    if (!rule) {
      throw new GraphError('no gradient rule for this op', node.name, node.op, `inputs ${describeInputs(node.inputs, g)}`);
    }
    const ctx: GradContext = {
      b,
      node,
      x: node.inputs.map((n) => (n ? g.info(n) : (undefined as unknown as Tensor))),
      y: node.outputs.map((n) => g.info(n)),
      dy: node.outputs.map(total),
      needs: (k: number) => inputNeeds[k],
    };
    let grads: (Tensor | null | undefined)[];
    try {
      grads = rule(ctx);
    } catch (e) {
      if (e instanceof GraphError && e.node) throw e;
      throw new GraphError(`gradient rule failed: ${(e as Error).message}`, node.name, node.op, `inputs ${describeInputs(node.inputs, g)}`);
    }
    node.inputs.forEach((name, k) => {
      if (!inputNeeds[k]) return;
      const gk = grads[k];
      if (!gk) {
        throw new GraphError(`the gradient rule gives no gradient for input ${k} (${name})`, node.name, node.op, `inputs ${describeInputs(node.inputs, g)}`);
      }
      const x = ctx.x[k];
      if (gk.dtype !== x.dtype) {
        throw new GraphError(`gradient dtype ${gk.dtype} differs from input ${name} dtype ${x.dtype}`, node.name, node.op);
      }
      push(name, reduceToShape(b, gk, x, node));
    });
  }

  const out = new Map<string, Tensor>();
  for (const t of wrt) out.set(t.name, total(t.name) ?? b.full(t.shape, 0, t.dtype));
  return out;
}
