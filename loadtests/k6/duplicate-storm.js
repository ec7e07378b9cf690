// Duplicate storm: USERS (default 50) users hammer one coupon with ample stock at 1,000 req/s for
// 20 s, cycling through the users. Each user wins exactly once; every repeat is ALREADY_ISSUED, or
// 429 RATE_LIMITED once a user is past the gateway's per-user limit (RATE_LIMIT_USER_PER_SEC: 20
// requests a second per user here): a 429 is that limit at work, not a failure.

import exec from 'k6/execution';
import http from 'k6/http';
import { baseThresholds, createCoupon, issue, rate, suiteOptions, verify } from './lib.js';

http.setResponseCallback(http.expectedStatuses(202, 409, 429));

const USERS = Number(__ENV.USERS || 50);
const QUANTITY = Number(__ENV.QUANTITY || 10000);

export const options = suiteOptions({
  scenarios: {
    storm: {
      executor: 'constant-arrival-rate',
      rate: rate(1000),
      timeUnit: '1s',
      duration: '20s',
      preAllocatedVUs: 100,
      maxVUs: 1000,
    },
  },
  thresholds: baseThresholds({
    dropped_iterations: ['count==0'],
    issue_accepted: [`count==${USERS}`],
    issue_sold_out: ['count==0'],
  }),
});

export function setup() {
  return { couponId: createCoupon(QUANTITY, 'duplicate-storm'), quantity: QUANTITY, users: USERS };
}

export default function (data) {
  issue(data.couponId, 1 + (exec.scenario.iterationInTest % data.users));
}

export function teardown(data) {
  verify(data, { admitted: data.users });
}
