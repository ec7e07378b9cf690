import type { Message, Producer } from 'kafkajs';

export interface BatchingConfig {
  topic: string;
  /** How long to gather concurrent requests into one batch (kafkajs has no linger.ms). */
  lingerMs: number;
  /** Flush as soon as this many messages wait. */
  maxBatch: number;
  /** Give up waiting for the broker's acknowledgement after this long: the outcome is then unknown. */
  deliveryTimeoutMs: number;
  /**
   * The producer's horizon (@coupon/kit producerHorizonMs): a send still running this long after its
   * oldest message was queued is cut (its kafkajs producer disconnected, so nothing more is written).
   */
  horizonMs: number;
}

export interface BatchHooks {
  /** err is the failure when ok is false (metrics tell definite from ambiguous failures with it). */
  onBatch?(size: number, ms: number, ok: boolean, err?: unknown): void;
  /** Messages failed with NotSentError (never handed to kafkajs: a definite failure). */
  onNotSent?(count: number): void;
  /** A send abandoned at the delivery timeout reached the horizon and was cut. */
  onCut?(count: number): void;
}

/** The broker did not acknowledge in time. The event may or may not be in Kafka: do not release the slot. */
export class DeliveryTimeoutError extends Error {
  readonly ambiguous = true;
  constructor(ms: number) {
    super(`KafkaException: delivery not acknowledged within ${ms} ms`);
    this.name = 'DeliveryTimeoutError';
  }
}

/**
 * The message was never handed to kafkajs: it waited in the queue past the delivery timeout behind a
 * send abandoned at its own timeout, or no fresh producer could be had. It is certainly not in Kafka.
 */
export class NotSentError extends Error {
  readonly ambiguous = false;
  constructor(why: string) {
    super(`KafkaException: not sent (${why})`);
    this.name = 'NotSentError';
  }
}

type Pending = {
  message: Message;
  /** performance.now() when queued. */
  at: number;
  resolve: () => void;
  reject: (err: unknown) => void;
};

/**
 * Gathers concurrent sends for up to `lingerMs` (or `maxBatch` messages) into one producer.send with
 * acks=all, and settles each caller when the broker has acknowledged the batch. Batches go out one
 * after another (the idempotent producer keeps order with one request in flight); what arrives while
 * one is in flight joins the next.
 *
 * One after another includes a batch whose callers were already answered at the delivery timeout:
 * kafkajs keeps retrying it, and a second send meanwhile races it for the partitions' sequence
 * numbers (kafkajs takes them per broker, so after a leader moved the new leader gets a later batch's
 * numbers first: OUT_OF_ORDER_SEQUENCE_NUMBER, seen on most failed produces when a broker of three
 * was killed; docs/decisions/0016-producer-horizon-and-wait-connections.md). The next batch waits for
 * that send to end; messages that wait past the delivery timeout meanwhile fail with NotSentError, a
 * definite failure.
 *
 * After any failed send the kafkajs producer is replaced (`renew`: a new producer id, sequences from
 * 0) before the next batch. kafkajs takes a partition's sequence numbers back when a request fails,
 * even one the broker appended before the connection died or the request timed out; its count then
 * lags the broker's, and every later batch for that partition is refused OUT_OF_ORDER_SEQUENCE_NUMBER
 * (seen: the issuer answered 503 until the killed broker was back), or, with an equal count, taken
 * for a duplicate and acknowledged without being written. Nothing is retried across producers (a
 * failed batch is answered 503 and left to reconcile), so a new id costs no idempotence we rely on.
 */
/** What the batching producer asks of a kafkajs producer. */
export type KafkaSender = Pick<Producer, 'send' | 'disconnect'>;

export class BatchingProducer {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private readonly maxInFlight = 1;
  /** performance.now() when the batch in flight was sent; undefined when none is. */
  private sentAt: number | undefined;
  /** performance.now() when the oldest message of the batch in flight was queued (until its send ended). */
  private inFlightSince: number | undefined;
  private idle: Array<() => void> = [];

  /** A send failed since the producer was made: replace it before the next batch. */
  private stale = false;

  constructor(
    private producer: KafkaSender,
    private readonly cfg: BatchingConfig,
    private readonly hooks: BatchHooks = {},
    /** A new connected kafkajs producer (new producer id); without it the producer is kept. */
    private readonly renew?: () => Promise<KafkaSender>,
  ) {}

  send(message: Message): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ message, at: performance.now(), resolve, reject });
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
   * Resolves once no message queued before `t` (performance.now()) is still queued or in a send that
   * has not ended: each was acknowledged, failed, or cut. The self-heal waits for it before it reads
   * the topic, beside the horizon that bounds every issuer's sends.
   */
  async drainedBefore(t: number, pollMs = 50): Promise<void> {
    const busy = () =>
      (this.inFlightSince !== undefined && this.inFlightSince < t) ||
      (this.queue.length > 0 && (this.queue[0] as Pending).at < t);
    while (busy()) await new Promise((r) => setTimeout(r, pollMs));
  }

  /**
   * How long the batch in flight has waited for the broker (0 when none is), its callers answered or
   * not. acks=all answers in milliseconds here; a batch that has waited for seconds means the broker
   * is unreachable, and every slot taken meanwhile would end as a 503 after the delivery timeout.
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
    this.inFlightSince = (batch[0] as Pending).at;
    try {
      if (this.stale && !(await this.renewProducer(batch))) return;
      // Renewing took so long that the horizon of the oldest message has passed: never send it.
      if (performance.now() >= this.inFlightSince + this.cfg.horizonMs) {
        this.sentAt = undefined;
        this.hooks.onNotSent?.(batch.length);
        for (const p of batch) p.reject(new NotSentError('its horizon passed before a producer was had'));
        return;
      }
      await this.sendNow(batch, t0);
    } finally {
      this.inFlightSince = undefined;
    }
  }

  /** Replaces the producer; false (the batch failed as never sent) when no new one could be had. */
  private async renewProducer(batch: Pending[]): Promise<boolean> {
    if (!this.renew) return true;
    const expire = setInterval(() => this.expireQueued(), 100).unref();
    try {
      const old = this.producer;
      this.producer = await this.renew();
      this.stale = false;
      void Promise.resolve()
        .then(() => old.disconnect())
        .catch(() => undefined);
      return true;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.sentAt = undefined;
      this.hooks.onNotSent?.(batch.length);
      for (const p of batch) p.reject(new NotSentError(`no new producer: ${reason}`));
      return false;
    } finally {
      clearInterval(expire);
    }
  }

  private async sendNow(batch: Pending[], t0: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.cfg.deliveryTimeoutMs);
    });
    const send = this.producer.send({
      topic: this.cfg.topic,
      acks: -1,
      messages: batch.map((p) => p.message),
    });
    try {
      if ((await Promise.race([send.then(() => 'sent' as const), timeout])) === 'sent') {
        this.hooks.onBatch?.(batch.length, performance.now() - t0, true);
        for (const p of batch) p.resolve();
        return;
      }
      this.stale = true;
      const err = new DeliveryTimeoutError(this.cfg.deliveryTimeoutMs);
      this.hooks.onBatch?.(batch.length, performance.now() - t0, false, err);
      for (const p of batch) p.reject(err);
      // The send may still complete (its events then reach the log: the slots stay taken, so nothing
      // is over-issued). Until it ends no other batch goes out; at the horizon it is cut.
      const expire = setInterval(() => this.expireQueued(), 100).unref();
      try {
        await this.endByHorizon(send, batch);
      } finally {
        clearInterval(expire);
      }
    } catch (err) {
      this.stale = true;
      this.hooks.onBatch?.(batch.length, performance.now() - t0, false, err);
      for (const p of batch) p.reject(err);
    } finally {
      clearTimeout(timer);
      this.sentAt = undefined; // before the callers' continuations run
    }
  }

  /**
   * Waits for an abandoned send to end, or cuts it at the horizon of its oldest message: the kafkajs
   * producer is disconnected (kafkajs, as patched, then writes nothing more for it) and a new one is
   * made for the next batch. Its events stay ambiguous (an earlier attempt may have written them).
   */
  private async endByHorizon(send: Promise<unknown>, batch: Pending[]): Promise<void> {
    const left = (batch[0] as Pending).at + this.cfg.horizonMs - performance.now();
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<'cut'>((resolve) => {
      timer = setTimeout(() => resolve('cut'), Math.max(0, left));
    });
    const ended = send.then(
      () => 'ended' as const,
      () => 'ended' as const,
    );
    try {
      if ((await Promise.race([ended, cut])) === 'ended') return;
    } finally {
      clearTimeout(timer);
    }
    this.hooks.onCut?.(batch.length);
    const producer = this.producer;
    await Promise.race([
      producer.disconnect().catch(() => undefined),
      new Promise((r) => setTimeout(r, 1_000).unref()),
    ]);
    // A fresh producer now, not at the next batch: readiness follows the current producer.
    await this.renewProducer([]);
  }

  /** Fails the queued messages older than the delivery timeout (the queue is in arrival order). */
  private expireQueued(): void {
    const oldest = performance.now() - this.cfg.deliveryTimeoutMs;
    let n = 0;
    while (n < this.queue.length && (this.queue[n] as Pending).at <= oldest) n++;
    if (n === 0) return;
    this.hooks.onNotSent?.(n);
    for (const p of this.queue.splice(0, n))
      p.reject(new NotSentError(`queued past ${this.cfg.deliveryTimeoutMs} ms behind a timed-out batch`));
  }
}

/**
 * True only when the event certainly did not reach Kafka, so the slot may go back to stock: the
 * producer was disconnected, so kafkajs refused the send before writing anything. Everything else is
 * ambiguous and keeps the slot (reconcile repairs it): timeouts and lost connections may have written
 * the batch, and a broker's rejection is per partition while one send spans several, so the events of
 * the other partitions may be in the log (releasing on an OUT_OF_ORDER_SEQUENCE_NUMBER rejection freed
 * slots whose events had been written: docs/decisions/0004-release-only-on-definite-produce-failure.md).
 * A "not connected" met on a retry is ambiguous too: an earlier attempt may have written the batch.
 */
export function isDefiniteFailure(err: unknown): boolean {
  if (err instanceof DeliveryTimeoutError) return false;
  if (err instanceof NotSentError) return true;
  const x = err as { message?: unknown } | undefined;
  return typeof x?.message === 'string' && /producer is disconnected/i.test(x.message);
}
