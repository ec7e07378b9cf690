import type { Admin } from 'kafkajs';

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
