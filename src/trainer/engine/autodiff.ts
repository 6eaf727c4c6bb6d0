// Reverse-mode autodiff over the IR. The engine walks the nodes between the parameters and the
// loss in reverse, asks each op's rule (gradients.ts) for its input gradients, sums gradients on
// fan-out, and reduces broadcast axes in one place (reduceToShape), so rules never deal with
// broadcasting themselves. Nodes tagged with a recomputation segment (Graph.segment, gradient
// checkpointing) are recomputed in the backward pass from the segment's inputs (recompute below),
// so their activations need not live from the forward pass to the backward pass.

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
  const recomputed = new Map<string, Map<string, string>>(); // segment -> original value -> recomputed value

  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!node.outputs.some((o) => contributions.has(o))) continue;
    const inputNeeds = node.inputs.map(needs);
    if (!inputNeeds.some(Boolean)) continue;
    const rule = ruleFor(node.op);
    if (!rule) {
      throw new GraphError('no gradient rule for this op', node.name, node.op, `inputs ${describeInputs(node.inputs, g)}`);
    }
    const dy = node.outputs.map(total);
    let renamed = (n: string) => n;
    if (node.segment !== undefined) {
      let map = recomputed.get(node.segment);
      if (!map)
        recomputed.set(
          node.segment,
          (map = recompute(
            b,
            nodes,
            node.segment,
            dy.find((d) => d)!,
          )),
        );
      const m = map;
      renamed = (n) => m.get(n) ?? n;
    }
    const ctx: GradContext = {
      b,
      node,
      x: node.inputs.map((n) => (n ? g.info(renamed(n)) : (undefined as unknown as Tensor))),
      y: node.outputs.map((n) => g.info(renamed(n))),
      dy,
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

/**
 * Gradient checkpointing: re-emits the nodes of one segment (in forward order) for the backward
 * pass and returns the map from each original output to its recomputed copy. Called when the
 * backward pass reaches the segment, with `after` a gradient flowing into it: every value the copy
 * reads from outside the segment (the segment's input activations, weights) is first made to
 * depend on `after` (adding a zero derived from one of its elements), so that ONNX Runtime, which
 * orders nodes by data dependencies alone, runs the recomputation only when the backward pass gets
 * there, not right after the forward pass (which would keep every activation alive again).
 * Constants and non-numeric values (random bytes, masks) are read as they are; an integer index is
 * made dependent too, so that what is gathered with it waits as well.
 */
function recompute(b: Builder, nodes: Node[], segment: string, after: Tensor): Map<string, string> {
  const g = b.g;
  const seg = nodes.filter((n) => n.segment === segment);
  const inside = new Set(seg.flatMap((n) => n.outputs));
  // A zero that exists only once `after` does: 0 * after[0], with NaN (from an infinite or NaN
  // gradient) replaced by 0 so that an integer index made from it stays valid.
  const first = b.gather(b.reshape(after, [-1]), g.constant('int64', [], [0]));
  const z = b.mul(first, b.scalar(0, first));
  const zero = b.where(g.op('IsNaN', [z]), b.scalar(0, z), z);
  const dependent = new Map<string, string>();
  const readFromOutside = (name: string): string => {
    if (!name || g.constValue(name)) return name;
    let d = dependent.get(name);
    if (!d) {
      const t = g.info(name);
      const numeric = t.dtype === 'float32' || t.dtype === 'float64' || t.dtype === 'int64' || t.dtype === 'int32';
      d = numeric ? b.add(t, b.cast(zero, t.dtype)).name : name;
      dependent.set(name, d);
    }
    return d;
  };
  const map = new Map<string, string>();
  for (const n of seg) {
    const inputs = n.inputs.map((i) => (inside.has(i) ? map.get(i)! : readFromOutside(i)));
    const outs = g.add(n.op, inputs, n.attrs, { outputs: n.outputs.length, domain: n.domain });
    n.outputs.forEach((o, k) => map.set(o, outs[k].name));
  }
  return map;
}
