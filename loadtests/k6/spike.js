// Spike: 200 req/s, a jump to 5,000 req/s within 1 s held for 10 s, then back to 200 req/s for
// 20 s to watch the recovery. 25,000 coupons, 200,000 random users (most requests are accepted
// until the stock runs out, the path that costs the most).
import { baseThresholds, createCoupon, ISSUE, issue, rate, suiteOptions, verify } from './lib.js';

const QUANTITY = Number(__ENV.QUANTITY || 25000);
const USERS = Number(__ENV.USERS || 200000);

export const options = suiteOptions({
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: rate(200),
      timeUnit: '1s',
      preAllocatedVUs: 300,
      maxVUs: 3000,
      stages: [
        { target: rate(200), duration: '10s' },
        { target: rate(5000), duration: '1s' },
        { target: rate(5000), duration: '10s' },
        { target: rate(200), duration: '1s' },
        { target: rate(200), duration: '20s' },
      ],
    },
  },
  thresholds: baseThresholds({
    dropped_iterations: ['count==0'],
    [`http_req_duration{name:${ISSUE}}`]: ['p(99)<100', 'max<1000'],
  }),
});

export function setup() {
  return { couponId: createCoupon(QUANTITY, 'spike'), quantity: QUANTITY, users: USERS };
}

export default function (data) {
  issue(data.couponId, 1 + Math.floor(Math.random() * data.users));
}

export function teardown(data) {
  // ~68k requests over 200k users: ~58k distinct callers, more than the quantity.
  verify(data, { soldOut: true });
}
