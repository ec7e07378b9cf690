/**
 * The gateway's admin API as the bench uses it: create a coupon, read its stats, wait until persisted.
 * `base`: the topology's public URL (BASE_URL, or HAProxy's with --ha).
 */
import { ADMIN_TOKEN, BASE_URL, DRY, plan, sleep } from './config.ts';

export interface Stats {
  quantity: number;
  admitted: number;
  persisted: number;
  dlt: number;
}

let dryId = 0;

async function admin<T>(method: string, path: string, body: unknown, base: string): Promise<T> {
  if (DRY) {
    plan(`${method} ${base}${path}${body === undefined ? '' : ` ${JSON.stringify(body)}`}`);
    if (method === 'POST') dryId++;
    return { id: dryId, quantity: 1, admitted: 0, persisted: 0, dlt: 0 } as T;
  }
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export const createCoupon = (quantity: number, name: string, base = BASE_URL) =>
  admin<{ id: number }>('POST', '/admin/coupons', { quantity, name: `bench ${name}` }, base);

/** PATCH /admin/settings: the gateways' run-time settings (null: back to their environment). */
export const changeSettings = (patch: Record<string, unknown>, base = BASE_URL) =>
  admin<unknown>('PATCH', '/admin/settings', patch, base);

const stats = (id: number, base: string) =>
  admin<Stats>('GET', `/admin/coupons/${id}/stats`, undefined, base);

/** Polls the stats until every admitted user is a row or a DLT entry, or the time is up. */
export async function waitPersisted(id: number, timeoutMs: number, base = BASE_URL): Promise<Stats> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await stats(id, base);
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
