import { AppError, SETTINGS_ADMIN } from '@coupon/contracts';
import { type Env, routeOf } from '@coupon/kit';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { RuntimeSettingsStore } from '../../settings.js';
import { type ChangeDeps, recordChange } from './changes.js';
import { GATEWAY_ADMIN } from './responses.js';

const NO_STORE = new AppError('UNAVAILABLE', 'run-time settings are unavailable', { retryable: true });

/** GET and PATCH /admin/settings: the record every gateway follows (settings.ts). */
export function registerSettings(
  admin: OpenAPIHono<Env>,
  deps: ChangeDeps & { settings?: RuntimeSettingsStore },
): void {
  admin.openapi(routeOf(SETTINGS_ADMIN.getSettings, GATEWAY_ADMIN), (c) => {
    if (!deps.settings) throw NO_STORE;
    return c.json({ overrides: deps.settings.overrides, effective: deps.settings.effective }, 200);
  });
  admin.openapi(routeOf(SETTINGS_ADMIN.changeSettings, GATEWAY_ADMIN), async (c) => {
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
