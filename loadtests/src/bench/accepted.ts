/** Step 2: the accepted path end to end under the same wrk load (a new user per request, ample stock). */
import { createCoupon, type Stats, waitPersisted } from './admin.ts';
import { SECONDS } from './config.ts';
import { cpuPerRequest, ONE_NODE, type Target } from './procs.ts';
import { type Step, wrk } from './wrk.ts';

export type Accepted = Step & { couponId: number; stats: Stats };

export async function acceptedPath(t: Target = ONE_NODE): Promise<Accepted> {
  const { id } = await createCoupon(10_000_000, 'accepted path', t.url);
  // A new coupon, so user ids only need to be distinct within this step.
  await wrk(t.url, 2, [String(id), '1']); // warm-up (JIT, keep-alive pools)
  await waitPersisted(id, 60_000, t.url);
  const before = await t.cpu();
  const r = await wrk(t.url, SECONDS, [String(id), '1000000000']);
  const s = await waitPersisted(id, 120_000, t.url); // the persister's share of the work ends here
  return { ...r, cpuMs: cpuPerRequest(before, await t.cpu(), r.requests), couponId: id, stats: s };
}
