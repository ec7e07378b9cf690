// Shared pieces of the k6 suites (k6 v1, plain JS): base URL, the issue call and its outcome counters,
// coupon creation in setup() and the invariant check in teardown().
//
// Environment: BASE_URL (default http://127.0.0.1:3000), ADMIN_TOKEN (loadtests/run passes the
// installation's from .local/secrets.env; default dev-admin-token), DRAIN_TIMEOUT_S (how long
// teardown waits for persisted to catch up with admitted, default 90), SCALE (multiplies every
// arrival rate, default 1: use 0.5 on a slower box), DURATION_SCALE (multiplies the stages' lengths
// of the suites that read it, default 1: 0.5 halves the seed), AUTH_JWT_SECRET (when set, every issue
// request carries an HS256 bearer JWT for its user signed with it: a gateway with AUTH_MODE=jwt and
// the same AUTH_JWT_SECRET; docs/auth.md).
import { check, sleep } from 'k6';
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Gauge } from 'k6/metrics';

export const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:3000').replace(/\/+$/, '');
const ADMIN_TOKEN = __ENV.ADMIN_TOKEN || 'dev-admin-token';
const DRAIN_TIMEOUT_S = Number(__ENV.DRAIN_TIMEOUT_S || 90);
export const SCALE = Number(__ENV.SCALE || 1);
const DURATION_SCALE = Number(__ENV.DURATION_SCALE || 1);

/** Tag of every issue request: one time series, and the submetrics the report reads. */
export const ISSUE = 'issue-async';
const ADMIN = 'admin';

// Sold out and duplicate are business answers, not errors: only other statuses count in http_req_failed.
http.setResponseCallback(http.expectedStatuses(202, 409));
const adminOk = http.expectedStatuses(200, 201);

const outcome = {
  accepted: new Counter('issue_accepted'),
  soldOut: new Counter('issue_sold_out'),
  alreadyIssued: new Counter('issue_already_issued'),
  rateLimited: new Counter('issue_rate_limited'),
  unavailable: new Counter('issue_unavailable'),
  unexpected: new Counter('issue_unexpected'),
  // Of the unexpected: the gateway refused the token (401) or its `sub` is another user (403). Apart,
  // so a run with auth on says at once whether the signing is wrong (tests/integration/k6-auth.test.ts).
  unauthenticated: new Counter('issue_unauthenticated'),
  forbidden: new Counter('issue_forbidden'),
};

// Written by teardown(): the coupon's state once the persister caught up, and the broken invariants.
const violations = new Counter('invariant_violations');
const gauges = {
  quantity: new Gauge('coupon_quantity'),
  admitted: new Gauge('coupon_admitted'),
  persisted: new Gauge('coupon_persisted'),
  dlt: new Gauge('coupon_dlt'),
  drain: new Gauge('coupon_drain_seconds'),
};

/** k6 options every suite starts from. */
export function suiteOptions(extra) {
  return Object.assign(
    {
      // p(80) etc. for the report's latency table (the seed's rows).
      summaryTrendStats: ['min', 'med', 'p(80)', 'p(90)', 'p(95)', 'p(99)', 'max', 'avg', 'count'],
      // Fewer tags, fewer time series in Prometheus (remote write): `name` groups every issue URL into
      // one, and without `status` and `error_code` (1409 for a 409) the 202s and 409s, both expected,
      // share one series, whose trend stats are then those of every expected answer (the outcome
      // counters tell the statuses apart).
      systemTags: ['method', 'name', 'scenario', 'expected_response', 'check'],
      setupTimeout: '60s',
      teardownTimeout: `${DRAIN_TIMEOUT_S + 60}s`,
      // The gateway says each issue answer's outcome in its x-outcome header: k6 need not keep or
      // scan the bodies (the admin calls ask for theirs with responseType: 'text').
      discardResponseBodies: true,
    },
    extra,
  );
}

/**
 * Thresholds every suite has: no unexpected status, no broken invariant, and submetrics on the issue
 * requests only (setup and teardown call the admin API) so the summary carries their trend stats.
 */
export function baseThresholds(extra) {
  return Object.assign(
    {
      http_req_failed: ['rate<0.001'],
      issue_unexpected: ['count==0'],
      invariant_violations: ['count==0'],
      [`http_req_duration{name:${ISSUE}}`]: ['max>=0'],
      [`http_req_blocked{name:${ISSUE}}`]: ['max>=0'],
      [`http_reqs{name:${ISSUE}}`]: ['count>=0'],
    },
    extra,
  );
}

const AUTH_JWT_SECRET = __ENV.AUTH_JWT_SECRET || '';
/** Whether issue() sends a bearer JWT (AUTH_JWT_SECRET is set). */
export const SIGNS_TOKENS = AUTH_JWT_SECRET !== '';
const JWT_HEADER = encoding.b64encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' }), 'rawurl');
/** This VU's tokens by user (signed once, reused until ten minutes before their hour is up). */
const tokens = {};

/** `Bearer <JWT>` for userId: HS256 with AUTH_JWT_SECRET, `sub` the user, valid for an hour. */
function bearer(userId) {
  const now = Math.floor(Date.now() / 1000);
  const t = tokens[userId];
  if (t && t.exp - 600 > now) return t.value;
  const exp = now + 3600;
  const body = `${JWT_HEADER}.${encoding.b64encode(JSON.stringify({ sub: String(userId), exp }), 'rawurl')}`;
  const value = `Bearer ${body}.${crypto.hmac('sha256', AUTH_JWT_SECRET, body, 'base64rawurl')}`;
  tokens[userId] = { value, exp };
  return value;
}

/** Scales an arrival rate by SCALE (at least 1 request per time unit). */
export function rate(n) {
  return Math.max(1, Math.round(n * SCALE));
}

/** A stage's duration, `seconds` scaled by DURATION_SCALE (at least 1 s), as k6 spells it. */
export function span(seconds) {
  return `${Math.max(1, Math.round(seconds * DURATION_SCALE))}s`;
}

/**
 * POST /coupons/{userId}/issue-async?couponId=…, counted by outcome: the status, and for a 409 the
 * x-outcome header (SOLD_OUT or ALREADY_ISSUED; the body is discarded unread).
 */
export function issue(couponId, userId) {
  const res = http.post(`${BASE_URL}/coupons/${userId}/issue-async?couponId=${couponId}`, null, {
    tags: { name: ISSUE },
    timeout: '10s',
    headers: SIGNS_TOKENS ? { authorization: bearer(userId) } : undefined,
  });
  const s = res.status;
  if (s === 202) outcome.accepted.add(1);
  else if (s === 409) {
    const o = res.headers['X-Outcome'];
    if (o === 'SOLD_OUT') outcome.soldOut.add(1);
    else if (o === 'ALREADY_ISSUED') outcome.alreadyIssued.add(1);
    else outcome.unexpected.add(1);
  } else if (s === 429) outcome.rateLimited.add(1);
  else if (s === 503) outcome.unavailable.add(1);
  else {
    outcome.unexpected.add(1);
    if (s === 401) outcome.unauthenticated.add(1);
    else if (s === 403) outcome.forbidden.add(1);
  }
  // No check() here: the outcome counters already classify every answer (issue_unexpected has a
  // threshold), and a check is one more metric sample per request for k6 to aggregate.
  return res;
}

function admin(method, path, body) {
  const res = http.request(method, `${BASE_URL}${path}`, body === undefined ? null : JSON.stringify(body), {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    tags: { name: ADMIN },
    responseCallback: adminOk,
    responseType: 'text', // the suites discard bodies; this one is read
    timeout: '10s',
  });
  if (res.status !== 200 && res.status !== 201) {
    exec.test.abort(`${method} ${path} answered ${res.status}: ${res.body}`);
  }
  return res.json();
}

/** Creates the coupon of this run through the admin API (setup()). */
export function createCoupon(quantity, name) {
  const c = admin('POST', '/admin/coupons', { quantity, name: `loadtest ${name}` });
  console.log(`coupon ${c.id} created: quantity ${quantity}`);
  return c.id;
}

export function stats(couponId) {
  return admin('GET', `/admin/coupons/${couponId}/stats`);
}

/** A user id that is unique in the whole test: the scenario's global iteration number, offset. */
export function iterationUser(offset) {
  return (offset || 0) + exec.scenario.iterationInTest + 1;
}

/**
 * teardown(): waits (bounded) until every admitted user is a row or a DLT entry, then checks the
 * invariants against the coupon's stats and counts each broken one in `invariant_violations`, whose
 * threshold fails the run. `expect`:
 *   soldOut: true   more distinct users called than the quantity: rows must equal the quantity
 *   admitted: n     exactly n distinct users called with stock to spare: rows must equal n
 * Always: admitted <= quantity (no over-issue), persisted + dlt == admitted (no loss), dlt == 0.
 * The report cross-checks admitted against the number of 202 answers k6 counted.
 */
export function verify(data, expect) {
  const t0 = Date.now();
  let s = stats(data.couponId);
  while (s.persisted + s.dlt < s.admitted && Date.now() - t0 < DRAIN_TIMEOUT_S * 1000) {
    sleep(0.25);
    s = stats(data.couponId);
  }
  const drained = (Date.now() - t0) / 1000;
  gauges.quantity.add(s.quantity);
  gauges.admitted.add(s.admitted);
  gauges.persisted.add(s.persisted);
  gauges.dlt.add(s.dlt);
  gauges.drain.add(drained);
  console.log(`coupon ${data.couponId} after ${drained.toFixed(1)} s: ${JSON.stringify(s)}`);

  const broken = [];
  if (s.admitted > s.quantity) broken.push(`over-issue: admitted ${s.admitted} > quantity ${s.quantity}`);
  if (s.persisted > s.quantity) broken.push(`over-issue: ${s.persisted} rows > quantity ${s.quantity}`);
  if (s.persisted + s.dlt !== s.admitted)
    broken.push(
      `loss: admitted ${s.admitted} but ${s.persisted} rows + ${s.dlt} in DLT after ${DRAIN_TIMEOUT_S} s`,
    );
  if (s.dlt > 0) broken.push(`${s.dlt} events in the DLT`);
  if (expect?.soldOut && s.persisted !== s.quantity)
    broken.push(`sold out expected: ${s.persisted} rows, quantity ${s.quantity}`);
  if (expect?.admitted !== undefined && s.persisted !== expect.admitted)
    broken.push(`${expect.admitted} distinct users called: ${s.persisted} rows`);
  for (const b of broken) {
    console.error(`INVARIANT BROKEN: ${b}`);
    violations.add(1);
  }
  violations.add(0);
  check(s, {
    'invariants hold (rows = min(quantity, distinct users), no over-issue, no loss)': () =>
      broken.length === 0,
  });
  return s;
}
