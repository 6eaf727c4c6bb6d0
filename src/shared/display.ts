// How long a string from a run folder may be where it is shown. A run folder can come from anyone
// (a shared drive, a colleague's zip), so a label, run name, tag or value may be megabytes long:
// every place that draws one (tooltips, pick lists, hovers, the dashboard's tables and legends)
// clips it here, and keeps the full text where the UI has room for it (a title attribute).
// Browser-safe: the webview imports it too.

/** Most characters of one run string shown inline (a label, a name, a cell). */
export const DISPLAY_MAX = 80;

/** Most characters of one run string in a tooltip or hover, where there is room for more. */
export const DISPLAY_MAX_TIP = 300;

/** Most characters of a long run text shown at once (an error message, notes). */
export const DISPLAY_MAX_LONG = 2000;

/** `s` cut to at most `max` characters, the cut marked with '…'; never splits a surrogate pair. */
export function clipText(s: string, max = DISPLAY_MAX): string {
  const text = String(s);
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  const c = text.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end -= 1; // a high surrogate whose pair would be cut off
  return `${text.slice(0, end)}…`;
}

/** Whether `clipText` shortens `s`. */
export function isClipped(s: string, max = DISPLAY_MAX): boolean {
  return String(s).length > max;
}
