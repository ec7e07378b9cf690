import { gateKeys, type IssueOutcome } from '@coupon/contracts';
import type { Redis } from 'ioredis';

// One script decides atomically; check-then-act in separate calls over-issues.
// Returns an integer (ioredis 6 speaks RESP3): index into ADMIT_OUTCOMES.
const ADMIT = `
local meta = redis.call('HMGET', KEYS[1], 'opensAt', 'closesAt')
if not meta[1] then return 3 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now < tonumber(meta[1]) or now >= tonumber(meta[2]) then return 4 end
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return 1 end
local left = tonumber(redis.call('GET', KEYS[2]) or '0')
if left <= 0 then return 2 end
redis.call('DECR', KEYS[2])
redis.call('SADD', KEYS[3], ARGV[1])
return 0
`;

// Gives a slot back after a definite produce failure. Only if the user was admitted.
const RELEASE = `
if redis.call('SREM', KEYS[3], ARGV[1]) == 1 then
  redis.call('INCR', KEYS[2])
  return 1
end
return 0
`;

// Loads a coupon's gate: meta always, stock and users only as given (rewarm passes the users
// already persisted or in flight, so sold stock stays sold).
const LOAD = `
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('HSET', KEYS[1], 'quantity', ARGV[1], 'opensAt', ARGV[2], 'closesAt', ARGV[3])
redis.call('SET', KEYS[2], ARGV[4])
for i = 5, #ARGV do redis.call('SADD', KEYS[3], ARGV[i]) end
return 1
`;

export const ADMIT_OUTCOMES: readonly IssueOutcome[] = [
  'ISSUED',
  'ALREADY_ISSUED',
  'SOLD_OUT',
  'COUPON_NOT_FOUND',
  'COUPON_NOT_OPEN',
];

interface GateCommands {
  couponAdmit(meta: string, stock: string, users: string, userId: number): Promise<number>;
  couponRelease(meta: string, stock: string, users: string, userId: number): Promise<number>;
  couponLoad(meta: string, stock: string, users: string, ...args: Array<string | number>): Promise<number>;
}

interface GatePipeline {
  couponAdmit(meta: string, stock: string, users: string, userId: number): GatePipeline;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

export interface GateCoupon {
  id: number;
  quantity: number;
  opensAt: Date;
  closesAt: Date;
}

export interface GateState {
  quantity: number;
  remaining: number;
  admitted: number;
}

/** Metrics hooks, called synchronously on each decision (not when Redis fails: the caller answers 503 then). */
export interface GateHooks {
  onAdmit?(outcome: IssueOutcome): void;
}

export class Gate {
  private readonly r: Redis & GateCommands;

  constructor(
    redis: Redis,
    private readonly hooks: GateHooks = {},
  ) {
    redis.defineCommand('couponAdmit', { numberOfKeys: 3, lua: ADMIT });
    redis.defineCommand('couponRelease', { numberOfKeys: 3, lua: RELEASE });
    redis.defineCommand('couponLoad', { numberOfKeys: 3, lua: LOAD });
    this.r = redis as Redis & GateCommands;
  }

  async admit(couponId: number, userId: number): Promise<IssueOutcome> {
    const outcome = this.decided(await this.r.couponAdmit(...gateKeys(couponId), userId));
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }

  /**
   * Decides many requests in one pipeline: one write and one read on the Redis connection for the
   * whole batch. Each script still runs atomically; an item whose script failed gets its Error.
   */
  async admitMany(
    items: ReadonlyArray<{ couponId: number; userId: number }>,
  ): Promise<Array<IssueOutcome | Error>> {
    const pipe = this.r.pipeline() as unknown as GatePipeline;
    for (const it of items) pipe.couponAdmit(...gateKeys(it.couponId), it.userId);
    const replies = await pipe.exec();
    return items.map((_, i) => {
      const [err, code] = replies?.[i] ?? [new Error('no reply from the gate'), undefined];
      return err ?? this.decided(code);
    });
  }

  /** The admit script's integer as an outcome (counted), or an Error for a code it never returns. */
  private decided(code: unknown): IssueOutcome | Error {
    const outcome = ADMIT_OUTCOMES[Number(code)];
    if (!outcome) return new Error(`gate script returned ${String(code)}`);
    this.hooks.onAdmit?.(outcome);
    return outcome;
  }

  /** Returns true when the user had been admitted and the slot went back to stock. */
  async release(couponId: number, userId: number): Promise<boolean> {
    return Number(await this.r.couponRelease(...gateKeys(couponId), userId)) === 1;
  }

  /**
   * (Re)builds a coupon's gate. `admitted` are the users who already hold the coupon (persisted or
   * in flight); remaining = quantity − admitted, never the full quantity after a loss.
   */
  async load(c: GateCoupon, admitted: readonly number[] = []): Promise<void> {
    const remaining = Math.max(0, c.quantity - new Set(admitted).size);
    const keys = gateKeys(c.id);
    // SADD takes many members per call; chunk to keep script argument lists moderate.
    const CHUNK = 5_000;
    await this.r.couponLoad(
      ...keys,
      c.quantity,
      c.opensAt.getTime(),
      c.closesAt.getTime(),
      remaining,
      ...admitted.slice(0, CHUNK),
    );
    for (let i = CHUNK; i < admitted.length; i += CHUNK) {
      await this.r.sadd(keys[2], ...admitted.slice(i, i + CHUNK));
    }
  }

  async state(couponId: number): Promise<GateState | undefined> {
    const [meta, stock, users] = gateKeys(couponId);
    const [q, left, n] = await Promise.all([
      this.r.hget(meta, 'quantity'),
      this.r.get(stock),
      this.r.scard(users),
    ]);
    if (q === null) return undefined;
    return { quantity: Number(q), remaining: Number(left ?? 0), admitted: n };
  }

  isAdmitted(couponId: number, userId: number): Promise<boolean> {
    return this.r.sismember(gateKeys(couponId)[2], userId).then((n) => n === 1);
  }

  admittedUsers(couponId: number): Promise<number[]> {
    return this.r.smembers(gateKeys(couponId)[2]).then((m) => m.map(Number));
  }
}
