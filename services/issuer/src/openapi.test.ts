import { createLogger } from '@coupon/kit';
import { compileErrors, validate } from '@readme/openapi-parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import { describe, expect, it } from 'vitest';
import { createApp, type IssuerDeps } from './app.js';

const app = createApp({
  log: createLogger('issuer', 'silent'),
  internalToken: 'test-internal-token',
  draining: () => false,
  kafkaReady: () => true,
} as IssuerDeps);

async function document(): Promise<OpenAPIV3_1.Document> {
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  return (await res.json()) as OpenAPIV3_1.Document;
}

describe("the issuer's GET /openapi.json", () => {
  it('happy: is valid OpenAPI 3.1, served without the internal token', async () => {
    const doc = await document();
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('happy: documents every route the issuer serves', async () => {
    const doc = await document();
    const documented = new Set(
      Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
        Object.keys(item ?? {}).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    const served = app.routes
      .filter((r) => r.method !== 'ALL' && !['/openapi.json', '/metrics'].includes(r.path))
      .map((r) => `${r.method} ${r.path.replaceAll(/:(\w+)/g, '{$1}')}`);
    for (const route of served) expect(documented, `${route} is served but not documented`).toContain(route);
    expect([...documented].sort()).toEqual([
      'GET /health',
      'GET /internal/coupons',
      'GET /internal/coupons/{couponId}',
      'GET /internal/coupons/{couponId}/stats',
      'GET /internal/coupons/{couponId}/users/{userId}',
      'GET /ready',
      'PATCH /internal/coupons/{couponId}/window',
      'POST /internal/coupons',
      'POST /internal/coupons/{couponId}/pause',
      'POST /internal/coupons/{couponId}/resume',
      'POST /internal/issue-batch',
    ]);
  });

  it('security: every /internal route is marked with the internal token scheme', async () => {
    const doc = await document();
    expect(doc.components?.securitySchemes?.internalToken).toEqual(
      expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-internal-token' }),
    );
    for (const [path, item] of Object.entries(doc.paths ?? {}))
      for (const op of Object.values(item ?? {}) as OpenAPIV3_1.OperationObject[])
        expect(op.security, path).toEqual(
          path.startsWith('/internal/') ? [{ internalToken: [] }] : undefined,
        );
  });

  it('security: a declared route still answers 401 without the token, 400 INVALID_REQUEST with it', async () => {
    const none = await app.request('/internal/coupons/abc');
    expect(none.status).toBe(401);
    const bad = await app.request('/internal/coupons/abc', {
      headers: { 'x-internal-token': 'test-internal-token' },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('INVALID_REQUEST');
  });
});
