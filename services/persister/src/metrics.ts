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
import type { Admin } from 'kafkajs';
import type { WriterHooks } from './writer.js';

/** Admission to committed row: milliseconds when healthy, minutes while the database is down. */
const EVENT_TO_ROW_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export type LagAdmin = Pick<Admin, 'connect' | 'disconnect' | 'fetchOffsets' | 'fetchTopicOffsets'>;

export interface LagConfig {
  groupId: string;
  topic: string;
  /** Scrapes within this long reuse the last answer, so several Prometheus servers do not hammer Kafka. */
  cacheMs?: number;
  /** A scrape waits this long for Kafka at most; past it the lag is reported as unknown (no series). */
  timeoutMs?: number;
}

type Committed = Awaited<ReturnType<Admin['fetchOffsets']>>[number]['partitions'];
type Ends = Awaited<ReturnType<Admin['fetchTopicOffsets']>>;

/**
 * Lag per partition: end offset (high watermark) minus the group's committed offset. A partition the
 * group never committed (-1), or whose commit fell below the log start, counts from the log start,
 * which is where the consumer (fromBeginning) would begin.
 */
export function computeLag(committed: Committed, ends: Ends): Map<number, number> {
  const byPartition = new Map(committed.map((p) => [p.partition, Number(p.offset)]));
  const lag = new Map<number, number>();
  for (const e of ends) {
    const high = Number(e.high ?? e.offset);
    const low = Number(e.low ?? 0);
    const c = byPartition.get(e.partition) ?? -1;
    lag.set(e.partition, Math.max(0, high - Math.max(c, low)));
  }
  return lag;
}

/**
 * Reads the group's lag from Kafka on demand: one admin round trip per `cacheMs` at most, concurrent
 * callers share the request in flight, and read() never throws (undefined = unknown).
 */
export class LagReader {
  private connected: Promise<void> | undefined;
  private inflight: Promise<Map<number, number> | undefined> | undefined;
  private cached: { at: number; lag: Map<number, number> | undefined } | undefined;
  private readonly cacheMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly admin: LagAdmin,
    private readonly cfg: LagConfig,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.cacheMs = cfg.cacheMs ?? 1_000;
    this.timeoutMs = cfg.timeoutMs ?? 2_000;
  }

  async read(): Promise<Map<number, number> | undefined> {
    if (this.cached && Date.now() - this.cached.at < this.cacheMs) return this.cached.lag;
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        this.onError(new Error(`consumer lag not read within ${this.timeoutMs} ms`));
        resolve(undefined);
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([this.inflight, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async fetch(): Promise<Map<number, number> | undefined> {
    let lag: Map<number, number> | undefined;
    try {
      this.connected ??= this.admin.connect();
      await this.connected;
      const [committed, ends] = await Promise.all([
        this.admin.fetchOffsets({ groupId: this.cfg.groupId, topics: [this.cfg.topic] }),
        this.admin.fetchTopicOffsets(this.cfg.topic),
      ]);
      lag = computeLag(committed.find((t) => t.topic === this.cfg.topic)?.partitions ?? [], ends);
    } catch (err) {
      this.connected = undefined;
      this.onError(err);
    }
    this.cached = { at: Date.now(), lag };
    return lag;
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect().catch(() => undefined);
    this.connected = undefined;
  }
}

export interface PersisterMetrics {
  registry: Registry;
  /** DbPool hooks and gauges. */
  pool: PoolMetrics;
  /** BatchWriter hooks. */
  writer: Required<WriterHooks>;
  /** Reports the consumer group's lag, read through this admin client on scrape. */
  watchLag(admin: LagAdmin, cfg: LagConfig): void;
  /** Disconnects the admin client used for the lag. */
  close(): Promise<void>;
}

export function createPersisterMetrics(registry: Registry = createRegistry('persister')): PersisterMetrics {
  const lagErrors = new Counter({
    name: 'kafka_consumer_lag_errors_total',
    help: 'Scrapes that could not read the consumer lag from Kafka (the lag series are absent then).',
    registers: [registry],
  });
  let lag: { reader: LagReader; topic: string } | undefined;
  new Gauge({
    name: 'kafka_consumer_lag',
    help: "Messages not yet committed by the persister's consumer group, per partition (end offset - committed offset), read from Kafka on scrape.",
    labelNames: ['topic', 'partition'] as const,
    registers: [registry],
    async collect() {
      if (!lag) return;
      const { reader, topic } = lag;
      const byPartition = await reader.read();
      this.reset();
      if (byPartition)
        for (const [partition, n] of byPartition) this.set({ topic, partition: String(partition) }, n);
    },
  });

  const batchSize = new Histogram({
    name: 'persister_batch_size',
    help: 'Messages per fetched batch handled by the writer.',
    buckets: BATCH_SIZE_BUCKETS,
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: 'persister_batch_duration_seconds',
    help: 'Time to persist one fetched batch: insert (with retries), DLT publish and offset commit.',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const inserted = new Counter({
    name: 'persister_rows_inserted_total',
    help: 'Rows inserted; redelivered events already in the table are not counted.',
    registers: [registry],
  });
  const retries = new Counter({
    name: 'persister_retries_total',
    help: 'Batch writes that failed transiently (database down, pool timeout, deadlock) and were retried after a back-off.',
    registers: [registry],
  });
  const dlt = new Counter({
    name: 'persister_dlt_events_total',
    help: 'Events published to the dead-letter topic (poison or non-retryable); each needs the DLT command.',
    registers: [registry],
  });
  const overQuantity = new Counter({
    name: 'persister_over_quantity_total',
    help: "Rows MySQL's quantity guard refused because the coupon's quantity was reached (the Redis gate admitted more users than the quantity); each went to the DLT as OVER_QUANTITY. Counted once per refused user.",
    registers: [registry],
  });
  const eventToRow = new Histogram({
    name: 'coupon_event_to_row_seconds',
    help: "Time from the gate's admission (event issuedAt) to the committed row and offset, per event.",
    buckets: EVENT_TO_ROW_BUCKETS,
    registers: [registry],
  });

  return {
    registry,
    pool: createPoolMetrics(registry),
    writer: {
      onBatch(size, rows, ms) {
        batchSize.observe(size);
        batchSeconds.observe(ms / 1_000);
        inserted.inc(rows);
      },
      onRetry: () => retries.inc(),
      onDlt: (n) => dlt.inc(n),
      onOverQuantity: (n) => overQuantity.inc(n),
      // Clocks of issuer and persister hosts may differ slightly: never observe a negative latency.
      onEventLatency: (ms) => eventToRow.observe(Math.max(0, ms) / 1_000),
    },
    watchLag(admin, cfg) {
      lag = { reader: new LagReader(admin, cfg, () => lagErrors.inc()), topic: cfg.topic };
    },
    close: async () => lag?.reader.close(),
  };
}
