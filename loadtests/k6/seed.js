// The seed scenario: the shape of the public k6 script behind the seed report. ramping-arrival-rate
// 300 → 1k → 2.5k → 5k → 100 req/s over about 122 s (about 259k requests), one coupon of 25,000 for
// 50,000 random users, so most requests take the sold-out or duplicate path.
// Thresholds are the issue's targets, whose home is TARGETS in src/targets.ts (k6 cannot import it;
// src/targets.test.ts keeps the two in step); QUANTITY, USERS, SCALE (rates) and DURATION_SCALE (the
// stages' lengths) can be overridden: a short run that still sells out, e.g. for a check with auth on,
// is QUANTITY=5000 USERS=10000 SCALE=0.3 DURATION_SCALE=0.5 (loadtests/README.md).
import { baseThresholds, createCoupon, ISSUE, issue, rate, span, suiteOptions, verify } from './lib.js';

const QUANTITY = Number(__ENV.QUANTITY || 25000);
const USERS = Number(__ENV.USERS || 50000);

export const options = suiteOptions({
  scenarios: {
    seed: {
      executor: 'ramping-arrival-rate',
      startRate: rate(300),
      timeUnit: '1s',
      preAllocatedVUs: 300,
      maxVUs: 3000,
      stages: [
        { target: rate(1000), duration: span(30) },
        { target: rate(2500), duration: span(30) },
        { target: rate(5000), duration: span(20) },
        { target: rate(5000), duration: span(7) },
        { target: rate(100), duration: span(30) },
        { target: rate(100), duration: span(5) },
      ],
    },
  },
  thresholds: baseThresholds({
    dropped_iterations: ['count==0'],
    [`http_req_duration{name:${ISSUE}}`]: ['p(95)<=2.64', 'p(99)<=10', 'max<=100'],
  }),
});

export function setup() {
  return { couponId: createCoupon(QUANTITY, 'seed'), quantity: QUANTITY, users: USERS };
}

export default function (data) {
  issue(data.couponId, 1 + Math.floor(Math.random() * data.users));
}

export function teardown(data) {
  // ~259k requests over 50k users: all but a few hundred users call, far more than the quantity.
  verify(data, { soldOut: true });
}
