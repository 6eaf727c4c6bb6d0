// A multi-layer perceptron with ReLU, Linear weights in PyTorch's (out, in) layout.

import type { Builder } from '../engine/builder';
import type { Tensor } from '../engine/ir';
import type { ParamShape } from './bert';
import { linear } from './bert';

/** Parameters fc{i}.weight (out, in) and fc{i}.bias for sizes [in, h1, ..., out]. */
export function mlpParamShapes(sizes: number[]): ParamShape[] {
  const out: ParamShape[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    out.push({ name: `fc${i}.weight`, shape: [sizes[i + 1], sizes[i]], decay: true, init: 'normal' });
    out.push({ name: `fc${i}.bias`, shape: [sizes[i + 1]], decay: false, init: 'zeros' });
  }
  return out;
}

/** Logits (N, out) for x (N, in): Linear, ReLU, ..., Linear. */
export function emitMlp(b: Builder, P: Map<string, Tensor>, layers: number, x: Tensor): Tensor {
  let h = x;
  for (let i = 0; i < layers; i++) {
    h = linear(b, P, `fc${i}`, h);
    if (i + 1 < layers) h = b.relu(h);
  }
  return h;
}
