// Duplicate storm: USERS (default 50) users hammer one coupon with ample stock at 1,000 req/s for
// 20 s, cycling through the users. Each user wins exactly once; every repeat is ALREADY_ISSUED.

import exec from 'k6/execution';
import { baseThresholds, createCoupon, issue, rate, suiteOptions, verify } from './lib.js';

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
