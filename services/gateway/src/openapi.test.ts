import { createLogger } from '@coupon/kit';
import { compileErrors, validate } from '@readme/openapi-parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import { describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import type { Authenticator } from './auth/authenticator.js';
import type { InternalCalls, IssueCalls } from './issuer-client.js';

const ADMIN = 'test-admin-token';
const calls: string[] = [];
/** Every internal call is recorded and answers this JSON (the route names its type, as with IssuerClient). */
async function internal<T>(path: string): Promise<T> {
  calls.push(path);
  const json: unknown = { couponId: 1, userId: 2, state: 'NONE' };
  return json as T;
}
const issuer: IssueCalls & InternalCalls = {
  get: internal,
  post: internal,
  patch: internal,
  issue: () => Promise.reject(new Error('the documents do not issue')),
  retryAfterSec: 1,
  breaker: { opened: false },
};
const limiter = { take: () => true, retryAfterSec: 1 };
const app = createApp({
  issuer,
  limiter,
  log: createLogger('gateway', 'silent'),
  adminToken: ADMIN,
  draining: () => false,
});

/** The same app with AUTH_MODE=jwt (an authenticator that is never called: only the document is read). */
const jwtApp = createApp({
  issuer,
  limiter,
  auth: {} as Authenticator,
  log: createLogger('gateway', 'silent'),
  adminToken: ADMIN,
  draining: () => false,
});

async function document(of = app): Promise<OpenAPIV3_1.Document> {
  const res = await of.request('/openapi.json');
  expect(res.status).toBe(200);
  return (await res.json()) as OpenAPIV3_1.Document;
}

/** Routes the app serves that are not part of the API: the document, the reference page, metrics. */
const UNDOCUMENTED = new Set(['/openapi.json', '/docs', '/docs/init.js', '/docs/assets/{file}', '/metrics']);

describe('GET /openapi.json', () => {
  it('happy: is valid OpenAPI 3.1', async () => {
    const doc = await document();
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('happy: documents every route the gateway serves, and the README table', async () => {
    const doc = await document();
    const documented = new Set(
      Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
        Object.keys(item ?? {}).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    const served = app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({ method: r.method, path: r.path.replaceAll(/:(\w+)/g, '{$1}') }))
      .filter((r) => !UNDOCUMENTED.has(r.path))
      .map((r) => `${r.method} ${r.path}`);
    for (const route of served) expect(documented, `${route} is served but not documented`).toContain(route);
    expect([...documented].sort()).toEqual([
      'GET /admin/coupons',
      'GET /admin/coupons/{couponId}',
      'GET /admin/coupons/{couponId}/stats',
      'GET /admin/settings',
      'GET /coupons/{userId}/issues/{couponId}',
      'GET /health',
      'GET /ready',
      'PATCH /admin/coupons/{couponId}/window',
      'PATCH /admin/settings',
      'POST /admin/coupons',
      'POST /admin/coupons/{couponId}/pause',
      'POST /admin/coupons/{couponId}/resume',
      'POST /coupons/{userId}/issue-async',
    ]);
  });

  it('happy: the issue route carries every outcome of the table with its error codes', async () => {
    const op = (await document()).paths?.['/coupons/{userId}/issue-async']?.post;
    const codes = (status: string) => {
      const res = op?.responses?.[status] as OpenAPIV3_1.ResponseObject | undefined;
      const schema = res?.content?.['application/json']?.schema as OpenAPIV3_1.SchemaObject | undefined;
      const error = schema?.properties?.error as OpenAPIV3_1.SchemaObject | undefined;
      return (error?.properties?.code as OpenAPIV3_1.SchemaObject | undefined)?.enum;
    };
    expect(Object.keys(op?.responses ?? {}).sort()).toEqual([
      '202',
      '400',
      '401',
      '403',
      '404',
      '409',
      '429',
      '503',
    ]);
    expect(codes('400')).toEqual(['INVALID_REQUEST']);
    expect(codes('401')).toEqual(['UNAUTHENTICATED']);
    expect(codes('403')).toEqual(['FORBIDDEN']);
    expect(codes('404')).toEqual(['COUPON_NOT_FOUND']);
    expect(codes('409')).toEqual(['ALREADY_ISSUED', 'SOLD_OUT', 'COUPON_NOT_OPEN', 'COUPON_PAUSED']);
    expect(codes('429')).toEqual(['RATE_LIMITED']);
    expect(codes('503')).toEqual(['UNAVAILABLE']);
    const limited = op?.responses?.['429'] as OpenAPIV3_1.ResponseObject | undefined;
    expect(Object.keys(limited?.headers ?? {})).toEqual(['Retry-After']);
    expect(
      op?.parameters?.map(
        (p) => `${(p as OpenAPIV3_1.ParameterObject).in}:${(p as OpenAPIV3_1.ParameterObject).name}`,
      ),
    ).toEqual(['path:userId', 'query:couponId']);
  });

  it('security: admin routes, and only they, are marked with the bearer scheme', async () => {
    const doc = await document();
    expect(doc.components?.securitySchemes?.adminBearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, item] of Object.entries(doc.paths ?? {}))
      for (const op of Object.values(item ?? {}) as OpenAPIV3_1.OperationObject[])
        expect(op.security, path).toEqual(path.startsWith('/admin/') ? [{ adminBearer: [] }] : undefined);
  });

  it('security: with AUTH_MODE=jwt the issue and status routes take a bearer JWT ("Authorize" on the reference page)', async () => {
    const doc = await document(jwtApp);
    expect(doc.components?.securitySchemes?.userBearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    const user = new Set(['/coupons/{userId}/issue-async', '/coupons/{userId}/issues/{couponId}']);
    for (const [path, item] of Object.entries(doc.paths ?? {}))
      for (const op of Object.values(item ?? {}) as OpenAPIV3_1.OperationObject[])
        expect(op.security, path).toEqual(
          path.startsWith('/admin/')
            ? [{ adminBearer: [] }]
            : user.has(path)
              ? [{ userBearer: [] }]
              : undefined,
        );
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });
});

describe('the hot route stays hand-tuned', () => {
  it('happy: POST /coupons/{userId}/issue-async runs its own handler only: no validator, no middleware', () => {
    // It is registered ahead of the request-id middleware: the handler reads the request id itself,
    // answers with plain headers (issue.ts) and never calls next(), so the middleware after it never runs.
    const [matched] = app.router.match('POST', '/coupons/1/issue-async');
    expect(matched.map(([[, route]]) => `${route.method} ${route.path}`)).toEqual([
      'POST /coupons/:userId/issue-async',
      'ALL /*',
    ]);
  });
});

describe('declared routes: validation answers the one error body', () => {
  const expectInvalid = async (res: Response) => {
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error.code).toBe('INVALID_REQUEST');
    expect(body.error.requestId).toBeTruthy();
    return body.error.message;
  };
  const auth = { authorization: `Bearer ${ADMIN}` };

  it('error: malformed ids in paths are 400 INVALID_REQUEST naming the field, and never reach the issuer', async () => {
    calls.length = 0;
    expect(await expectInvalid(await app.request('/coupons/abc/issues/1'))).toMatch(/userId/);
    expect(await expectInvalid(await app.request('/admin/coupons/0', { headers: auth }))).toMatch(/couponId/);
    expect(await expectInvalid(await app.request('/admin/coupons/1e9/stats', { headers: auth }))).toMatch(
      /couponId/,
    );
    expect(calls).toEqual([]);
  });

  it('error: a bad or non-JSON admin body is 400 INVALID_REQUEST', async () => {
    const post = (body: string, type?: string) =>
      app.request('/admin/coupons', {
        method: 'POST',
        body,
        headers: { ...auth, ...(type ? { 'content-type': type } : {}) },
      });
    expect(await expectInvalid(await post('{"quantity":-1}', 'application/json'))).toMatch(/quantity/);
    await expectInvalid(await post('{"quantity":', 'application/json'));
    await expectInvalid(await post('quantity=5', 'application/x-www-form-urlencoded'));
    await expectInvalid(await post('{"quantity":5}'));
  });

  it('error: bad control input is 400 INVALID_REQUEST and never reaches the issuer', async () => {
    calls.length = 0;
    const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      app.request(path, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: { ...auth, 'content-type': 'application/json', ...headers },
      });
    const window = '/admin/coupons/1/window';
    expect(
      await expectInvalid(
        await send('PATCH', window, { opensAt: '2030-01-02T00:00:00Z', closesAt: '2030-01-01T00:00:00Z' }),
      ),
    ).toMatch(/closesAt/);
    expect(await expectInvalid(await send('PATCH', window, {}))).toMatch(/opensAt/);
    expect(await expectInvalid(await send('PATCH', window, { opensAt: 'tomorrow' }))).toMatch(/opensAt/);
    expect(await expectInvalid(await send('POST', '/admin/coupons/x/pause'))).toMatch(/couponId/);
    expect(
      await expectInvalid(
        await send('POST', '/admin/coupons/1/pause', undefined, { 'x-admin-actor': 'a b' }),
      ),
    ).toMatch(/x-admin-actor/);
    expect(await expectInvalid(await app.request('/admin/coupons?limit=0', { headers: auth }))).toMatch(
      /limit/,
    );
    expect(await expectInvalid(await send('PATCH', '/admin/settings', {}))).toMatch(/setting/);
    expect(
      await expectInvalid(await send('PATCH', '/admin/settings', { rate: { perSecond: 0, burst: 1 } })),
    ).toMatch(/rate/);
    expect(await expectInvalid(await send('PATCH', '/admin/settings', { perUser: { points: 5 } }))).toMatch(
      /perUser/,
    );
    expect(await expectInvalid(await send('PATCH', '/admin/settings', { speed: 1 }))).toBeTruthy();
    expect(calls).toEqual([]);
  });

  it('security: the control routes answer 401 without the token and 403 with a wrong one', async () => {
    for (const [method, path] of [
      ['GET', '/admin/coupons'],
      ['POST', '/admin/coupons/1/pause'],
      ['POST', '/admin/coupons/1/resume'],
      ['PATCH', '/admin/coupons/1/window'],
      ['GET', '/admin/settings'],
      ['PATCH', '/admin/settings'],
    ] as const) {
      const none = await app.request(path, { method });
      expect([path, none.status]).toEqual([path, 401]);
      expect(((await none.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
      const wrong = await app.request(path, { method, headers: { authorization: 'Bearer nope' } });
      expect([path, wrong.status]).toEqual([path, 403]);
    }
  });

  it('happy: a valid call reaches the issuer with the parsed ids', async () => {
    calls.length = 0;
    const res = await app.request('/coupons/42/issues/7');
    expect(res.status).toBe(200);
    expect(calls).toEqual(['/internal/coupons/7/users/42']);
  });
});
