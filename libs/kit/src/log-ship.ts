import { Counter, Gauge, type Registry } from 'prom-client';

/** Where and how a service ships its log lines (LOG_SHIP_URL and friends in commonEnv). */
export interface LogShipConfig {
  /** The log store's base URL (VictoriaLogs: http://127.0.0.1:9428); lines go to its JSON-lines API. */
  url: string;
  /** Lines held while the store is slow or down; past it new lines are dropped and counted. */
  maxBuffered?: number;
  /** Send what is buffered this often. */
  flushMs?: number;
  /** Most lines per request. */
  maxBatch?: number;
  /** A request that takes longer is abandoned (its lines go back to the buffer if there is room). */
  timeoutMs?: number;
}

export interface LogShipStats {
  shipped: number;
  dropped: number;
  failedRequests: number;
  buffered: number;
}

const DEFAULTS = { maxBuffered: 10_000, flushMs: 250, maxBatch: 2_000, timeoutMs: 2_000 } as const;

/**
 * A pino destination that ships JSON lines to VictoriaLogs' `/insert/jsonline` off the hot path: a
 * write only appends the line to a bounded buffer; a timer sends it in batches with fetch. While the
 * store is down the buffer keeps the newest lines that fit and counts the rest as dropped, so logging
 * never blocks, grows memory without bound or throws.
 */
export class LogShipper {
  private readonly cfg: Required<LogShipConfig>;
  private readonly endpoint: string;
  private buffer: string[] = [];
  private sending: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private readonly counts = { shipped: 0, dropped: 0, failedRequests: 0 };

  constructor(cfg: LogShipConfig) {
    this.cfg = { ...DEFAULTS, ...cfg };
    const u = new URL('/insert/jsonline', this.cfg.url);
    // pino's field names: the message is `msg`, the time `time`; one stream per service.
    u.searchParams.set('_msg_field', 'msg');
    u.searchParams.set('_time_field', 'time');
    u.searchParams.set('_stream_fields', 'service');
    this.endpoint = u.toString();
    this.timer = setInterval(() => void this.flush(), this.cfg.flushMs);
    this.timer.unref();
  }

  /** pino calls this with one serialised line (newline included). */
  write(line: string): boolean {
    if (this.closed || this.buffer.length >= this.cfg.maxBuffered) this.counts.dropped++;
    else this.buffer.push(line);
    return true;
  }

  stats(): LogShipStats {
    return { ...this.counts, buffered: this.buffer.length };
  }

  /** Sends what is buffered now (one request at a time; a call during a send waits for it). */
  flush(): Promise<void> {
    if (this.sending) return this.sending;
    if (this.buffer.length === 0) return Promise.resolve();
    this.sending = this.sendAll().finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  /** Stops the timer and sends what is left (bounded by one request's timeout per batch). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
  }

  private async sendAll(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.cfg.maxBatch);
      try {
        const res = await fetch(this.endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/stream+json' },
          body: batch.join(''),
          signal: AbortSignal.timeout(this.cfg.timeoutMs),
        });
        await res.body?.cancel();
        if (!res.ok) throw new Error(`log store answered ${res.status}`);
        this.counts.shipped += batch.length;
      } catch {
        this.counts.failedRequests++;
        // Back in front while there is room; what does not fit is dropped. Retry at the next tick.
        const room = Math.max(0, this.cfg.maxBuffered - this.buffer.length);
        const kept = batch.slice(batch.length - Math.min(room, batch.length));
        this.counts.dropped += batch.length - kept.length;
        this.buffer = kept.concat(this.buffer);
        return;
      }
    }
  }
}

/**
 * `log_ship_lines_total{outcome="shipped|dropped"}`, `log_ship_failed_requests_total` and
 * `log_ship_buffered_lines` in a service's registry, read from the shipper on scrape.
 */
export function watchLogShipping(registry: Registry, shipper: LogShipper | undefined): void {
  if (!shipper) return;
  new Counter({
    name: 'log_ship_lines_total',
    help: 'Log lines sent to the log store (shipped) or lost because its buffer was full (dropped)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const s = shipper.stats();
      this.reset();
      this.inc({ outcome: 'shipped' }, s.shipped);
      this.inc({ outcome: 'dropped' }, s.dropped);
    },
  });
  new Counter({
    name: 'log_ship_failed_requests_total',
    help: 'Requests to the log store that failed or timed out (their lines stay buffered while there is room)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(shipper.stats().failedRequests);
    },
  });
  new Gauge({
    name: 'log_ship_buffered_lines',
    help: 'Log lines waiting to be sent to the log store',
    registers: [registry],
    collect() {
      this.set(shipper.stats().buffered);
    },
  });
}
