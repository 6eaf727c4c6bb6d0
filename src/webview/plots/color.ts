// The sequential colour scale of the cross-run plots, pure (colours as [r, g, b] numbers; the DOM
// part that parses CSS colours is theme.ts). Viridis, whose lightness rises monotonically, cut to
// the part that keeps WCAG's 3:1 graphics contrast with the theme's background: on a dark background
// the dark end is dropped, on a light one the light end, so every line reads and low → high still
// reads as dark → light (or light → dark), in light, dark and high-contrast themes alike.

export type RGB = readonly [number, number, number];

// Viridis (matplotlib's, Smith and van der Walt), 9 stops from 0 to 1.
const VIRIDIS: RGB[] = [
  [68, 1, 84],
  [71, 45, 123],
  [59, 82, 139],
  [44, 114, 142],
  [33, 145, 140],
  [40, 174, 128],
  [94, 201, 98],
  [173, 220, 48],
  [253, 231, 37],
];

function viridis(t: number): RGB {
  const x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x)),
    f = x - i;
  const [a, b] = [VIRIDIS[i], VIRIDIS[i + 1]];
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

/** WCAG relative luminance. */
export function luminance([r, g, b]: RGB): number {
  const lin = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

export function contrast(a: RGB, b: RGB): number {
  const [x, y] = [luminance(a), luminance(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

/** `rgb(r,g,b)` of a colour (the form canvas and SVG both take). */
export const css = ([r, g, b]: RGB): string => `rgb(${r},${g},${b})`;

export interface ColorScale {
  /** The colour of a position 0 … 1 on the colour axis. */
  at(t: number): RGB;
  /** The part of viridis used: [from, to] (from > to when the scale runs light → dark). */
  range: [number, number];
}

/**
 * The viridis range whose every colour has at least `min` contrast with `background`. On a dark
 * background, low values are the darkest usable colour and high the lightest; on a light one the
 * scale is reversed (high values dark), so the best runs stand out most in both. A mid-grey
 * background that neither end clears gets the wider end, mixed towards `foreground` until it does.
 */
export function sequentialScale(background: RGB, foreground: RGB, min = 3): ColorScale {
  const dark = luminance(background) < 0.18;
  const ok = (t: number) => contrast(viridis(t), background) >= min;
  // Viridis gets lighter along t: on a dark background the usable part is [t0, 1], on a light one [0, t1].
  let lo = 0,
    hi = 1;
  if (dark) {
    while (lo < 1 && !ok(lo)) lo += 0.01;
  } else {
    while (hi > 0 && !ok(hi)) hi -= 0.01;
  }
  lo = Math.round(lo * 100) / 100;
  hi = Math.round(hi * 100) / 100;
  if (hi - lo >= 0.3) {
    const range: [number, number] = dark ? [lo, hi] : [hi, lo];
    return { range, at: (t) => viridis(range[0] + (range[1] - range[0]) * Math.max(0, Math.min(1, t))) };
  }
  // Neither end clears the background: mix viridis towards the foreground just enough.
  const mix = (c: RGB, m: number): RGB => [0, 1, 2].map((k) => Math.round(c[k] + (foreground[k] - c[k]) * m)) as unknown as RGB;
  return {
    range: [0, 1],
    at: (t) => {
      const c = viridis(t);
      for (let m = 0; m <= 1.001; m += 0.1) if (contrast(mix(c, m), background) >= min) return mix(c, m);
      return foreground;
    },
  };
}
