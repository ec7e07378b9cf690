import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, OUTCOME_HEADER, parseId, REQUEST_ID_HEADER } from '@coupon/contracts';
import { requestIdFrom } from '@coupon/kit';
import type { EdgeSoldOut } from './edge.js';
import type { ClientLimiter } from './fairness/client-limiter.js';
import { REJECTED } from './issue.js';

/** The issue route in the one form clients send: ids as plain digits, one couponId, nothing else. */
const ISSUE_URL = /^\/coupons\/(\d{1,16})\/issue-async\?couponId=(\d{1,16})$/;

export interface EdgeAnswerDeps {
  edge: EdgeSoldOut;
  /** When it limits by address, that check comes first: such requests are left to the route. */
  clients?: Pick<ClientLimiter, 'limitsAddress'>;
  /** Counts the answer as the route's middlewares would (results, server latency). */
  answered?: (seconds: number) => void;
}

/**
 * The edge's SOLD_OUT answered on node's own request and response, before Hono builds its own
 * (kit's `listen({ before })`): the same answer, headers and body as the issue route gives
 * (issue.ts), for the requests that are most of a flash crowd after the stock is gone. Anything else,
 * a URL in another form included, goes on to the route, which decides the same way.
 */
export function edgeAnswer(deps: EdgeAnswerDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { code, message } = REJECTED.SOLD_OUT;
  return (req, res) => {
    if (req.method !== 'POST' || deps.clients?.limitsAddress) return false;
    const m = ISSUE_URL.exec(req.url ?? '');
    if (!m) return false;
    const couponId = parseId(m[2]);
    if (couponId === undefined || parseId(m[1]) === undefined || !deps.edge.soldOut(couponId)) return false;
    const t0 = performance.now();
    const given = req.headers[REQUEST_ID_HEADER];
    const requestId = requestIdFrom(typeof given === 'string' ? given : undefined);
    const body = JSON.stringify(errorBody(code, message, requestId));
    res.writeHead(409, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      [REQUEST_ID_HEADER]: requestId,
      [OUTCOME_HEADER]: code,
    });
    res.end(body);
    deps.answered?.((performance.now() - t0) / 1_000);
    return true;
  };
}
