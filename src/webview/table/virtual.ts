// The virtual window: only the rows in view (plus a few either side) are in the DOM; rows have one
// fixed height, so the window is arithmetic on the scroll position.

export const ROW_HEIGHT = 24;

/** [first, end) of the items to draw for a viewport. */
export function visibleRange(scrollTop: number, viewport: number, count: number, rowHeight = ROW_HEIGHT, overscan = 6): { first: number; end: number } {
  if (count <= 0) return { first: 0, end: 0 };
  const first = Math.max(0, Math.floor(Math.max(0, scrollTop) / rowHeight) - overscan);
  const end = Math.min(count, Math.ceil((Math.max(0, scrollTop) + Math.max(0, viewport)) / rowHeight) + overscan);
  return { first: Math.min(first, end), end };
}

/** The scroll position that shows item `index` whole (the viewport below a sticky header of `header` px), or undefined when it already is. */
export function scrollToShow(index: number, scrollTop: number, viewport: number, header: number, rowHeight = ROW_HEIGHT): number | undefined {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  const body = Math.max(rowHeight, viewport - header);
  if (top < scrollTop) return top;
  if (bottom > scrollTop + body) return bottom - body;
  return undefined;
}
