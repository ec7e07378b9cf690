import {
  type ClientLimit,
  RUNTIME_SETTINGS_KEY,
  type RuntimeSettings,
  runtimeSettings,
  SETTINGS_CHANNEL,
  type SettingsChange,
  type SettingsPatch,
} from '@coupon/contracts';
import type { Logger } from '@coupon/kit';
import type { Redis } from 'ioredis';

/** What a gateway applies now: the record's overrides over its own environment. */
export interface EffectiveSettings {
  rate: { perSecond: number; burst: number };
  /** null: no per-user limit configured (the environment's, if any, stays). */
  perUser: ClientLimit | null;
  perAddress: ClientLimit | null;
  edgeSoldOutTtlMs: number;
}

export type SettingsListener = (next: EffectiveSettings, previous: EffectiveSettings) => void;

/**
 * Merges a patch into the record atomically (concurrent admins never lose each other's fields), then
 * publishes it. A null field is deleted (back to the environment's value). Returns old and new JSON.
 */
const MERGE = `
local cur = redis.call('GET', KEYS[1])
local rec = cur and cjson.decode(cur) or {}
for k, v in pairs(cjson.decode(ARGV[1])) do
  if v == cjson.null then rec[k] = nil else rec[k] = v end
end
local out = next(rec) and cjson.encode(rec) or '{}'
redis.call('SET', KEYS[1], out)
redis.call('PUBLISH', ARGV[2], out)
return {cur or '{}', out}
`;

/** A record that does not parse (written by hand, an older version) counts as no overrides. */
function parse(json: string | null): RuntimeSettings | undefined {
  if (json === null) return {};
  try {
    const r = runtimeSettings.safeParse(JSON.parse(json));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface SettingsOptions {
  /** Reads and writes the record (commands). */
  redis: Redis;
  /** The environment's values, applied where the record says nothing. */
  defaults: EffectiveSettings;
  /** Re-read the record this often, besides on every SETTINGS_CHANNEL message (a missed message heals). */
  pollMs: number;
  log: Logger;
}

/**
 * The gateways' run-time settings: one JSON record in Redis (RUNTIME_SETTINGS_KEY, contracts'
 * runtimeSettings), written by PATCH /admin/settings on any gateway and followed by every gateway
 * within a second: at once on the SETTINGS_CHANNEL message (the caller feeds messages to `refresh`),
 * and on a poll every `pollMs` in case a message was missed. While Redis is unreachable a gateway
 * keeps what it last applied.
 *
 * Consumers subscribe: the global bucket (RateLimiter.setRate), the edge's SOLD_OUT answer, and the
 * per-user and per-address limiters (`perUser`, `perAddress`: points per durationSec).
 */
export class RuntimeSettingsStore {
  private overrides_: RuntimeSettings = {};
  private effective_: EffectiveSettings;
  private readonly listeners = new Set<SettingsListener>();
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private warned = false;

  constructor(private readonly opts: SettingsOptions) {
    opts.redis.defineCommand('couponSettingsMerge', { numberOfKeys: 1, lua: MERGE });
    this.effective_ = { ...opts.defaults };
  }

  get overrides(): RuntimeSettings {
    return this.overrides_;
  }

  get effective(): EffectiveSettings {
    return this.effective_;
  }

  /**
   * Calls `fn` with the new and previous effective settings whenever they change (not at once: read
   * `effective` for the current ones). Returns the unsubscribe function.
   */
  subscribe(fn: SettingsListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Reads the record once (a failure keeps the environment's values) and starts the poll. */
  async start(): Promise<void> {
    await this.refresh().catch(() => undefined);
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.opts.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Re-reads the record and applies it; one read at a time. `json`: the record itself (a message). */
  refresh(json?: string): Promise<void> {
    if (json !== undefined) {
      this.apply(json);
      return Promise.resolve();
    }
    this.reading ??= this.opts.redis
      .get(RUNTIME_SETTINGS_KEY)
      .then((j) => this.apply(j))
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }

  /** Writes a patch (atomically merged, published to every gateway) and applies it here at once. */
  async write(patch: SettingsPatch): Promise<SettingsChange> {
    const [before, after] = (await (
      this.opts.redis as Redis & {
        couponSettingsMerge(key: string, patch: string, channel: string): Promise<[string, string]>;
      }
    ).couponSettingsMerge(RUNTIME_SETTINGS_KEY, JSON.stringify(patch), SETTINGS_CHANNEL)) as [string, string];
    this.apply(after);
    return { previous: parse(before) ?? {}, current: parse(after) ?? {} };
  }

  private apply(json: string | null): void {
    const rec = parse(json);
    if (!rec) {
      if (!this.warned)
        this.opts.log.warn({ key: RUNTIME_SETTINGS_KEY }, 'run-time settings unreadable: ignored');
      this.warned = true;
      return;
    }
    this.warned = false;
    this.overrides_ = rec;
    const d = this.opts.defaults;
    const next: EffectiveSettings = {
      rate: rec.rate ?? d.rate,
      perUser: rec.perUser ?? d.perUser,
      perAddress: rec.perAddress ?? d.perAddress,
      edgeSoldOutTtlMs: rec.edgeSoldOutTtlMs ?? d.edgeSoldOutTtlMs,
    };
    const previous = this.effective_;
    if (same(next, previous)) return;
    this.effective_ = next;
    this.opts.log.info({ settings: next, previous }, 'run-time settings applied');
    for (const fn of this.listeners) {
      try {
        fn(next, previous);
      } catch (err) {
        this.opts.log.error({ err }, 'run-time settings listener failed');
      }
    }
  }
}
