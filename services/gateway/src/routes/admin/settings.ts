import { AppError, settingsChange, settingsPatch, settingsView } from '@coupon/contracts';
import { type Env, errorResponse, jsonResponse } from '@coupon/kit';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { RuntimeSettingsStore } from '../../settings.js';
import { actorHeaders, type ChangeDeps, recordChange } from './changes.js';
import { adminErrors, adminSecurity } from './responses.js';

const getSettingsRoute = createRoute({
  method: 'get',
  path: '/settings',
  tags: ['admin'],
  operationId: 'getSettings',
  summary: "The gateways' run-time settings: the overrides, and what this gateway applies",
  security: adminSecurity,
  responses: { 200: jsonResponse('The settings.', settingsView), ...adminErrors },
});

const patchSettingsRoute = createRoute({
  method: 'patch',
  path: '/settings',
  tags: ['admin'],
  operationId: 'changeSettings',
  summary: 'Change the rate limits at run time, on every gateway within a second',
  description:
    '`rate`: the global token bucket (per gateway, or shared with RATE_LIMIT_SHARED). `perUser`, ' +
    '`perAddress`: the per-client limits, `points` requests per `durationSec`. `edgeSoldOutTtlMs`: ' +
    'how long the gateway answers SOLD_OUT itself (0: off). The fields given replace the stored ones; ' +
    "null removes one (back to the gateway's environment). No restart. Logged and counted.",
  security: adminSecurity,
  request: {
    headers: actorHeaders,
    body: { required: true, content: { 'application/json': { schema: settingsPatch } } },
  },
  responses: {
    200: jsonResponse('The stored overrides before and after.', settingsChange),
    400: errorResponse('Malformed body', ['INVALID_REQUEST']),
    413: errorResponse('Body over 16 KiB', ['PAYLOAD_TOO_LARGE']),
    ...adminErrors,
  },
});

const NO_STORE = new AppError('UNAVAILABLE', 'run-time settings are unavailable', { retryable: true });

/** GET and PATCH /admin/settings: the record every gateway follows (settings.ts). */
export function registerSettings(
  admin: OpenAPIHono<Env>,
  deps: ChangeDeps & { settings?: RuntimeSettingsStore },
): void {
  admin.openapi(getSettingsRoute, (c) => {
    if (!deps.settings) throw NO_STORE;
    return c.json({ overrides: deps.settings.overrides, effective: deps.settings.effective }, 200);
  });
  admin.openapi(patchSettingsRoute, async (c) => {
    if (!deps.settings) throw NO_STORE;
    let change: Awaited<ReturnType<RuntimeSettingsStore['write']>>;
    try {
      change = await deps.settings.write(c.req.valid('json'));
    } catch (err) {
      throw new AppError('UNAVAILABLE', 'Redis did not take the settings: send them again', {
        retryable: true,
        cause: err,
      });
    }
    recordChange(deps, c, 'settings', change);
    return c.json(change, 200);
  });
}
