/**
 * Step 3: the sold-out path (quantity exhausted, every request a new user), twice in the same run:
 * with the gateway's sold-out answer at the edge on (EDGE_SOLD_OUT_TTL_MS) and off, switched through
 * the run-time setting `edgeSoldOutTtlMs` (PATCH /admin/settings), which is removed again after.
 */
import { changeSettings, createCoupon, issue, waitPersisted } from './admin.ts';
import { BASE_URL, SECONDS } from './config.ts';
import { cpuPerRequest, cpuSnapshot } from './procs.ts';
import { type Step, wrk } from './wrk.ts';

/** The edge answer's lifetime during the "on" run: long enough that the run measures the edge alone. */
const EDGE_ON_MS = 1_000;

export interface SoldOut {
  /** The edge answers SOLD_OUT itself (the default). */
  edgeOn: Step & { couponId: number };
  /** Every request crosses to the issuer. */
  edgeOff: Step & { couponId: number };
}

export async function soldOutPath(): Promise<SoldOut> {
  const { id } = await createCoupon(1, 'sold-out path');
  await issue(1, id); // takes the only coupon
  await waitPersisted(id, 30_000);
  const run = async (edgeSoldOutTtlMs: number, firstUser: number) => {
    await changeSettings({ edgeSoldOutTtlMs });
    await wrk(BASE_URL, 2, [String(id), String(firstUser)]); // warm-up
    const before = await cpuSnapshot();
    const r = await wrk(BASE_URL, SECONDS, [String(id), String(firstUser + 100_000_000)]);
    return { ...r, cpuMs: cpuPerRequest(before, await cpuSnapshot(), r.requests), couponId: id };
  };
  try {
    const edgeOn = await run(EDGE_ON_MS, 1_000_000_000);
    const edgeOff = await run(0, 2_000_000_000);
    return { edgeOn, edgeOff };
  } finally {
    await changeSettings({ edgeSoldOutTtlMs: null });
  }
}
