// Debiased exponential moving average, as TensorBoard smooths scalar curves: the running average
// starts at 0, so early values are divided by (1 - w^n) to undo the pull towards 0.

export interface EmaState {
  last: number;
  n: number;
}

export function emaInit(): EmaState {
  return { last: 0, n: 0 };
}

/** Smooth `src[from..to)` into `dst` continuing from `st` (so live appends cost O(new points)). */
export function emaInto(src: ArrayLike<number>, dst: Float64Array | number[], from: number, to: number, w: number, st: EmaState): void {
  for (let i = from; i < to; i++) {
    const y = src[i];
    if (!Number.isFinite(y)) {
      dst[i] = y;
      continue;
    }
    st.last = st.last * w + (1 - w) * y;
    st.n++;
    const debias = w === 1 ? 1 : 1 - Math.pow(w, st.n);
    dst[i] = w === 0 ? y : st.last / debias;
  }
}

export function ema(src: ArrayLike<number>, w: number): number[] {
  const out = new Array<number>(src.length);
  emaInto(src, out, 0, src.length, w, emaInit());
  return out;
}
