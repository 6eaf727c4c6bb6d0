// Level of detail for long histories: a min/max envelope of columns that share an x column, kept
// up to date incrementally (a live append touches only the last bucket). With at most ~2×MAX_BUCKETS
// points per series a chart redraws in a millisecond or two whether the run has 10k or 10M steps;
// each bucket keeps its minimum and maximum in the order they occur, so spikes stay visible.

const MAX_BUCKETS = 2048;
/** Below this many points charts get the raw columns. */
export const RAW_LIMIT = 16384;

export class Envelope {
  private B = 1;
  private x = new Float64Array(0);
  private ys: Float64Array[] = [];
  private buckets = 0; // complete buckets written
  private consumed = 0; // raw points covered by complete buckets
  private stamp: unknown = undefined;

  /** Decimated [x, ...ys] for the first n raw points (views, valid until the next call). */
  update(x: Float64Array, ys: Float64Array[], n: number, stamp?: unknown): Float64Array[] {
    if (n < this.consumed || stamp !== this.stamp || ys.length !== this.ys.length) this.reset(ys.length, stamp);
    while (Math.ceil(n / this.B) > MAX_BUCKETS) {
      this.B *= 2;
      this.reset(ys.length, stamp, this.B);
    }
    const cap = 2 * (Math.ceil(n / this.B) + 1);
    if (this.x.length < cap) this.grow(Math.max(cap, this.x.length * 2));
    // complete buckets
    while (this.consumed + this.B <= n) {
      this.write(this.buckets, x, ys, this.consumed, this.consumed + this.B);
      this.buckets++;
      this.consumed += this.B;
    }
    // the partial last bucket (rewritten on each update)
    let len = this.buckets * 2;
    if (this.consumed < n) {
      this.write(this.buckets, x, ys, this.consumed, n);
      len += 2;
    }
    return [this.x.subarray(0, len), ...this.ys.map((y) => y.subarray(0, len))];
  }

  private reset(series: number, stamp: unknown, B = 1): void {
    this.B = B;
    this.buckets = 0;
    this.consumed = 0;
    this.stamp = stamp;
    if (this.ys.length !== series) {
      this.ys = Array.from({ length: series }, () => new Float64Array(this.x.length));
    }
  }

  private grow(cap: number): void {
    const nx = new Float64Array(cap);
    nx.set(this.x);
    this.x = nx;
    this.ys = this.ys.map((y) => {
      const ny = new Float64Array(cap);
      ny.set(y);
      return ny;
    });
  }

  private write(k: number, x: Float64Array, ys: Float64Array[], i0: number, i1: number): void {
    const j = 2 * k;
    this.x[j] = x[i0];
    this.x[j + 1] = x[Math.min(i1 - 1, i0 + (this.B >> 1))];
    for (let s = 0; s < ys.length; s++) {
      const y = ys[s];
      let mn = Infinity,
        mx = -Infinity,
        imn = i0,
        imx = i0;
      for (let i = i0; i < i1; i++) {
        const v = y[i];
        if (v < mn) {
          mn = v;
          imn = i;
        }
        if (v > mx) {
          mx = v;
          imx = i;
        }
      }
      if (mn === Infinity) {
        mn = mx = NaN;
      }
      const out = this.ys[s];
      if (imn <= imx) {
        out[j] = mn;
        out[j + 1] = mx;
      } else {
        out[j] = mx;
        out[j + 1] = mn;
      }
    }
  }
}

/** Raw views of the points in [lo, hi] (one extra point each side), or an envelope of them when
 *  there are too many (computed on the spot: zooming is a user action, not a per-frame cost). */
export function windowed(x: Float64Array, ys: Float64Array[], n: number, lo: number, hi: number): Float64Array[] {
  const find = (v: number) => {
    let a = 0,
      b = n;
    while (a < b) {
      const m = (a + b) >> 1;
      if (x[m] < v) a = m + 1;
      else b = m;
    }
    return a;
  };
  const i0 = Math.max(0, find(lo) - 1),
    i1 = Math.min(n, find(hi) + 1);
  if (i1 - i0 <= RAW_LIMIT) return [x.subarray(i0, i1), ...ys.map((y) => y.subarray(i0, i1))];
  const e = new Envelope();
  return e.update(
    x.subarray(i0, i1),
    ys.map((y) => y.subarray(i0, i1)),
    i1 - i0,
  );
}
