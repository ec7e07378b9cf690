/**
 * Whether the issuer may take slots now. After a failed produce it refuses (503) until a produce
 * succeeds again: once `cooldownMs` has passed one batch goes through as a probe while the rest are
 * still refused, so a Kafka outage admits at most one batch per cooldown instead of every request
 * of every cooldown window (those admissions end as a 503 and wait for reconcile).
 */
export class ProduceGuard {
  private down = false;
  private retryAt = 0;
  private probing = false;

  constructor(
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** 'go' normally; 'probe' for the one batch that tests a recovered Kafka; 'refuse' otherwise. */
  enter(): 'go' | 'probe' | 'refuse' {
    if (!this.down) return 'go';
    if (this.probing || this.now() < this.retryAt) return 'refuse';
    this.probing = true;
    return 'probe';
  }

  /** A produce was acknowledged. */
  succeeded(): void {
    this.down = false;
    this.probing = false;
  }

  /** A produce failed (definitely or not): refuse for the cooldown, then probe. */
  failed(): void {
    this.down = true;
    this.probing = false;
    this.retryAt = this.now() + this.cooldownMs;
  }

  /** The probe batch produced nothing (no admission in it): let the next batch probe. */
  probeUnused(): void {
    this.probing = false;
  }
}
