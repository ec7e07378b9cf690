import { type DbPool, replicaLagSeconds } from '@coupon/db';
import { Counter, Gauge, type Logger, type Registry } from '@coupon/kit';

/**
 * Probes the read pool's lag behind the writer every `everyMs`, one probe at a time, into
 * `db_replica_lag_seconds` (the DatabaseReplicaLagging alert reads it).
 */
export function watchReplicaLag(
  deps: { writer: DbPool; reader: DbPool; registry: Registry; log: Logger },
  everyMs: number,
): { stop(): void } {
  const lag = new Gauge({
    name: 'db_replica_lag_seconds',
    help: 'How far the read pool (DATABASE_READ_URL) lags behind the writer, measured by the last probe',
    registers: [deps.registry],
  });
  const failures = new Counter({
    name: 'db_replica_lag_probe_failures_total',
    help: 'Replica lag probes that failed (writer or reader unreachable); the gauge keeps its last value',
    registers: [deps.registry],
  });
  failures.inc(0);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const probe = async (): Promise<void> => {
    try {
      lag.set(await replicaLagSeconds(deps.writer, deps.reader, Math.max(everyMs, 1_000) * 6));
    } catch (err) {
      failures.inc();
      deps.log.warn({ err: (err as Error).message }, 'replica lag probe failed');
    }
    if (!stopped) timer = setTimeout(() => void probe(), everyMs).unref();
  };
  void probe();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
