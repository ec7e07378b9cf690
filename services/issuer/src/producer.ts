import type { Message, Producer } from 'kafkajs';

export interface BatchingConfig {
  topic: string;
  /** How long to gather concurrent requests into one batch (kafkajs has no linger.ms). */
  lingerMs: number;
  /** Flush as soon as this many messages wait. */
  maxBatch: number;
  /** Give up waiting for the broker's acknowledgement after this long: the outcome is then unknown. */
  deliveryTimeoutMs: number;
}

export interface BatchHooks {
  /** err is the failure when ok is false (metrics tell definite from ambiguous failures with it). */
  onBatch?(size: number, ms: number, ok: boolean, err?: unknown): void;
}

/** The broker did not acknowledge in time. The event may or may not be in Kafka: do not release the slot. */
export class DeliveryTimeoutError extends Error {
  readonly ambiguous = true;
  constructor(ms: number) {
    super(`KafkaException: delivery not acknowledged within ${ms} ms`);
    this.name = 'DeliveryTimeoutError';
  }
}

type Pending = { message: Message; resolve: () => void; reject: (err: unknown) => void };

/**
 * Gathers concurrent sends for up to `lingerMs` (or `maxBatch` messages) into one producer.send with
 * acks=all, and settles each caller when the broker has acknowledged the batch. Batches go out one
 * after another (the idempotent producer keeps order with one request in flight); what arrives while
 * one is in flight joins the next.
 */
export class BatchingProducer {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private readonly maxInFlight = 1;
  /** performance.now() when the batch in flight was sent; undefined when none is. */
  private sentAt: number | undefined;
  private idle: Array<() => void> = [];

  constructor(
    private readonly producer: Producer,
    private readonly cfg: BatchingConfig,
    private readonly hooks: BatchHooks = {},
  ) {}

  send(message: Message): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      if (this.queue.length >= this.cfg.maxBatch) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.cfg.lingerMs);
    });
  }

  /** Waits until every queued message is sent or failed (shutdown). */
  async flush(): Promise<void> {
    this.kick();
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /**
   * How long the batch in flight has waited for the broker (0 when none is). acks=all answers in
   * milliseconds here; a batch that has waited for seconds means the broker is unreachable, and every
   * slot taken meanwhile would end as a 503 after the delivery timeout.
   */
  get stalledMs(): number {
    return this.sentAt === undefined ? 0 : performance.now() - this.sentAt;
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.queue.splice(0, this.cfg.maxBatch);
      this.inFlight++;
      void this.sendBatch(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.kick();
        else if (this.inFlight === 0) for (const done of this.idle.splice(0)) done();
      });
    }
  }

  private async sendBatch(batch: Pending[]): Promise<void> {
    const t0 = performance.now();
    this.sentAt = t0;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DeliveryTimeoutError(this.cfg.deliveryTimeoutMs)),
        this.cfg.deliveryTimeoutMs,
      );
    });
    const send = this.producer.send({
      topic: this.cfg.topic,
      acks: -1,
      messages: batch.map((p) => p.message),
    });
    try {
      await Promise.race([send, timeout]);
      this.hooks.onBatch?.(batch.length, performance.now() - t0, true);
      for (const p of batch) p.resolve();
    } catch (err) {
      this.hooks.onBatch?.(batch.length, performance.now() - t0, false, err);
      for (const p of batch) p.reject(err);
      // A timed-out send may still complete later (its events then reach the log: the slots stay
      // taken, so nothing is over-issued). kafkajs's own retry bound ends it.
      send.catch(() => undefined);
    } finally {
      clearTimeout(timer);
      this.sentAt = undefined;
    }
  }
}

/**
 * True only when the event certainly did not reach Kafka, so the slot may go back to stock: the
 * producer was disconnected, so kafkajs refused the send before writing anything. Everything else is
 * ambiguous and keeps the slot (reconcile repairs it): timeouts and lost connections may have written
 * the batch, and a broker's rejection is per partition while one send spans several, so the events of
 * the other partitions may be in the log (measured: an OUT_OF_ORDER_SEQUENCE_NUMBER rejection after a
 * Kafka outage released 14 slots whose events had been written). A "not connected" met on a retry
 * is ambiguous too: an earlier attempt may have written the batch.
 */
export function isDefiniteFailure(err: unknown): boolean {
  if (err instanceof DeliveryTimeoutError) return false;
  const x = err as { message?: unknown } | undefined;
  return typeof x?.message === 'string' && /producer is disconnected/i.test(x.message);
}
