import { describe, expect, it } from 'vitest';
import { ADMIN_API, ADMIN_CHANGES } from './admin-api.js';
import { pathOf } from './operation.js';

describe('pathOf', () => {
  it('happy: fills the path params and appends the given query fields in order', () => {
    expect(pathOf(ADMIN_API.pauseCoupon, { couponId: 7 })).toBe('/coupons/7/pause');
    expect(pathOf(ADMIN_API.listCoupons, {}, { limit: 10, after: undefined })).toBe('/coupons?limit=10');
    expect(pathOf(ADMIN_API.listCoupons, {}, { after: 3, limit: 10 })).toBe('/coupons?after=3&limit=10');
    expect(pathOf(ADMIN_API.getSettings)).toBe('/settings');
  });

  it('security: a param is one path segment, whatever it holds', () => {
    expect(pathOf(ADMIN_API.getCoupon, { couponId: '1/../../x?y' })).toBe('/coupons/1%2F..%2F..%2Fx%3Fy');
  });
});

describe('the admin changes', () => {
  it('happy: are the label values of admin_changes_total that dashboards and the change log use', () => {
    // Renaming one renames a metric series and a log field: change the dashboards with it.
    expect(ADMIN_CHANGES).toEqual(['pause', 'resume', 'move_window', 'settings']);
  });
});
