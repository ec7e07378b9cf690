// Sold-out race: one coupon of QUANTITY (default 100) and 20,000 distinct users arriving at once
// (500 VUs, each request a new user). Exactly QUANTITY users win, everyone else gets SOLD_OUT.
import { baseThresholds, createCoupon, issue, iterationUser, suiteOptions, verify } from './lib.js';

const QUANTITY = Number(__ENV.QUANTITY || 100);
const USERS = Number(__ENV.USERS || 20000);

export const options = suiteOptions({
  scenarios: {
    race: {
      executor: 'shared-iterations',
      vus: Number(__ENV.VUS || 500),
      iterations: USERS,
      maxDuration: '120s',
    },
  },
  thresholds: baseThresholds({
    issue_accepted: [`count==${QUANTITY}`],
    issue_sold_out: [`count==${USERS - QUANTITY}`],
    issue_already_issued: ['count==0'],
  }),
});

export function setup() {
  return { couponId: createCoupon(QUANTITY, 'sold-out-race'), quantity: QUANTITY };
}

export default function (data) {
  issue(data.couponId, iterationUser(0));
}

export function teardown(data) {
  verify(data, { soldOut: true });
}
