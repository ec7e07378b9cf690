import { describe, expect, it } from 'vitest';
import { countAdmitted } from './admitted.js';

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

describe('countAdmitted: remaining = quantity − |rows ∪ in flight ∪ DLT|', () => {
  it('happy: each source counts, a user in several sources counts once', () => {
    const c = countAdmitted({ quantity: 10, rows: [1, 2, 3], inFlight: [3, 4, 5], inDlt: [5, 6, 1] });
    expect(sorted(c.admitted)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(c).toMatchObject({ persisted: 3, inFlight: 2, inDlt: 1, kept: 0, remaining: 4 });
  });

  it('happy: a forced rebuild keeps the users the gate held', () => {
    const c = countAdmitted({ quantity: 5, rows: [1], inFlight: [], inDlt: [], kept: [1, 7] });
    expect(sorted(c.admitted)).toEqual([1, 7]);
    expect(c.remaining).toBe(3);
  });

  it('error: never the full quantity after a loss, and never below 0 when more were admitted', () => {
    expect(countAdmitted({ quantity: 3, rows: [], inFlight: [9], inDlt: [], kept: [] }).remaining).toBe(2);
    const over = countAdmitted({ quantity: 2, rows: [1, 2], inFlight: [3], inDlt: [4] });
    expect(over).toMatchObject({ remaining: 0, inFlight: 1, inDlt: 1 });
    expect(over.admitted).toHaveLength(4);
  });

  it('happy: nothing admitted → the full quantity (a coupon nobody got yet)', () => {
    expect(countAdmitted({ quantity: 8, rows: [], inFlight: [], inDlt: [] })).toMatchObject({
      admitted: [],
      remaining: 8,
    });
  });
});
