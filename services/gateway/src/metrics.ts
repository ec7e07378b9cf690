import { ADMIN_CHANGES, type AdminChange, type ErrorCode } from '@coupon/contracts';
import { Counter, createRegistry, type Env, Gauge, Histogram, type Registry } from '@coupon/kit';
import type { MiddlewareHandler } from 'hono';
import type { AuthStats } from './auth/authenticator.js';
import type { ClientLimiterStats } from './fairness/client-limiter.js';
import { LIMITER_MODES, type LimiterMode, type LimiterStats } from './rate-limit.js';

/** What the edge answered to POST /coupons/{userId}/issue-async. Closed set: dashboards and alerts filter on it. */
export const ISSUE_RESULTS = [
  'issued',
  'already_issued',
  'sold_out',
  'not_found',
  'not_open',
  'paused',
  'invalid',
  'unauthenticated',
  'forbidden',
  'rate_limited',
  'unavailable',
  'internal',
] as const;
export type IssueResult = (typeof ISSUE_RESULTS)[number];

const BY_CODE: Partial<Record<ErrorCode, IssueResult>> = {
  ALREADY_ISSUED: 'already_issued',
  SOLD_OUT: 'sold_out',
  COUPON_NOT_FOUND: 'not_found',
  COUPON_NOT_OPEN: 'not_open',
  COUPON_PAUSED: 'paused',
  INVALID_REQUEST: 'invalid',
  PAYLOAD_TOO_LARGE: 'invalid',
  UNAUTHENTICATED: 'unauthenticated',
  FORBIDDEN: 'forbidden',
  RATE_LIMITED: 'rate_limited',
  UNAVAILABLE: 'unavailable',
};

/** Maps an answer to its result: 202 is issued; otherwise the error code fail() recorded. */
export function issueResult(status: number, code: ErrorCode | undefined): IssueResult {
  if (status === 202) return 'issued';
  return (code && BY_CODE[code]) || 'internal';
}

/** 0 closed, 1 half-open, 2 open: the order of severity, so max() over instances is the worst. */
export const BREAKER_STATES = { closed: 0, halfOpen: 1, open: 2 } as const;

/** The slice of an opossum breaker the metrics read. */
export interface BreakerLike {
  readonly closed: boolean;
  readonly halfOpen: boolean;
  on(event: 'open' | 'halfOpen' | 'close', listener: () => void): unknown;
}

/** The slice of the rate limiter the metrics read. */
export interface LimiterLike {
  readonly mode: LimiterMode;
  readonly stats: Readonly<LimiterStats>;
}

export interface GatewayMetrics {
  registry: Registry;
  /** Counts issue results; mount on the issue route only. */
  issueResults: MiddlewareHandler<Env>;
  /** Exposes a breaker's state (read on scrape) and counts its transitions. */
  watchBreaker(name: string, breaker: BreakerLike): void;
  /** Exposes where the rate limiter's bucket lives and what its fallback decided (read on scrape). */
  watchLimiter(limiter: LimiterLike): void;
  /** Counts the SOLD_OUT answers the edge gave itself (read on scrape). */
  watchEdge(edge: { readonly answered: number }): void;
  /**
   * One SOLD_OUT answered before Hono (edge-answer.ts), counted as the issue route's middlewares
   * count theirs: its result and its server latency.
   */
  answeredBeforeRoute(seconds: number): void;
  /** Counts one operator change (admin_changes_total{action}). */
  adminChange(action: AdminChange): void;
  /** Exposes the token checks (verified, from the cache, refused) and the per-client limits' refusals. */
  watchClients(edge: {
    auth?: { stats: Readonly<AuthStats> };
    clients?: { stats: Readonly<ClientLimiterStats> };
  }): void;
}

/** The issue route's pattern as the server latency histogram labels it. */
const ISSUE_ROUTE = '/coupons/:userId/issue-async';

export function createGatewayMetrics(registry: Registry = createRegistry('gateway')): GatewayMetrics {
  let edgeLatency: { observe(v: number): void } | undefined;
  const results = new Counter({
    name: 'coupon_issue_results_total',
    help: 'Answers of the issue endpoint by result (issued = 202; the rest are the error codes of docs/outcomes.md).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  // Pre-bound children, all present from the start (a rate over a series that appears late misses its first increase).
  const byResult = {} as Record<IssueResult, Counter.Internal>;
  for (const r of ISSUE_RESULTS) {
    byResult[r] = results.labels(r);
    byResult[r].inc(0);
  }
  const rejections = new Counter({
    name: 'rate_limiter_rejections_total',
    help: 'Issue requests refused with 429: the token bucket was empty, or a per-user or per-address limit was reached (client_limit_rejections_total).',
    registers: [registry],
  });

  const breakers = new Map<string, BreakerLike>();
  new Gauge({
    name: 'circuit_breaker_state',
    help: 'Circuit breaker state read on scrape: 0 closed, 1 half-open, 2 open.',
    labelNames: ['breaker'] as const,
    registers: [registry],
    collect() {
      for (const [name, b] of breakers) {
        this.set(
          { breaker: name },
          b.closed ? BREAKER_STATES.closed : b.halfOpen ? BREAKER_STATES.halfOpen : BREAKER_STATES.open,
        );
      }
    },
  });
  const transitions = new Counter({
    name: 'circuit_breaker_transitions_total',
    help: 'Circuit breaker state changes, by the state entered (open, half_open, closed).',
    labelNames: ['breaker', 'to'] as const,
    registers: [registry],
  });

  let limiter: LimiterLike | undefined;
  new Gauge({
    name: 'rate_limiter_mode',
    help: 'Where the token bucket lives, read on scrape: 0 per instance (RATE_LIMIT_SHARED=false), 1 shared in Redis, 2 per-instance fallback while the shared bucket fails.',
    registers: [registry],
    collect() {
      if (limiter) this.set(LIMITER_MODES[limiter.mode]);
    },
  });
  // Counters the limiter keeps as plain numbers (nothing on its hot path), brought up to date on
  // scrape. Children pre-bound at 0, like the results above.
  const decisions = new Counter({
    name: 'rate_limiter_fallback_decisions_total',
    help: 'Issue requests the per-instance fallback bucket decided while the shared bucket in Redis failed: admitted, or rejected with 429.',
    labelNames: ['decision'] as const,
    registers: [registry],
    collect: () => {
      if (!limiter) return;
      catchUp(fallbackAdmitted, 'admitted', limiter.stats.fallbackAdmitted);
      catchUp(fallbackRejected, 'rejected', limiter.stats.fallbackRejected);
    },
  });
  const switches = new Counter({
    name: 'rate_limiter_mode_switches_total',
    help: 'Switches of the shared rate limiter to the per-instance fallback bucket (to="fallback") and back (to="shared").',
    labelNames: ['to'] as const,
    registers: [registry],
    collect: () => {
      if (!limiter) return;
      catchUp(toFallback, 'fallback', limiter.stats.toFallback);
      catchUp(toShared, 'shared', limiter.stats.toShared);
    },
  });
  const fallbackAdmitted = decisions.labels('admitted');
  const fallbackRejected = decisions.labels('rejected');
  const toFallback = switches.labels('fallback');
  const toShared = switches.labels('shared');
  for (const c of [fallbackAdmitted, fallbackRejected, toFallback, toShared]) c.inc(0);
  const seen = { admitted: 0, rejected: 0, fallback: 0, shared: 0 };
  const catchUp = (child: Counter.Internal, key: keyof typeof seen, now: number) => {
    if (now > seen[key]) child.inc(now - seen[key]);
    seen[key] = now;
  };

  let edge: { readonly answered: number } | undefined;
  let edgeSeen = 0;
  new Counter({
    name: 'edge_sold_out_answers_total',
    help: 'SOLD_OUT answers the gateway gave itself after the issuer had said so (EDGE_SOLD_OUT_TTL_MS), without crossing to the issuer.',
    registers: [registry],
    collect() {
      if (!edge) return;
      if (edge.answered > edgeSeen) this.inc(edge.answered - edgeSeen);
      edgeSeen = edge.answered;
    },
  });
  const changes = new Counter({
    name: 'admin_changes_total',
    help: "The operator's changes through the admin API, by action (each is also one 'admin change' log line with its actor and old and new values).",
    labelNames: ['action'] as const,
    registers: [registry],
  });
  // The label values: the changes the admin API declares (contracts' ADMIN_CHANGES).
  for (const a of ADMIN_CHANGES) changes.labels(a).inc(0);
  // The edge's own counters, plain numbers on its hot path, brought up to date on scrape.
  let clients: Parameters<GatewayMetrics['watchClients']>[0] = {};
  const lastSeen = new Map<Counter.Internal, number>();
  const sync = (child: Counter.Internal, now: number | undefined) => {
    const before = lastSeen.get(child) ?? 0;
    if (now !== undefined && now > before) child.inc(now - before);
    if (now !== undefined) lastSeen.set(child, now);
  };
  const tokenChecks = new Counter({
    name: 'auth_token_checks_total',
    help: 'Bearer JWTs of the issue and status routes (AUTH_MODE=jwt): signature checked (verified), answered from the cache of verified tokens (cached), or refused with 401 (rejected).',
    labelNames: ['result'] as const,
    registers: [registry],
    collect: () => {
      sync(verified, clients.auth?.stats.verified);
      sync(cached, clients.auth?.stats.cacheHits);
      sync(refused, clients.auth?.stats.rejected);
    },
  });
  const verified = tokenChecks.labels('verified');
  const cached = tokenChecks.labels('cached');
  const refused = tokenChecks.labels('rejected');
  const clientLimits = new Counter({
    name: 'client_limit_rejections_total',
    help: 'Issue requests refused with 429 by a per-client limit: per user (RATE_LIMIT_USER_PER_SEC) or per address (RATE_LIMIT_ADDRESS_PER_SEC).',
    labelNames: ['limit'] as const,
    registers: [registry],
    collect: () => {
      sync(byUser, clients.clients?.stats.userRejected);
      sync(byAddress, clients.clients?.stats.addressRejected);
    },
  });
  const byUser = clientLimits.labels('user');
  const byAddress = clientLimits.labels('address');
  for (const c of [verified, cached, refused, byUser, byAddress]) c.inc(0);

  return {
    registry,
    watchEdge(e) {
      edge = e;
    },
    watchClients(c) {
      clients = c;
    },
    adminChange(action) {
      changes.labels(action).inc();
    },
    answeredBeforeRoute(seconds) {
      byResult.sold_out.inc();
      if (!edgeLatency) {
        // kit's httpMetrics, registered by createApp on this registry: the route's own series.
        const h = registry.getSingleMetric('http_server_request_duration_seconds');
        if (!(h instanceof Histogram)) return;
        edgeLatency = h.labels({ method: 'POST', route: ISSUE_ROUTE, status: '409' });
      }
      edgeLatency.observe(seconds);
    },
    issueResults: async (c, next) => {
      await next();
      const result = issueResult(c.res.status, c.get('errorCode'));
      byResult[result].inc();
      if (result === 'rate_limited') rejections.inc();
    },
    watchBreaker(name, breaker) {
      breakers.set(name, breaker);
      for (const [event, to] of [
        ['open', 'open'],
        ['halfOpen', 'half_open'],
        ['close', 'closed'],
      ] as const) {
        const child = transitions.labels(name, to);
        child.inc(0);
        breaker.on(event, () => child.inc());
      }
    },
    watchLimiter(l) {
      limiter = l;
    },
  };
}
