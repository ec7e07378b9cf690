import type { Logger } from '@coupon/kit';

/** The slice of a kafkajs consumer that restarting needs. */
export interface Restartable {
  connect(): Promise<void>;
  run(): Promise<void>;
}

/**
 * kafkajs restarts its consumer after a retriable crash only: after any other (an error thrown out
 * of eachBatch, a produce the broker refused for good) it disconnects and stays down, and the
 * persister would live on consuming nothing. This brings it back after `delayMs`, again and again
 * while the restart itself fails, until `stopped()` says the process is shutting down. The batch
 * that crashed was not committed: it is read again.
 */
export function restartAfterCrash(
  consumer: Restartable,
  log: Logger,
  opts: { delayMs: number; stopped: () => boolean; onRestart?: () => void },
): (kafkaRestarts: boolean) => void {
  let pending = false;
  const attempt = (): void => {
    pending = true;
    setTimeout(() => {
      if (opts.stopped()) {
        pending = false;
        return;
      }
      consumer
        .connect()
        .then(() => consumer.run())
        .then(
          () => {
            pending = false;
            opts.onRestart?.();
            log.warn('consumer restarted after a crash kafkajs does not restart from');
          },
          (err: unknown) => {
            log.error({ err }, 'consumer restart failed, trying again');
            attempt();
          },
        );
    }, opts.delayMs).unref();
  };
  return (kafkaRestarts) => {
    if (!kafkaRestarts && !pending) attempt();
  };
}
