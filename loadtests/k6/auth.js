// Auth: the suites' token signing against a gateway with AUTH_MODE=jwt, in a few seconds. USERS
// (default 100) distinct users call once each, 20 at a time, for a coupon of QUANTITY (default 60),
// each with the HS256 bearer JWT lib.js signs for it with AUTH_JWT_SECRET: a token the gateway
// refuses (401) or whose `sub` is not the path's user (403) is unexpected, so passing means every
// token verified for its own user. Then exactly QUANTITY accepted and rows, the rest SOLD_OUT.
// CI runs it through tests/integration/k6-auth.test.ts, also with a wrong secret (every answer 401).
import exec from 'k6/execution';
import {
  baseThresholds,
  createCoupon,
  issue,
  iterationUser,
  SIGNS_TOKENS,
  suiteOptions,
  verify,
} from './lib.js';

const USERS = Number(__ENV.USERS || 100);
const QUANTITY = Number(__ENV.QUANTITY || 60);

export const options = suiteOptions({
  scenarios: {
    auth: { executor: 'shared-iterations', vus: 20, iterations: USERS, maxDuration: '30s' },
  },
  thresholds: baseThresholds({
    issue_accepted: [`count==${Math.min(QUANTITY, USERS)}`],
    issue_sold_out: [`count==${Math.max(0, USERS - QUANTITY)}`],
  }),
});

export function setup() {
  if (!SIGNS_TOKENS)
    exec.test.abort('the auth suite signs tokens: set AUTH_JWT_SECRET (the gateway its AUTH_MODE=jwt)');
  return { couponId: createCoupon(QUANTITY, 'auth'), quantity: QUANTITY, users: USERS };
}

export default function (data) {
  issue(data.couponId, iterationUser());
}

export function teardown(data) {
  verify(data, data.users > data.quantity ? { soldOut: true } : { admitted: data.users });
}
