// Label order for the confusion matrix: 'O' first, then BIO/BIOES tags grouped by entity type
// (types in the order they first appear), B before I before E/S/L/U; other labels keep their order.

const PREFIX_RANK: Record<string, number> = { B: 0, I: 1, E: 2, L: 2, S: 3, U: 3 };

export function orderLabels(labels: readonly string[]): number[] {
  const typeOrder = new Map<string, number>();
  const keyed = labels.map((l, i) => {
    const m = /^([BIESLU])[-_](.+)$/.exec(l);
    const type = m ? m[2] : l;
    if (!typeOrder.has(type)) typeOrder.set(type, typeOrder.size);
    return { i, isO: l === 'O', type, rank: m ? PREFIX_RANK[m[1]] : -1 };
  });
  keyed.sort((a, b) => {
    if (a.isO !== b.isO) return a.isO ? -1 : 1;
    const ta = typeOrder.get(a.type)!,
      tb = typeOrder.get(b.type)!;
    if (ta !== tb) return ta - tb;
    if (a.rank !== b.rank) return a.rank - b.rank;
    return a.i - b.i;
  });
  return keyed.map((k) => k.i);
}
