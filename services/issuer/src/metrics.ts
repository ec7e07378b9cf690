import { ISSUE_OUTCOMES, type IssueOutcome } from '@coupon/contracts';
import type { GateHooks } from '@coupon/gate';
import {
  BATCH_SIZE_BUCKETS,
  Counter,
  createPoolMetrics,
  createRegistry,
  Gauge,
  Histogram,
  LATENCY_BUCKETS,
  type PoolMetrics,
  type Registry,
} from '@coupon/kit';
import type { HealHooks } from './heal.js';
import { type BatchHooks, isDefiniteFailure } from './producer.js';
import type { ReconcileHooks } from './reconciler.js';
import type { ReleaseHooks } from './release.js';

export interface IssuerMetrics {
  registry: Registry;
  /** DbPool hooks and gauges (the issuer's small pool for admin and status reads). */
  pool: PoolMetrics;
  /** BatchingProducer hooks. */
  producer: Required<BatchHooks>;
  /** Gate hooks. */
  gate: Required<GateHooks>;
  /** GateHealer hooks. */
  heal: Required<HealHooks>;
  /** Reconciler hooks. */
  reconcile: Required<ReconcileHooks>;
  /** SlotReleaser hooks. */
  release: Required<ReleaseHooks>;
}

export function createIssuerMetrics(registry: Registry = createRegistry('issuer')): IssuerMetrics {
  const batchSize = new Histogram({
    name: 'kafka_producer_batch_size',
    help: 'Events per producer.send (requests gathered during linger.ms), acknowledged or not.',
    buckets: BATCH_SIZE_BUCKETS,
    registers: [registry],
  });
  const sendSeconds = new Histogram({
    name: 'kafka_producer_send_seconds',
    help: 'Time from producer.send to the acks=all acknowledgement (or the failure) of one batch, by result.',
    labelNames: ['result'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const sendOk = sendSeconds.labels('ok');
  const sendFailed = sendSeconds.labels('failed');
  const failures = new Counter({
    name: 'kafka_producer_failures_total',
    help:
      'Events whose produce failed. definite="true": certainly not in Kafka, the slot went back to stock; ' +
      'definite="false": timeout or lost connection, the event may be in Kafka, the slot stays taken until reconcile.',
    labelNames: ['definite'] as const,
    registers: [registry],
  });
  const definite = failures.labels('true');
  const ambiguous = failures.labels('false');
  definite.inc(0);
  ambiguous.inc(0);

  const cut = new Counter({
    name: 'kafka_producer_cut_total',
    help:
      'Events of sends abandoned at the delivery timeout that were still running at the producer horizon ' +
      'and were cut (the kafkajs producer disconnected; the events stay ambiguous).',
    registers: [registry],
  });

  const gateOutcomes = new Counter({
    name: 'coupon_gate_outcomes_total',
    help: "Decisions of the Redis gate script by outcome (a Redis failure is no decision: see the gateway's unavailable results).",
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const byOutcome = new Map<IssueOutcome, Counter.Internal>();
  for (const o of ISSUE_OUTCOMES) {
    const child = gateOutcomes.labels(o.toLowerCase());
    child.inc(0);
    byOutcome.set(o, child);
  }

  const waitShort = new Counter({
    name: 'coupon_gate_replica_wait_short_total',
    help:
      'Admissions whose batch WAIT saw fewer replicas than REDIS_WAIT_REPLICAS in time: answered 503, ' +
      'nothing produced, slot released (issuer_slots_released_total{reason="replica_unconfirmed"}).',
    registers: [registry],
  });
  const waitBusy = new Counter({
    name: 'coupon_gate_wait_busy_total',
    help:
      'Requests refused (503) because every WAIT connection (REDIS_WAIT_CONNECTIONS) was waiting for ' +
      'replicas: nothing sent, no slot taken.',
    registers: [registry],
  });
  const released = new Counter({
    name: 'issuer_slots_released_total',
    help:
      'Slots the issuer gave back because their admission was never produced, by reason ' +
      '(replica_unconfirmed: WAIT saw too few replicas; not_produced: a definite produce failure).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const r of ['replica_unconfirmed', 'not_produced']) released.labels(r).inc(0);
  const releaseQueue = new Gauge({
    name: 'issuer_slot_release_queue',
    help: 'Releases waiting for Redis to answer (retried until it does, bounded).',
    registers: [registry],
  });
  const abandoned = new Counter({
    name: 'issuer_slot_releases_abandoned_total',
    help:
      'Releases given up, the slot left for reconcile: full (queue bound), stale (queued too long), ' +
      'unknown (the release may have run: never run twice).',
    labelNames: ['why'] as const,
    registers: [registry],
  });
  const rebuilds = new Counter({
    name: 'coupon_gate_rebuilds_total',
    help:
      'Lost gates the issuer rebuilt by itself (result="rebuilt") or failed to (result="failed": ' +
      'retried while requests for the coupon answer 503).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const rebuilt = rebuilds.labels('rebuilt');
  const rebuildFailed = rebuilds.labels('failed');
  rebuilt.inc(0);
  rebuildFailed.inc(0);

  const reconcile = reconcileMetrics(registry);

  return {
    registry,
    reconcile,
    pool: createPoolMetrics(registry),
    producer: {
      onBatch(size, ms, ok, err) {
        batchSize.observe(size);
        (ok ? sendOk : sendFailed).observe(ms / 1_000);
        if (!ok) (isDefiniteFailure(err) ? definite : ambiguous).inc(size);
      },
      onNotSent(count) {
        definite.inc(count);
      },
      onCut(count) {
        cut.inc(count);
      },
    },
    gate: {
      onAdmit(outcome) {
        byOutcome.get(outcome)?.inc();
      },
      onReplicaWaitShort(admissions) {
        waitShort.inc(admissions);
      },
      onWaitBusy(items) {
        waitBusy.inc(items);
      },
    },
    release: {
      onReleased(reason, done) {
        if (done) released.labels(reason).inc();
      },
      onAbandoned(why) {
        abandoned.labels(why).inc();
      },
      onQueued(pending) {
        releaseQueue.set(pending);
      },
    },
    heal: {
      onRebuild(ok) {
        (ok ? rebuilt : rebuildFailed).inc();
      },
    },
  };
}

/** The automatic reconcile's figures: what is still ambiguous, how old, and what it repaired. */
function reconcileMetrics(registry: Registry): Required<ReconcileHooks> {
  let oldestSince: number | undefined;
  const ambiguous = new Gauge({
    name: 'coupon_reconcile_ambiguous_admissions',
    help:
      'Admitted users with neither a row nor a refusal, as the last reconcile round of this issuer saw ' +
      'them (in grace, in flight or missing), summed over the active coupons.',
    registers: [registry],
  });
  new Gauge({
    name: 'coupon_reconcile_oldest_ambiguous_seconds',
    help:
      'Age of the oldest of those admissions (since a round first saw it), now: it keeps growing while ' +
      'rounds cannot run. 0 when there is none.',
    registers: [registry],
    collect() {
      this.set(oldestSince === undefined ? 0 : (Date.now() - oldestSince) / 1_000);
    },
  });
  const repaired = new Counter({
    name: 'coupon_reconcile_repaired_total',
    help:
      'Repairs of the automatic reconcile: action="republished" (a new event for an admitted user ' +
      'without row, refusal or event in flight after the grace), action="adopted" (a row added to the admitted set).',
    labelNames: ['action'] as const,
    registers: [registry],
  });
  const rounds = new Counter({
    name: 'coupon_reconcile_rounds_total',
    help: 'Reconcile rounds by result: ok, or skipped (Redis, MySQL or Kafka did not answer; nothing republished).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const a of ['republished', 'adopted']) repaired.labels(a).inc(0);
  for (const r of ['ok', 'skipped']) rounds.labels(r).inc(0);
  return {
    onRound(n, since) {
      ambiguous.set(n);
      oldestSince = since;
    },
    onRepaired(action, n) {
      repaired.labels(action).inc(n);
    },
    onRoundResult(result) {
      rounds.labels(result).inc();
    },
  };
}
