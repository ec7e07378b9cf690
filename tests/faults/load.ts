/**
 * A bounded load loop through the gateway(s): a fixed rate, every request a new user, round-robin
 * across gateways. A gateway that refuses connections is skipped for a second and the request goes
 * to the next one (what a load balancer's health check does; a refused connection never reached a
 * server, so sending it elsewhere is safe). Every answer is kept for the accounting.
 */

export interface Shot {
  /** Sent at, ms since the load started. */
  t: number;
  /** Answered after (ms). */
  ms: number;
  /** HTTP status; 0 = no answer (connection error or the client's own timeout). */
  status: number;
  /** error.code of the body, or the client-side failure (ECONNREFUSED, TIMEOUT, ...). */
  code: string;
  userId: number;
  couponId: number;
  /** The gateway that answered (its URL), or the load balancer in front of them. */
  via: string;
  /**
   * Answered without the gateway's x-request-id: by what stands in front of the gateways (a load
   * balancer's own error), not by a gateway.
   */
  proxy?: true;
}

export interface LoadOptions {
  urls: string[];
  /** Requests per second. */
  rate: number;
  /** The coupon of the n-th request. */
  pick(n: number): number;
  /** Client budget per request. */
  timeoutMs?: number;
  /**
   * Requests beyond this many in flight are not sent (counted in `skipped`); default one second's
   * worth, so a stalled system is not buried under an ever-growing queue of open connections.
   */
  maxInFlight?: number;
  /** First user id; every request takes the next one. */
  firstUser?: number;
}

const TICK_MS = 10;

export class Load {
  readonly shots: Shot[] = [];
  readonly marks = new Map<string, number>();
  skipped = 0;
  private t0 = 0;
  private sent = 0;
  private inFlight = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private rr = 0;
  private readonly downUntil = new Map<string, number>();

  constructor(private readonly o: LoadOptions) {}

  /** ms since the load started. */
  now(): number {
    return Date.now() - this.t0;
  }

  mark(name: string): number {
    const t = this.now();
    this.marks.set(name, t);
    return t;
  }

  at(name: string): number {
    const t = this.marks.get(name);
    if (t === undefined) throw new Error(`no mark ${name}`);
    return t;
  }

  start(): this {
    this.t0 = Date.now();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    return this;
  }

  /** Stops sending and waits for the answers still outstanding. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.inFlight]);
  }

  /** Answers of requests sent within [from, to). */
  between(from: number, to = Number.POSITIVE_INFINITY): Shot[] {
    return this.shots.filter((s) => s.t >= from && s.t < to);
  }

  private tick(): void {
    const due = Math.floor((this.now() * this.o.rate) / 1_000) - this.sent;
    for (let i = 0; i < due; i++) {
      this.sent++;
      if (this.inFlight.size >= (this.o.maxInFlight ?? Math.max(100, this.o.rate))) {
        this.skipped++;
        continue;
      }
      const n = this.sent;
      const p = this.send((this.o.firstUser ?? 1) + n - 1, this.o.pick(n)).finally(() =>
        this.inFlight.delete(p),
      );
      this.inFlight.add(p);
    }
  }

  private nextUrl(): string {
    const { urls } = this.o;
    for (let i = 0; i < urls.length; i++) {
      const url = urls[this.rr++ % urls.length] as string;
      if ((this.downUntil.get(url) ?? 0) <= Date.now()) return url;
    }
    return urls[this.rr++ % urls.length] as string;
  }

  /** One more request for a user already asked for (a client retrying), recorded like the others. */
  retry(userId: number, couponId: number): Promise<Shot> {
    return this.send(userId, couponId);
  }

  private async send(userId: number, couponId: number): Promise<Shot> {
    const t = this.now();
    let shot: Shot = { t, ms: 0, status: 0, code: 'ECONNREFUSED', userId, couponId, via: '' };
    for (let attempt = 0; attempt < this.o.urls.length && shot.code === 'ECONNREFUSED'; attempt++) {
      const url = this.nextUrl();
      shot = await this.once(url, t, userId, couponId);
      if (shot.code === 'ECONNREFUSED') this.downUntil.set(url, Date.now() + 1_000);
    }
    this.shots.push(shot);
    return shot;
  }

  private async once(url: string, t: number, userId: number, couponId: number): Promise<Shot> {
    const shot: Shot = { t, ms: 0, status: 0, code: '', userId, couponId, via: url };
    try {
      const res = await fetch(`${url}/coupons/${userId}/issue-async?couponId=${couponId}`, {
        method: 'POST',
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 5_000),
      });
      shot.status = res.status;
      if (!res.headers.has('x-request-id')) shot.proxy = true;
      const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
      shot.code = body.error?.code ?? '';
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      shot.code = e.name === 'TimeoutError' ? 'TIMEOUT' : (e.cause?.code ?? e.name);
    }
    shot.ms = this.now() - t;
    return shot;
  }
}

/** Counts by outcome: '202', '409 SOLD_OUT', '503 UNAVAILABLE', '0 ECONNRESET', ... */
export function tallyShots(shots: readonly Shot[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const s of shots) {
    const k = s.status === 202 ? '202' : `${s.status} ${s.code}`.trim();
    t[k] = (t[k] ?? 0) + 1;
  }
  return t;
}

/** Not a business answer: the edge or something behind it failed (5xx or no answer). */
export function unhealthy(s: Shot): boolean {
  return s.status === 0 || s.status >= 500;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}
