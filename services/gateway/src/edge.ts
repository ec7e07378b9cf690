/**
 * Sold-out at the edge: once the issuer answered SOLD_OUT for a coupon, the gateway answers it itself
 * for `ttlMs` (EDGE_SOLD_OUT_TTL_MS, or the run-time setting), so most of a flash crowd never crosses
 * the internal hop. An announcement on GATE_CHANGED_CHANNEL (a slot released, the coupon resumed,
 * its window moved, its gate rebuilt) drops the coupon's entry at once.
 *
 * Only while the subscription is live (`setLive`): a gateway that cannot hear announcements keeps
 * nothing and asks the issuer every time. An answer that left for the issuer before an announcement
 * arrived is not kept (`mark`), so a release is never hidden behind a stale SOLD_OUT.
 * docs/outcomes.md says what a client may then hear.
 */
export class EdgeSoldOut {
  /** couponId → until when (ms since the epoch) the edge answers SOLD_OUT. */
  private readonly until = new Map<number, number>();
  private epoch = 0;
  private live = false;
  /** Answers given at the edge (read on scrape). */
  answered = 0;

  constructor(private ttlMs: number) {}

  /** true: answer SOLD_OUT without asking the issuer. */
  soldOut(couponId: number): boolean {
    const until = this.until.get(couponId);
    if (until === undefined) return false;
    if (Date.now() < until) {
      this.answered++;
      return true;
    }
    this.until.delete(couponId);
    return false;
  }

  /** Taken before asking the issuer; given back with its SOLD_OUT answer. */
  get mark(): number {
    return this.epoch;
  }

  /** The issuer answered SOLD_OUT to a request sent at `mark`. */
  heard(couponId: number, mark: number): void {
    if (!this.live || this.ttlMs === 0 || mark !== this.epoch) return;
    if (this.until.size >= 10_000) this.until.clear();
    this.until.set(couponId, Date.now() + this.ttlMs);
  }

  /** A gate-changed announcement. */
  changed(couponId: number): void {
    this.epoch++;
    this.until.delete(couponId);
  }

  /** Whether announcements are heard now; while not, nothing is kept. */
  setLive(live: boolean): void {
    this.live = live;
    if (!live) this.forget();
  }

  setTtl(ms: number): void {
    this.ttlMs = ms;
    this.forget();
  }

  private forget(): void {
    this.epoch++;
    this.until.clear();
  }
}
