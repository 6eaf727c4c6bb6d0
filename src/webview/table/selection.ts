// Row selection as in a file list: click selects one row, ctrl/cmd-click toggles one, shift-click
// (and shift+arrow) selects the range from the anchor; `order` is the drawn order of the row ids.

export interface Selection {
  ids: Set<string>;
  /** Where a shift-range starts. */
  anchor?: string;
}

export function rangeIds(order: readonly string[], from: string, to: string): string[] {
  const a = order.indexOf(from);
  const b = order.indexOf(to);
  if (a < 0 || b < 0) return b < 0 ? [] : [to];
  return order.slice(Math.min(a, b), Math.max(a, b) + 1);
}

export function clickSelect(sel: Selection, order: readonly string[], id: string, mods: { shift?: boolean; toggle?: boolean }): Selection {
  if (mods.shift && sel.anchor !== undefined) {
    const range = rangeIds(order, sel.anchor, id);
    const ids = mods.toggle ? new Set([...sel.ids, ...range]) : new Set(range);
    return { ids, anchor: sel.anchor };
  }
  if (mods.toggle) {
    const ids = new Set(sel.ids);
    if (ids.has(id)) ids.delete(id);
    else ids.add(id);
    return { ids, anchor: id };
  }
  return { ids: new Set([id]), anchor: id };
}

/** The selected ids in drawn order (what actions receive), dropping ids no longer there. */
export function selectedInOrder(sel: Selection, order: readonly string[]): string[] {
  return order.filter((id) => sel.ids.has(id));
}
