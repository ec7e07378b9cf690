import { GATE_CHANGED_CHANNEL, gateKeys, type IssueOutcome } from '@coupon/contracts';
import type { Redis } from 'ioredis';
import { type Script, scriptArgs } from './lua.js';
import {
  ADMIT_MANY,
  ADMIT_OUTCOMES,
  couponKeys,
  LOAD,
  REBUILD_ADD_USERS,
  REBUILD_BEGIN,
  REBUILD_CODES,
  REBUILD_OPEN,
  RELEASE,
  SET_CONTROLS,
} from './scripts.js';

type Args = Array<string | number>;

/** The scripts gate.ts calls through ioredis's defineCommand (EVALSHA, and in pipelines). */
const COMMANDS = {
  couponAdmitMany: ADMIT_MANY,
  couponRelease: RELEASE,
  couponLoad: LOAD,
  couponRebuildBegin: REBUILD_BEGIN,
  couponRebuildAddUsers: REBUILD_ADD_USERS,
  couponRebuildOpen: REBUILD_OPEN,
  couponSetControls: SET_CONTROLS,
} satisfies Record<string, Script<string, string>>;
type GateCommands = { [name in keyof typeof COMMANDS]: (...args: Args) => Promise<unknown> };

function defineCommands(redis: Redis, names: ReadonlyArray<keyof typeof COMMANDS>): Redis & GateCommands {
  for (const name of names) {
    const s = COMMANDS[name];
    redis.defineCommand(name, { numberOfKeys: s.keys.length, lua: s.lua });
  }
  return redis as Redis & GateCommands;
}

interface GatePipeline {
  couponAdmitMany(...args: Args): GatePipeline;
  wait(numreplicas: number, timeoutMs: number): GatePipeline;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

export interface GateCoupon {
  id: number;
  quantity: number;
  opensAt: Date;
  closesAt: Date;
  /** The operator's kill switch (MySQL's coupon.paused); absent: not paused. */
  paused?: boolean;
}

/** What an operator changes on a live gate (GateCoupon's fields of the same names). */
export type GateControls = Partial<Pick<GateCoupon, 'paused' | 'opensAt' | 'closesAt'>>;

export interface GateState {
  quantity: number;
  remaining: number;
  admitted: number;
}

/** Metrics hooks, called synchronously on each decision (not when Redis fails: the caller answers 503 then). */
export interface GateHooks {
  onAdmit?(outcome: IssueOutcome): void;
  /** A batch's WAIT saw fewer replicas than asked: `admissions` admissions were not confirmed. */
  onReplicaWaitShort?(admissions: number): void;
  /** No WAIT connection was free: a batch of `items` requests was refused before anything was sent. */
  onWaitBusy?(items: number): void;
}

export interface GateOptions {
  /**
   * After each admitMany pipeline, WAIT for this many replicas to have the writes (0: off, for a
   * single node). Fewer within waitTimeoutMs makes every admission of the batch ambiguous.
   */
  waitReplicas?: number;
  waitTimeoutMs?: number;
  /**
   * With waitReplicas: the connections gate pipelines go over, one pipeline per connection at a
   * time, so none queues behind another's blocking WAIT (a command queued there times out in the
   * client but still runs on the server later, leaving a slot nobody produces). None free: the batch
   * is refused with GateBusyError before anything is sent. Default: the gate's one connection.
   */
  waitConnections?: readonly Redis[];
}

/** Every WAIT connection was busy: nothing was sent, no slot taken (a definite "try again"). */
export class GateBusyError extends Error {
  readonly ambiguous = false;
  constructor() {
    super('every gate connection is waiting for replicas');
    this.name = 'GateBusyError';
  }
}
const BUSY = new GateBusyError();

/**
 * An admission the primary made (its script answered ISSUED) but no replica confirmed in time (or
 * WAIT itself failed): a failover could lose it. Nothing was produced for it, so the issuer releases it.
 */
export class ReplicationUnconfirmedError extends Error {
  readonly ambiguous = true;
  constructor(
    readonly acked: number,
    readonly wanted: number,
    cause?: unknown,
  ) {
    super(`admission reached ${acked} of ${wanted} replicas in time`, { cause });
    this.name = 'ReplicationUnconfirmedError';
  }
}

/** SADD takes many members per call; chunks keep script argument lists moderate. */
const CHUNK = 5_000;

export class Gate {
  private readonly r: Redis & GateCommands;
  private readonly waitReplicas: number;
  private readonly waitTimeoutMs: number;
  /** Free WAIT connections (waitReplicas > 0 only). */
  private readonly free: Array<Redis & GateCommands> = [];

  constructor(
    redis: Redis,
    private readonly hooks: GateHooks = {},
    opts: GateOptions = {},
  ) {
    this.r = defineCommands(redis, Object.keys(COMMANDS) as Array<keyof typeof COMMANDS>);
    this.waitReplicas = opts.waitReplicas ?? 0;
    this.waitTimeoutMs = opts.waitTimeoutMs ?? 200;
    if (this.waitReplicas > 0)
      for (const c of opts.waitConnections ?? [redis]) {
        this.free.push(c === redis ? this.r : defineCommands(c, ['couponAdmitMany']));
      }
  }

  /** One decision in one script call (no WAIT: the issuer decides through admitMany). */
  async admit(couponId: number, userId: number): Promise<IssueOutcome> {
    const [code] = (await this.r.couponAdmitMany(...admitArgs(couponId, [userId]))) as unknown[];
    const outcome = this.decided(code);
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }

  /**
   * Decides many requests in one pipeline: one script call per coupon of the batch (usually one),
   * one write and one read on the Redis connection. Each script runs atomically; the items of a
   * coupon whose script failed get its Error. With waitReplicas, one WAIT closes the pipeline (same
   * round trip), over a WAIT connection of its own (see GateOptions.waitConnections); if it saw fewer
   * replicas, every admission of the batch gets a ReplicationUnconfirmedError (nothing is produced
   * for it: the issuer releases the slot).
   */
  async admitMany(
    items: ReadonlyArray<{ couponId: number; userId: number }>,
  ): Promise<Array<IssueOutcome | Error>> {
    if (this.waitReplicas === 0) return this.decideMany(this.r, items);
    const conn = this.free.pop();
    if (!conn) {
      this.hooks.onWaitBusy?.(items.length);
      return items.map(() => BUSY);
    }
    try {
      return await this.decideMany(conn, items);
    } finally {
      this.free.push(conn);
    }
  }

  private async decideMany(
    conn: Redis & GateCommands,
    items: ReadonlyArray<{ couponId: number; userId: number }>,
  ): Promise<Array<IssueOutcome | Error>> {
    const byCoupon = new Map<number, number[]>(); // couponId → indexes into items, in order
    items.forEach((it, i) => {
      const at = byCoupon.get(it.couponId);
      if (at) at.push(i);
      else byCoupon.set(it.couponId, [i]);
    });
    const pipe = conn.pipeline() as unknown as GatePipeline;
    for (const [couponId, at] of byCoupon)
      pipe.couponAdmitMany(
        ...admitArgs(
          couponId,
          at.map((i) => (items[i] as { userId: number }).userId),
        ),
      );
    if (this.waitReplicas > 0) pipe.wait(this.waitReplicas, this.waitTimeoutMs);
    const replies = await pipe.exec();
    const outcomes = new Array<IssueOutcome | Error>(items.length);
    let n = 0;
    for (const at of byCoupon.values()) {
      const [err, codes] = replies?.[n++] ?? [new Error('no reply from the gate'), undefined];
      at.forEach((i, k) => {
        outcomes[i] =
          err ?? (Array.isArray(codes) ? this.decided(codes[k]) : new Error('gate script returned no list'));
      });
    }
    if (this.waitReplicas === 0) return outcomes;
    const [err, acked] = replies?.[n] ?? [new Error('no reply to WAIT'), undefined];
    const got = err ? -1 : Number(acked);
    if (got >= this.waitReplicas) return outcomes;
    const unconfirmed = new ReplicationUnconfirmedError(
      Math.max(0, got),
      this.waitReplicas,
      err ?? undefined,
    );
    const admitted = outcomes.filter((o) => o === 'ISSUED').length;
    if (admitted > 0) this.hooks.onReplicaWaitShort?.(admitted);
    return outcomes.map((o) => (o === 'ISSUED' ? unconfirmed : o));
  }

  /** The admit script's integer as an outcome (counted), or an Error for a code it never returns. */
  private decided(code: unknown): IssueOutcome | Error {
    const outcome = ADMIT_OUTCOMES.get(Number(code));
    if (!outcome) return new Error(`gate script returned ${String(code)}`);
    this.hooks.onAdmit?.(outcome);
    return outcome;
  }

  /** Returns true when the user had been admitted and the slot went back to stock. */
  async release(couponId: number, userId: number): Promise<boolean> {
    const released =
      Number(await this.r.couponRelease(...scriptArgs(RELEASE, couponKeys(couponId), { user: userId }))) ===
      1;
    if (released) this.announce(couponId);
    return released;
  }

  /**
   * Changes a live gate's pause flag or window (the admit script reads them atomically with the
   * stock). Returns false when the coupon has no gate (a rebuild takes the values from MySQL).
   */
  async setControls(couponId: number, controls: GateControls): Promise<boolean> {
    const fields: Array<string | number> = [];
    if (controls.paused !== undefined) fields.push('paused', controls.paused ? '1' : '0');
    if (controls.opensAt) fields.push('opensAt', controls.opensAt.getTime());
    if (controls.closesAt) fields.push('closesAt', controls.closesAt.getTime());
    if (fields.length === 0) return true;
    const args = scriptArgs(SET_CONTROLS, couponKeys(couponId), {}, fields);
    const changed = Number(await this.r.couponSetControls(...args)) === 1;
    this.announce(couponId);
    return changed;
  }

  /**
   * Tells the gateways this coupon may admit again (a slot released, resumed, window moved, gate
   * rebuilt), so they drop a SOLD_OUT they answer themselves. Best effort: their copy expires anyway.
   */
  private announce(couponId: number): void {
    this.r.publish(GATE_CHANGED_CHANNEL, String(couponId)).catch(() => undefined);
  }

  /**
   * Loads a new coupon's gate. `admitted` are users who already hold the coupon;
   * remaining = quantity − admitted. A lost gate is rebuilt with rebuildGate, never with this.
   */
  async load(c: GateCoupon, admitted: readonly number[] = []): Promise<void> {
    const remaining = Math.max(0, c.quantity - new Set(admitted).size);
    const keys = couponKeys(c.id);
    const meta = { ...gateMeta(c), remaining };
    await this.r.couponLoad(...scriptArgs(LOAD, keys, meta, admitted.slice(0, CHUNK)));
    for (let i = CHUNK; i < admitted.length; i += CHUNK) {
      await this.r.sadd(keys.users, ...admitted.slice(i, i + CHUNK));
    }
  }

  /**
   * Closes a live gate for a forced rebuild while the lock holds `token`: meta and stock go (the
   * admit script answers COUPON_NOT_FOUND, the issuer 503), the admitted users stay.
   */
  async close(couponId: number, token: string): Promise<'closed' | 'lock lost'> {
    const args = scriptArgs(REBUILD_BEGIN, couponKeys(couponId), { token, mode: 'force' });
    return Number(await this.r.couponRebuildBegin(...args)) === REBUILD_CODES.DONE ? 'closed' : 'lock lost';
  }

  /**
   * Writes a rebuilt gate while the rebuild lock holds `token`: users first, stock and meta last.
   * Returns 'loaded', 'present' (a gate exists and force is off: nothing changed) or 'lock lost'
   * (the lock expired or changed hands: the gate stays closed for the next rebuild).
   */
  async rebuild(
    c: GateCoupon,
    admitted: readonly number[],
    token: string,
    force = false,
  ): Promise<'loaded' | 'present' | 'lock lost'> {
    const keys = couponKeys(c.id);
    const mode = force ? 'force' : '';
    const begun = Number(
      await this.r.couponRebuildBegin(...scriptArgs(REBUILD_BEGIN, keys, { token, mode })),
    );
    if (begun !== REBUILD_CODES.DONE) return begun === REBUILD_CODES.PRESENT ? 'present' : 'lock lost';
    const users = [...new Set(admitted)];
    for (let i = 0; i < users.length; i += CHUNK) {
      const chunk = users.slice(i, i + CHUNK);
      const ok = await this.r.couponRebuildAddUsers(...scriptArgs(REBUILD_ADD_USERS, keys, { token }, chunk));
      if (Number(ok) !== REBUILD_CODES.DONE) return 'lock lost';
    }
    const meta = { ...gateMeta(c), remaining: Math.max(0, c.quantity - users.length), token };
    const opened = await this.r.couponRebuildOpen(...scriptArgs(REBUILD_OPEN, keys, meta));
    if (Number(opened) !== REBUILD_CODES.DONE) return 'lock lost';
    this.announce(c.id);
    return 'loaded';
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

/** The admit script's arguments: the coupon's keys, then its users. */
function admitArgs(couponId: number, userIds: readonly number[]): Args {
  const [meta, stock, users] = gateKeys(couponId);
  return scriptArgs(ADMIT_MANY, { meta, stock, users }, {}, userIds);
}

/** A coupon's meta as LOAD and REBUILD_OPEN take it (times in epoch ms, paused '1' or '0'). */
function gateMeta(c: GateCoupon) {
  return {
    quantity: c.quantity,
    opensAt: c.opensAt.getTime(),
    closesAt: c.closesAt.getTime(),
    paused: c.paused ? '1' : '0',
  };
}
