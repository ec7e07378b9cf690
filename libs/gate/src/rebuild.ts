import {
  DLT_HEADERS,
  type DltReason,
  decodeIssuedEvent,
  readHeader,
  type TopicNames,
} from '@coupon/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DbPool, findCoupon, issuedUserIds } from '@coupon/db';
import { producerHorizonMs, producerTiming } from '@coupon/kit';
import type { Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import { countAdmitted } from './admitted.js';
import type { Gate } from './gate.js';
import { type Range, rangesFromGroup, readRanges } from './kafka-read.js';
import { acquireGateLock, keepGateLock } from './lock.js';
import { gateSnapshot } from './snapshot.js';

export interface RebuildDeps {
  pool: DbPool;
  redis: Redis;
  gate: Gate;
  kafka: Kafka;
  /** Connected. */
  admin: Admin;
  topics: TopicNames;
  signal?: AbortSignal;
}

export interface RebuildOptions {
  couponId: number;
  /** Compute only; change nothing (takes no lock). */
  dryRun?: boolean;
  /**
   * Rebuild although a gate is present: it is closed first (the coupon answers 503 meanwhile), and
   * its admitted users, read after closeWaitMs, are kept.
   */
  force?: boolean;
  /**
   * With force on a present gate: wait this long after closing it before reading anything, so every
   * send of an admission taken before the close has ended (default: DEFAULT_CLOSE_WAIT_MS).
   */
  closeWaitMs?: number;
  /** How long the rebuild lock lives if its holder dies; it is renewed every third of it while the rebuild works. */
  lockTtlMs?: number;
}

export interface RebuildResult {
  couponId: number;
  dryRun: boolean;
  quantity: number;
  /** Users with a row. */
  persisted: number;
  /** Users whose event is in the main topic beyond the persister's committed offsets, without a row yet. */
  inFlight: number;
  /** Users whose event sits in the DLT (holding its slot), without a row: a replay will bring them in. */
  inDlt: number;
  /** Users the gate already held (only with force). */
  kept: number;
  admitted: number;
  remaining: number;
}

/** Another rebuild of this coupon holds the lock: try again later (meanwhile the coupon answers 503). */
export class GateLockedError extends Error {
  constructor(readonly couponId: number) {
    super(`coupon ${couponId}: a rebuild of its gate is already under way`);
    this.name = 'GateLockedError';
  }
}

/** The coupon has a gate: nothing to rebuild (someone else did, or it was never lost). */
export class GatePresentError extends Error {
  constructor(
    readonly couponId: number,
    detail = '',
  ) {
    super(`coupon ${couponId} has a gate${detail}`);
    this.name = 'GatePresentError';
  }
}

/**
 * DLT reasons whose entries hold no slot: MySQL refused the row (the quantity was reached there),
 * so the user was never issued and a replay would be refused again.
 */
const SLOTLESS_DLT_REASONS: ReadonlySet<string> = new Set<DltReason>(['OVER_QUANTITY']);

/** The default lock TTL: how long a crashed holder blocks the next rebuild (a live one renews it). */
export const GATE_LOCK_TTL_MS = 60_000;

/** A forced rebuild's wait after closing the gate: the horizon of the issuer's default producer settings, plus a margin. */
export const DEFAULT_CLOSE_WAIT_MS = producerHorizonMs(producerTiming()) + 1_000;

/**
 * Rebuilds a coupon's lost gate under its lock (the one implementation, used by the issuer's
 * self-healing and by `coupon-ops rewarm`). See countAdmitted for the arithmetic.
 * The persister's committed offsets are read before the rows: an event committed in between is
 * then in the rows, and one not yet committed is in the range read afterwards, so none is missed.
 * While the gate is missing the admit script answers COUPON_NOT_FOUND, so nobody is admitted meanwhile.
 * Events still being produced when the gate was lost must have settled (the producer's horizon,
 * @coupon/kit producerHorizonMs) before this runs, or they are missed: the issuer waits for that; an
 * operator should too. A forced rebuild of a live gate closes it and waits the horizon itself.
 * The lock is renewed while the rebuild works; a renewal that finds it lost aborts the rebuild.
 */
export async function rebuildGate(deps: RebuildDeps, opts: RebuildOptions): Promise<RebuildResult> {
  const { couponId } = opts;
  const coupon = await findCoupon(deps.pool, couponId);
  if (!coupon) throw new Error(`coupon ${couponId} does not exist in the database`);
  const lock = opts.dryRun
    ? undefined
    : await acquireGateLock(deps.redis, couponId, opts.lockTtlMs ?? GATE_LOCK_TTL_MS);
  if (!opts.dryRun && !lock) throw new GateLockedError(couponId);
  const kept = lock ? keepGateLock(lock) : undefined;
  const signals = [deps.signal, kept?.signal].filter((x): x is AbortSignal => x !== undefined);
  const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
  try {
    let current = await gateSnapshot(deps.redis, couponId);
    if (current && !opts.force) {
      throw new GatePresentError(
        couponId,
        ` (remaining ${current.remaining}, admitted ${current.admitted.length}); ` +
          'rewarm rebuilds a lost gate: use reconcile for drift, or --force to rebuild keeping its users',
      );
    }
    if (current && lock) {
      // Forced on a live gate: close it (no admission from now on), let every send of the admissions
      // taken until now end, then keep the users it holds after the close.
      if ((await deps.gate.close(couponId, lock.token)) !== 'closed') throw lockLost(couponId);
      await sleep(opts.closeWaitMs ?? DEFAULT_CLOSE_WAIT_MS, undefined, { signal });
      current = { ...current, admitted: await deps.gate.admittedUsers(couponId) };
    }
    const readDeps = { ...deps, signal };
    const inFlightRanges = await rangesFromGroup(deps.admin, deps.topics.issued, deps.topics.persisterGroup);
    const rows = await issuedUserIds(deps.pool, couponId);
    const inFlight = await usersIn(readDeps, deps.topics.issued, inFlightRanges, couponId);
    const dltRanges = await rangesFromGroup(deps.admin, deps.topics.issuedDlt, undefined);
    const inDlt = await usersIn(readDeps, deps.topics.issuedDlt, dltRanges, couponId);
    const count = countAdmitted({
      quantity: coupon.quantity,
      rows,
      inFlight,
      inDlt,
      kept: current?.admitted,
    });
    if (lock) {
      signal?.throwIfAborted();
      const done = await deps.gate.rebuild(coupon, count.admitted, lock.token);
      if (done === 'present') throw new GatePresentError(couponId);
      if (done === 'lock lost') throw lockLost(couponId);
    }
    const { admitted: _users, ...figures } = count;
    return {
      couponId,
      dryRun: opts.dryRun ?? false,
      quantity: coupon.quantity,
      ...figures,
      admitted: count.admitted.length,
    };
  } catch (err) {
    // A renewal that found the lock lost aborted the work: say so rather than "aborted".
    if (kept?.signal.aborted) throw lockLost(couponId);
    throw err;
  } finally {
    kept?.stop();
    await lock?.release().catch(() => false);
  }
}

function lockLost(couponId: number): Error {
  return new Error(`coupon ${couponId}: rebuild lock lost before the gate was loaded`);
}

async function usersIn(
  deps: RebuildDeps,
  topic: string,
  ranges: Range[],
  couponId: number,
): Promise<Set<number>> {
  const users = new Set<number>();
  const dlt = topic === deps.topics.issuedDlt;
  await readRanges(deps.kafka, {
    topic,
    ranges,
    signal: deps.signal,
    onBatch: async ({ messages }) => {
      for (const m of messages) {
        if (dlt && SLOTLESS_DLT_REASONS.has(readHeader(m.headers, DLT_HEADERS.reason) ?? '')) continue;
        const d = decodeIssuedEvent(m.value); // not an event: the persister sends it to the DLT
        if (d.ok && d.event.couponId === couponId) users.add(d.event.userId);
      }
      return undefined;
    },
  });
  return users;
}
