import { type DbPool, issuedUserIds } from '@coupon/db';
import type { OwnedDeps } from '@coupon/ops';
import { sleep } from '../support/index.js';
import type { Load } from './load.js';

/** A request answered this long ago has had time to land its event, if it had one (the persister's pace). */
const ANSWERED_MS = 2_000;
const POLL_MS = 1_000;

/** What the system did by itself about ambiguous admissions once the dependencies were back. */
export interface AutoSettle {
  /** Seconds from the dependencies back until no admitted slot was ambiguous; undefined: none was seen. */
  settleS: number | undefined;
  /** Ambiguous slots at the window's end, after the events then in flight were persisted (0 expected). */
  left: number[];
  /** Most ambiguous slots seen at once after the dependencies were back. */
  peak: number;
}

/** Users MySQL's quantity guard refused (final: never republished). */
async function refusedUsers(pool: DbPool, couponId: number): Promise<number[]> {
  return pool.with(async (conn) => {
    const [rows] = await conn.query('SELECT user_id AS userId FROM coupon_refusal WHERE coupon_id = ?', [
      couponId,
    ]);
    return (rows as Array<{ userId: number | string }>).map((r) => Number(r.userId));
  });
}

/** Events in the main topic not yet committed by the persister group. */
export async function lag(ops: OwnedDeps): Promise<number> {
  const topic = ops.topics.issued;
  const [high, [committed]] = await Promise.all([
    ops.admin.fetchTopicOffsets(topic),
    ops.admin.fetchOffsets({ groupId: ops.topics.persisterGroup, topics: [topic] }),
  ]);
  const done = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return high.reduce((n, p) => n + Number(p.high) - Math.max(0, done.get(p.partition) ?? 0), 0);
}

/**
 * Watches, from the moment the dependencies are back, the admitted slots that nobody will settle
 * unless the system does: a user admitted in Redis, not answered 202 (a 202's event is in Kafka: the
 * "every 202 has a row" check covers it), answered at least ANSWERED_MS ago, with no row and no
 * refusal. Such a slot holds stock with no event in flight, or one in flight that has not landed yet;
 * the automatic reconcile must republish (or release) it. No reconcile is run by hand here.
 */
export class AmbiguityWatch {
  private readonly samples: Array<[wallMs: number, count: number]> = [];
  private last: number[] = [];
  private on = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly ops: OwnedDeps,
    private readonly pool: DbPool,
    private readonly coupons: readonly number[],
    private readonly load: Load,
    /** Date.now() when the dependencies were back. */
    readonly since: number,
  ) {
    this.loop = this.run();
  }

  /** Ambiguous users now (undefined when a dependency of the check itself did not answer). */
  async poll(): Promise<number[] | undefined> {
    const acked = new Set<number>();
    const answered = new Map<number, number>();
    for (const s of this.load.shots) {
      if (s.status === 202) acked.add(s.userId);
      answered.set(s.userId, Math.max(answered.get(s.userId) ?? 0, s.t + s.ms));
    }
    const before = this.load.now() - ANSWERED_MS;
    try {
      const out: number[] = [];
      for (const id of this.coupons) {
        const admitted = await this.ops.gate.admittedUsers(id);
        const [rows, refused] = await Promise.all([
          issuedUserIds(this.pool, id),
          refusedUsers(this.pool, id),
        ]);
        const settled = new Set([...rows, ...refused]);
        for (const u of admitted) {
          const at = answered.get(u);
          if (!settled.has(u) && !acked.has(u) && at !== undefined && at < before) out.push(u);
        }
      }
      return out;
    } catch {
      return undefined;
    }
  }

  /** Ends the background polls (result() ends them too). */
  async stop(): Promise<void> {
    this.on = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.on) {
      const amb = await this.poll();
      if (amb) {
        this.samples.push([Date.now(), amb.length]);
        this.last = amb;
      }
      await sleep(POLL_MS);
    }
  }

  /**
   * Once the load has stopped: waits until a poll finds no ambiguous slot and no event in flight, or
   * until `deadline` (Date.now() ms); at the deadline the events then in Kafka are given up to 30 s
   * to be persisted before the slots still without a row are counted as left.
   */
  async result(deadline: number): Promise<AutoSettle> {
    await this.stop();
    let left: number[] = [];
    for (;;) {
      const amb = await this.poll();
      if (amb) this.samples.push([Date.now(), amb.length]);
      if (amb?.length === 0 && (await lag(this.ops).catch(() => 1)) === 0) break;
      if (Date.now() >= deadline) {
        const end = Date.now() + 30_000;
        while (Date.now() < end && (await lag(this.ops).catch(() => 1)) > 0) await sleep(250);
        left = (await this.poll()) ?? this.last;
        this.samples.push([Date.now(), left.length]);
        break;
      }
      await sleep(POLL_MS);
    }
    const peak = Math.max(0, ...this.samples.map(([, n]) => n));
    if (left.length > 0) return { settleS: undefined, left, peak };
    const lastBusy = this.samples.findLastIndex(([, n]) => n > 0);
    const clearAt = lastBusy < 0 ? undefined : this.samples[lastBusy + 1]?.[0];
    return { settleS: clearAt === undefined ? undefined : (clearAt - this.since) / 1_000, left, peak };
  }
}
