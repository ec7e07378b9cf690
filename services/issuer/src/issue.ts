import {
  AppError,
  encodeIssuedEvent,
  type IssueOutcome,
  type IssueRequest,
  type IssueResponse,
  newIssuedEvent,
} from '@coupon/contracts';
import { type DbPool, findCoupon } from '@coupon/db';
import { type Gate, GateBusyError, ReplicationUnconfirmedError } from '@coupon/gate';
import type { Logger } from '@coupon/kit';
import type { GateHealer } from './heal.js';
import { ProduceGuard } from './produce-guard.js';
import { type BatchingProducer, isDefiniteFailure } from './producer.js';
import type { SlotReleaser } from './release.js';

/** Accepted requests per `issued` log line (about 90 bytes each). */
const LOG_ISSUED_PER_LINE = 100;

/** After a failed produce, refuse new work this long before one batch probes Kafka again. */
const KAFKA_COOLDOWN_MS = 1_000;
const KAFKA_DOWN = new AppError('UNAVAILABLE', 'event log unavailable', { retryable: true });
/** This coupon is unavailable, not the issuer: its answer says so, and the gateway's breaker ignores it. */
export class CouponUnavailable extends AppError {}
const GATE_REBUILDING = new CouponUnavailable('UNAVAILABLE', 'coupon gate is being rebuilt', {
  retryable: true,
});
/** The gate is missing and the database did not answer whether the coupon exists: not a 404. */
const COUPON_LOOKUP_FAILED = new CouponUnavailable('UNAVAILABLE', 'coupon lookup unavailable', {
  retryable: true,
});

export interface IssueDeps {
  gate: Pick<Gate, 'admitMany'>;
  producer: Pick<BatchingProducer, 'send' | 'stalledMs'>;
  pool: DbPool;
  log: Logger;
  /** Rebuilds a gate Redis lost (the coupon exists in the database), in the background. */
  healer: Pick<GateHealer, 'active' | 'sawGate' | 'healing' | 'gateLost'>;
  /** Gives back slots never produced (retrying while Redis does not answer). */
  releaser: SlotReleaser;
  /** Refuse new admissions while the batch in flight has waited this long for the broker. */
  stallMs?: number;
  /** Told (in memory) each coupon whose gate took a request: the automatic reconcile works those. */
  served?(couponId: number): void;
  /** The database lookup behind a lost gate; tests pass a fake. Defaults to @coupon/db's findCoupon. */
  findCoupon?: typeof findCoupon;
}

/**
 * The issue operation: the gate decides, then the event must be durable in Kafka before we answer.
 * A definite produce failure gives the slot back, and so does an admission no replica confirmed (it
 * was never produced); an ambiguous one (timeout) keeps it for reconcile.
 */
export class IssueService {
  private readonly guard = new ProduceGuard(KAFKA_COOLDOWN_MS);
  private readonly knownMissing = new Map<number, number>();
  /** Batches waiting for the gate's next pipeline (see decide). */
  private deciding: Array<{ reqs: readonly IssueRequest[]; done: (o: Array<IssueOutcome | Error>) => void }> =
    [];

  constructor(private readonly deps: IssueDeps) {}

  /**
   * Decides a batch in one Redis pipeline, then produces the admitted events together (they join one
   * Kafka batch). Each item gets its outcome, or an AppError (503) when its outcome could not be had.
   */
  async issueMany(reqs: readonly IssueRequest[]): Promise<Array<IssueResponse | AppError>> {
    // The stall check first: a probe handed out and then refused would hold the guard's probe slot.
    if (this.deps.producer.stalledMs > (this.deps.stallMs ?? 1_000)) return reqs.map(() => KAFKA_DOWN);
    const pass = this.guard.enter();
    if (pass === 'refuse') return reqs.map(() => KAFKA_DOWN);
    const outcomes = await this.decide(reqs);
    if (pass === 'probe' && !outcomes.some((o) => o === 'ISSUED')) this.guard.probeUnused();
    if (this.deps.served)
      outcomes.forEach((o, i) => {
        // An error may hide an admission (the script ran, the reply was lost): worth a look too.
        if (o !== 'COUPON_NOT_FOUND') this.deps.served?.((reqs[i] as IssueRequest).couponId);
      });
    if (this.deps.healer.active) this.reportGates(reqs, outcomes);
    const results = await Promise.all(
      reqs.map(async (req, i): Promise<IssueResponse | AppError> => {
        const outcome = outcomes[i];
        if (outcome instanceof ReplicationUnconfirmedError) {
          // Nothing was produced: give the slot back before answering, so the retry is admitted.
          await this.deps.releaser.release(req.couponId, req.userId, 'replica_unconfirmed');
          return new AppError('UNAVAILABLE', 'admission not confirmed by a replica; try again', {
            retryable: true,
            cause: outcome,
          });
        }
        if (outcome instanceof GateBusyError)
          return new AppError('UNAVAILABLE', 'gate busy; try again', { retryable: true, cause: outcome });
        if (outcome instanceof Error || outcome === undefined)
          return new AppError('UNAVAILABLE', 'gate unavailable', { retryable: true, cause: outcome });
        try {
          if (outcome === 'COUPON_NOT_FOUND') await this.assertGateNotLost(req.couponId);
          if (outcome !== 'ISSUED') return { outcome };
          return { outcome, eventId: await this.produce(req) };
        } catch (err) {
          if (err instanceof AppError) return err;
          return new AppError('UNAVAILABLE', 'issue failed', { retryable: true, cause: err });
        }
      }),
    );
    this.logIssued(reqs, results);
    return results;
  }

  /**
   * The gate's decisions for a batch. Batches that arrive in the same event-loop turn (several
   * gateways each send their own, half as large with two) share one gate pipeline and its one WAIT:
   * the Redis round trip is paid per turn, not per gateway (loadtests/CPU.md, the --ha profile).
   */
  private decide(reqs: readonly IssueRequest[]): Promise<Array<IssueOutcome | Error>> {
    return new Promise((done) => {
      if (this.deciding.push({ reqs, done }) === 1) setImmediate(() => this.decideTogether());
    });
  }

  private decideTogether(): void {
    const waiting = this.deciding;
    this.deciding = [];
    const all = waiting.length === 1 ? (waiting[0]?.reqs ?? []) : waiting.flatMap((w) => w.reqs);
    void this.deps.gate
      .admitMany(all)
      .catch((err: unknown) => all.map(() => err as Error))
      .then((outcomes) => {
        let at = 0;
        for (const w of waiting) {
          w.done(outcomes.slice(at, at + w.reqs.length));
          at += w.reqs.length;
        }
      });
  }

  /** While a heal runs: a coupon whose gate decided a request is back (GateHealer.sawGate). */
  private reportGates(reqs: readonly IssueRequest[], outcomes: ReadonlyArray<unknown>): void {
    reqs.forEach((req, i) => {
      const o = outcomes[i];
      if (typeof o === 'string' && o !== 'COUPON_NOT_FOUND') this.deps.healer.sawGate(req.couponId);
    });
  }

  /**
   * One line per batch for the accepted requests, each as `requestId eventId couponId userId`
   * (rejections stay silent: counters only); at most LOG_ISSUED_PER_LINE per line, so a line stays
   * under the 16 KiB that log shippers split at. A line per request cost too much of the issuer's
   * CPU (loadtests/CPU.md, "What each change bought").
   */
  private logIssued(reqs: readonly IssueRequest[], results: Array<IssueResponse | AppError>): void {
    const issued: string[] = [];
    results.forEach((r, i) => {
      const req = reqs[i];
      if (req && !(r instanceof AppError) && r.eventId)
        issued.push(`${req.requestId} ${r.eventId} ${req.couponId} ${req.userId}`);
    });
    for (let i = 0; i < issued.length; i += LOG_ISSUED_PER_LINE) {
      const part = issued.slice(i, i + LOG_ISSUED_PER_LINE);
      this.deps.log.info({ n: part.length, issued: part }, 'issued');
    }
  }

  /** The event must be durable in Kafka before we answer. Returns its id. */
  private async produce(req: IssueRequest): Promise<string> {
    const event = newIssuedEvent(req.couponId, req.userId, req.requestId);
    try {
      await this.deps.producer.send(encodeIssuedEvent(event));
      this.guard.succeeded();
    } catch (err) {
      this.guard.failed();
      const definite = isDefiniteFailure(err);
      let released = false;
      if (definite) released = await this.deps.releaser.release(req.couponId, req.userId, 'not_produced');
      this.deps.log.error(
        {
          err,
          eventId: event.eventId,
          requestId: req.requestId,
          couponId: req.couponId,
          userId: req.userId,
          definite,
          released,
        },
        'KafkaException: produce failed',
      );
      throw new AppError('UNAVAILABLE', 'event log unavailable', { retryable: true, cause: err });
    }
    return event.eventId;
  }

  /**
   * The gate knows nothing of this coupon. If the database does, Redis lost its data: answer 503
   * while the healer rebuilds the gate in the background (re-opening from the quantity alone would
   * over-issue). Requests meanwhile get the 503 without a database lookup. A lookup that fails is
   * no answer: 503 for this coupon, nothing cached, so the next request asks again (and heals).
   */
  private async assertGateNotLost(couponId: number): Promise<void> {
    if (this.deps.healer.healing(couponId)) throw GATE_REBUILDING;
    const checked = this.knownMissing.get(couponId);
    if (checked !== undefined && Date.now() - checked < 5_000) return;
    const find = this.deps.findCoupon ?? findCoupon;
    const coupon = await find(this.deps.pool, couponId).catch(() => null);
    if (coupon === null) throw COUPON_LOOKUP_FAILED;
    if (!coupon) {
      if (this.knownMissing.size > 10_000) this.knownMissing.clear();
      this.knownMissing.set(couponId, Date.now());
      return;
    }
    this.deps.healer.gateLost(couponId);
    throw GATE_REBUILDING;
  }
}
