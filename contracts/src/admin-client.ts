import { ADMIN_API, ADMIN_BASE } from './admin-api.js';
import { ADMIN_ACTOR_HEADER } from './controls.js';
import { type Operation, type OperationArgs, type OperationResult, pathOf } from './operation.js';

export interface AdminClientOptions {
  /** The gateway's base URL (`http://127.0.0.1:3000`). */
  url: string;
  /** The gateway's ADMIN_TOKEN. */
  token: string;
  /** Sent as x-admin-actor: who the change log names (the gateway's default: ADMIN_TOKEN). */
  actor?: string;
  /** A call that takes longer fails (default: no limit). */
  timeoutMs?: number;
  /** Another fetch (a dry run's, a test's). */
  fetch?: typeof fetch;
}

/** An answer other than the operation's success: its status and body. */
export class AdminCallError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    call: string,
  ) {
    super(`${call} → ${status} ${JSON.stringify(body)}`);
    this.name = 'AdminCallError';
  }
}

type Api = typeof ADMIN_API;
/** One method per admin operation, named by its operationId: `pauseCoupon({ couponId })`. */
export type AdminClient = {
  [K in keyof Api]: (...args: OperationArgs<Api[K]>) => Promise<OperationResult<Api[K]>>;
};

/** The gateway's admin API, typed from its declarations (admin-api.ts). Answers are not re-validated. */
export function adminClient(opts: AdminClientOptions): AdminClient {
  const send = opts.fetch ?? fetch;
  const call = async (op: Operation, args: unknown[]): Promise<unknown> => {
    const take = <T>(present: unknown) => (present ? (args.shift() as T) : undefined);
    const params = take<Record<string, unknown>>(op.params);
    const query = take<Record<string, unknown>>(op.query);
    const body = take(op.body);
    const url = `${opts.url}${ADMIN_BASE}${pathOf(op, params, query)}`;
    const method = op.method.toUpperCase();
    const res = await send(url, {
      method,
      headers: {
        authorization: `Bearer ${opts.token}`,
        'content-type': 'application/json',
        ...(opts.actor ? { [ADMIN_ACTOR_HEADER]: opts.actor } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined,
    });
    const json: unknown = await res.json().catch(() => undefined);
    if (!res.ok) throw new AdminCallError(res.status, json, `${method} ${url}`);
    return json;
  };
  return Object.fromEntries(
    Object.values(ADMIN_API).map((op) => [op.operationId, (...args: unknown[]) => call(op, args)]),
  ) as AdminClient;
}
