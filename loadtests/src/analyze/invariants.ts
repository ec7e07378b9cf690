/**
 * The invariants: teardown's gauges and the settled stats, cross-checked with the answers k6 counted
 * and the rows in MySQL.
 */

import { int } from '../format.ts';
import { num, type Summary } from '../k6data.ts';
import type { RowStats } from '../rows.ts';
import type { Invariants } from './types.ts';

export function invariants(summary: Summary | undefined, rows: RowStats | undefined): Invariants {
  const g = (n: string) => num(summary?.metrics[n], 'value');
  const count = (n: string) => num(summary?.metrics[n], 'count') ?? 0;
  const final = rows?.final;
  const inv: Invariants = {
    quantity: final?.quantity ?? g('coupon_quantity'),
    admitted: final?.admitted ?? g('coupon_admitted'),
    persisted: final?.persisted ?? g('coupon_persisted'),
    dlt: final?.dlt ?? g('coupon_dlt'),
    accepted: count('issue_accepted'),
    // Answers that leave the outcome open: the request may have been admitted after all.
    ambiguous: count('issue_unavailable') + count('issue_unexpected'),
    drainSeconds: g('coupon_drain_seconds'),
    broken: [],
  };
  if (summary && inv.admitted === undefined) inv.broken.push('teardown did not report the coupon stats');
  inv.broken.push(...gateBroken(inv), ...rowsBroken(inv, rows, final !== undefined));
  const violations = count('invariant_violations');
  if (violations > 0) inv.broken.push(`${violations} check(s) failed in teardown (see k6.log)`);
  return inv;
}

/** What the gate admitted against the quantity, the 202s and the rows plus the DLT. */
function gateBroken({ quantity, admitted, persisted, dlt, accepted, ambiguous }: Invariants): string[] {
  const broken: string[] = [];
  if (admitted === undefined) return broken;
  if (quantity !== undefined && admitted > quantity)
    broken.push(`over-issue: ${int(admitted)} admitted for ${int(quantity)}`);
  if (admitted < accepted)
    broken.push(`k6 received ${int(accepted)} answers 202 but the gate admitted only ${int(admitted)}`);
  if (admitted - accepted > ambiguous)
    broken.push(
      `the gate admitted ${int(admitted)} users: ${int(admitted - accepted - ambiguous)} more than the 202s and the ${int(ambiguous)} answers without a definite outcome`,
    );
  if (persisted !== undefined && persisted + (dlt ?? 0) !== admitted)
    broken.push(`loss: ${int(admitted)} admitted, ${int(persisted)} rows + ${int(dlt)} in the DLT`);
  return broken;
}

/** The table itself: as many rows as the stats say, no more than the quantity, one per user. */
function rowsBroken(inv: Invariants, rows: RowStats | undefined, settled: boolean): string[] {
  const broken: string[] = [];
  if (!rows) return broken;
  if (inv.persisted !== undefined && settled && rows.rows !== inv.persisted)
    broken.push(`stats say ${int(inv.persisted)} rows, the table has ${int(rows.rows)}`);
  if (inv.quantity !== undefined && rows.rows > inv.quantity)
    broken.push(`over-issue: ${int(rows.rows)} rows for ${int(inv.quantity)}`);
  if (rows.distinctUsers !== rows.rows)
    broken.push(`duplicate rows: ${rows.rows} rows for ${rows.distinctUsers} users`);
  return broken;
}
