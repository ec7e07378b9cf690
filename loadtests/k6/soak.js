// Soak: SOAK_RATE (default 1,000) req/s for SOAK_DURATION (default 10m) against one coupon of
// 300,000 with 2,000,000 random users: accepted requests for the first minutes, then sold out.
// Watch RSS, event-loop lag and consumer lag for growth in the report's charts.
import { baseThresholds, createCoupon, ISSUE, issue, rate, suiteOptions, verify } from './lib.js';

const QUANTITY = Number(__ENV.QUANTITY || 300000);
const USERS = Number(__ENV.USERS || 2000000);

export const options = suiteOptions({
  scenarios: {
    soak: {
      executor: 'constant-arrival-rate',
      rate: rate(Number(__ENV.SOAK_RATE || 1000)),
      timeUnit: '1s',
      duration: __ENV.SOAK_DURATION || '10m',
      preAllocatedVUs: 100,
      maxVUs: 1000,
    },
  },
  thresholds: baseThresholds({
    dropped_iterations: ['count==0'],
    [`http_req_duration{name:${ISSUE}}`]: ['p(99)<50'],
  }),
});

export function setup() {
  return { couponId: createCoupon(QUANTITY, 'soak'), quantity: QUANTITY, users: USERS };
}

export default function (data) {
  issue(data.couponId, 1 + Math.floor(Math.random() * data.users));
}

export function teardown(data) {
  // 600k requests over 2M users: ~520k distinct callers, more than the quantity.
  verify(data, { soldOut: true });
}
