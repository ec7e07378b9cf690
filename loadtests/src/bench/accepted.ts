/** Step 2: the accepted path end to end under the same wrk load (a new user per request, ample stock). */
import { createCoupon, type Stats, waitPersisted } from './admin.ts';
import { BASE_URL, SECONDS } from './config.ts';
import { cpuPerRequest, cpuSnapshot } from './procs.ts';
import { type Step, wrk } from './wrk.ts';

export async function acceptedPath(): Promise<Step & { couponId: number; stats: Stats }> {
  const { id } = await createCoupon(10_000_000, 'accepted path');
  // A new coupon, so user ids only need to be distinct within this step.
  await wrk(BASE_URL, 2, [String(id), '1']); // warm-up (JIT, keep-alive pools)
  await waitPersisted(id, 60_000);
  const before = await cpuSnapshot();
  const r = await wrk(BASE_URL, SECONDS, [String(id), '1000000000']);
  const s = await waitPersisted(id, 120_000); // the persister's share of the work ends here
  return { ...r, cpuMs: cpuPerRequest(before, await cpuSnapshot(), r.requests), couponId: id, stats: s };
}
