/**
 * The gateway's admin API as the bench uses it: create a coupon, read its stats, wait until persisted.
 * `base`: the topology's public URL (BASE_URL, or HAProxy's with --ha).
 */
import { adminClient, type CouponStats, type SettingsPatch } from '@coupon/contracts';
import { ADMIN_TOKEN, BASE_URL, DRY, plan, sleep } from './config.ts';

export type Stats = Pick<CouponStats, 'quantity' | 'admitted' | 'persisted' | 'dlt'>;

let dryId = 0;

/** --dry-run: a line of the plan instead of the call, and a stand-in answer (a new id for each POST). */
const dryFetch: typeof fetch = async (url, init) => {
  plan(`${init?.method} ${url}${init?.body ? ` ${init.body}` : ''}`);
  if (init?.method === 'POST') dryId++;
  return Response.json({ id: dryId, quantity: 1, admitted: 0, persisted: 0, dlt: 0 });
};

const clients = new Map<string, ReturnType<typeof adminClient>>();
/** One client per topology's public URL. */
function api(base: string): ReturnType<typeof adminClient> {
  let c = clients.get(base);
  if (!c) {
    c = adminClient({ url: base, token: ADMIN_TOKEN, ...(DRY ? { fetch: dryFetch } : {}) });
    clients.set(base, c);
  }
  return c;
}

export const createCoupon = (quantity: number, name: string, base = BASE_URL) =>
  api(base).createCoupon({ quantity, name: `bench ${name}` });

/** PATCH /admin/settings: the gateways' run-time settings (null: back to their environment). */
export const changeSettings = (patch: SettingsPatch, base = BASE_URL) => api(base).changeSettings(patch);

/** Polls the stats until every admitted user is a row or a DLT entry, or the time is up. */
export async function waitPersisted(id: number, timeoutMs: number, base = BASE_URL): Promise<Stats> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await api(base).couponStats({ couponId: id });
    if (s.persisted + s.dlt >= s.admitted || Date.now() > until) return s;
    await sleep(250);
  }
}

/** One issue request (no token: the public route). */
export async function issue(userId: number, couponId: number, base = BASE_URL): Promise<void> {
  const url = `${base}/coupons/${userId}/issue-async?couponId=${couponId}`;
  if (DRY) plan(`POST ${url}`);
  else await fetch(url, { method: 'POST' });
}
