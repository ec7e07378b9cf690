import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import {
  type Env,
  installErrorHandler,
  jsonBody,
  requestId,
  requireBearer,
  requireToken,
  tokenMatches,
} from './http.js';
import { createLogger } from './log.js';

function app() {
  const a = new Hono<Env>();
  a.use(requestId());
  installErrorHandler(a, createLogger('test', 'silent'));
  a.use('/admin/*', requireBearer('secret'));
  a.use('/internal/*', requireToken('x-internal-token', 'secret'));
  a.post('/admin/echo', async (c) => c.json({ body: await jsonBody(c) }));
  a.get('/internal/ping', (c) => c.json({ ok: true }));
  return a;
}

const code = async (res: Response) => ((await res.json()) as { error?: { code: string } }).error?.code;

describe('requireBearer / requireToken', () => {
  it('security: 401 without a token, 403 with a wrong one or another scheme', async () => {
    const none = await app().request('/admin/echo', { method: 'POST' });
    expect([none.status, await code(none)]).toEqual([401, 'UNAUTHORIZED']);
    for (const authorization of ['Bearer nope', 'Basic secret', 'secret', 'Bearer']) {
      const res = await app().request('/admin/echo', { method: 'POST', headers: { authorization } });
      expect([res.status, await code(res)], authorization).toEqual([403, 'FORBIDDEN']);
    }
    expect((await app().request('/internal/ping')).status).toBe(401);
    expect(
      (await app().request('/internal/ping', { headers: { 'x-internal-token': 'Bearer secret' } })).status,
    ).toBe(403);
  });

  it('happy: the right token passes', async () => {
    const res = await app().request('/internal/ping', { headers: { 'x-internal-token': 'secret' } });
    expect(res.status).toBe(200);
  });

  it('happy: an expected token given as its SHA-256 (hashed once by requireToken) compares the same', () => {
    const want = createHash('sha256').update('secret').digest();
    expect([tokenMatches('secret', want), tokenMatches('secret', 'secret')]).toEqual([true, true]);
    expect([tokenMatches('secrets', want), tokenMatches(undefined, want)]).toEqual([false, false]);
  });
});

describe('jsonBody', () => {
  const post = (body: string) =>
    app().request('/admin/echo', {
      method: 'POST',
      body,
      headers: { authorization: 'Bearer secret', 'content-type': 'application/json' },
    });

  it('happy: a JSON body is parsed', async () => {
    const res = await post('{"quantity":3}');
    expect(await res.json()).toEqual({ body: { quantity: 3 } });
  });

  it('error: a body that is not JSON is the one 400 INVALID_REQUEST answer', async () => {
    const res = await post('{not json');
    expect([res.status, await code(res)]).toEqual([400, 'INVALID_REQUEST']);
  });
});
