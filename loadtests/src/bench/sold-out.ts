/**
 * Step 3: the sold-out path (quantity exhausted, every request a new user), twice in the same run:
 * with the gateway's sold-out answer at the edge on (EDGE_SOLD_OUT_TTL_MS) and off, switched through
 * the run-time setting `edgeSoldOutTtlMs` (PATCH /admin/settings), which is removed again after.
 */
import { changeSettings, createCoupon, issue, waitPersisted } from './admin.ts';
import { SECONDS } from './config.ts';
import { cpuPerRequest, ONE_NODE, type Target } from './procs.ts';
import { type Step, wrk } from './wrk.ts';

/** The edge answer's lifetime during the "on" run: long enough that the run measures the edge alone. */
const EDGE_ON_MS = 1_000;

export interface SoldOut {
  /** The edge answers SOLD_OUT itself (the default). */
  edgeOn: Step & { couponId: number };
  /** Every request crosses to the issuer. */
  edgeOff: Step & { couponId: number };
}

export async function soldOutPath(t: Target = ONE_NODE): Promise<SoldOut> {
  const { id } = await createCoupon(1, 'sold-out path', t.url);
  await issue(1, id, t.url); // takes the only coupon
  await waitPersisted(id, 30_000, t.url);
  const run = async (edgeSoldOutTtlMs: number, firstUser: number) => {
    await changeSettings({ edgeSoldOutTtlMs }, t.url);
    // Warm-up; meanwhile the other gateways hear of the setting (pub/sub, within a second).
    await wrk(t.url, 2, [String(id), String(firstUser)]);
    const before = await t.cpu();
    const r = await wrk(t.url, SECONDS, [String(id), String(firstUser + 100_000_000)]);
    return { ...r, cpuMs: cpuPerRequest(before, await t.cpu(), r.requests), couponId: id };
  };
  try {
    const edgeOn = await run(EDGE_ON_MS, 1_000_000_000);
    const edgeOff = await run(0, 2_000_000_000);
    return { edgeOn, edgeOff };
  } finally {
    await changeSettings({ edgeSoldOutTtlMs: null }, t.url);
  }
}
