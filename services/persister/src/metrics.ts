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
import { type LagAdmin, type LagConfig, LagReader } from './lag.js';
import type { WriterHooks } from './writer.js';

/** Admission to committed row: milliseconds when healthy, minutes while the database is down. */
const EVENT_TO_ROW_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export interface PersisterMetrics {
  registry: Registry;
  /** DbPool hooks and gauges. */
  pool: PoolMetrics;
  /** BatchWriter hooks. */
  writer: Required<WriterHooks>;
  /** Reports the consumer group's lag, read through this admin client on scrape. */
  watchLag(admin: LagAdmin, cfg: LagConfig): void;
  /** Counts a consumer brought back after a crash kafkajs does not restart from (restart.ts). */
  consumerRestarted(): void;
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
  const restarts = new Counter({
    name: 'persister_consumer_restarts_total',
    help: 'Consumer restarts after a crash kafkajs does not restart from by itself (a non-retriable error); the batch is read again.',
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
    consumerRestarted: () => restarts.inc(),
    close: async () => lag?.reader.close(),
  };
}
