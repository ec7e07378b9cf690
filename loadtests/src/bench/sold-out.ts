/** Step 3: the sold-out path (quantity exhausted, every request a new user). */
import { createCoupon, issue, waitPersisted } from './admin.ts';
import { BASE_URL, SECONDS } from './config.ts';
import { cpuPerRequest, cpuSnapshot } from './procs.ts';
import { type Step, wrk } from './wrk.ts';

export async function soldOutPath(): Promise<Step & { couponId: number }> {
  const { id } = await createCoupon(1, 'sold-out path');
  await issue(1, id); // takes the only coupon
  await wrk(BASE_URL, 2, [String(id), '2']);
  await waitPersisted(id, 30_000);
  const before = await cpuSnapshot();
  const r = await wrk(BASE_URL, SECONDS, [String(id), '1000000000']);
  return { ...r, cpuMs: cpuPerRequest(before, await cpuSnapshot(), r.requests), couponId: id };
}
