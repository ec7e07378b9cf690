/** What a rebuild found, per source. Users may appear in several sources; each counts once. */
export interface AdmittedSources {
  quantity: number;
  /** Users with a row in MySQL. */
  rows: Iterable<number>;
  /** Users whose event is in the main topic beyond the persister's committed offsets. */
  inFlight: Iterable<number>;
  /** Users whose event is parked in the DLT for a reason that still holds their slot. */
  inDlt: Iterable<number>;
  /** Users the current gate holds (a forced rebuild keeps them). */
  kept?: Iterable<number>;
}

export interface AdmittedCount {
  admitted: number[];
  persisted: number;
  /** In flight and without a row. */
  inFlight: number;
  /** In the DLT, without a row and not in flight. */
  inDlt: number;
  kept: number;
  remaining: number;
}

/**
 * Every user who was told 202 holds a slot, whether their event is persisted, still in the topic,
 * or parked in the DLT:
 *   admitted  = rows ∪ in flight ∪ DLT (∪ kept)
 *   remaining = max(0, quantity − |admitted|), never the full quantity after a loss.
 */
export function countAdmitted(s: AdmittedSources): AdmittedCount {
  const rows = new Set(s.rows);
  const flying = new Set([...s.inFlight].filter((u) => !rows.has(u)));
  const parked = new Set([...s.inDlt].filter((u) => !rows.has(u) && !flying.has(u)));
  const kept = [...(s.kept ?? [])];
  const admitted = [...new Set([...rows, ...flying, ...parked, ...kept])];
  return {
    admitted,
    persisted: rows.size,
    inFlight: flying.size,
    inDlt: parked.size,
    kept: kept.length,
    remaining: Math.max(0, s.quantity - admitted.length),
  };
}
