/**
 * Exponential back-off with equal jitter, capped: the ceiling doubles per attempt from `baseMs` up to
 * `capMs`, and the wait is drawn between half the ceiling and the ceiling. Equal rather than full
 * jitter (0 to the ceiling): a retry of a write against a database that is down never comes back
 * at once, and the other half still spreads the instances that failed together. attempt starts at 1.
 */
export function backoffMs(
  attempt: number,
  capMs: number,
  baseMs = 100,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 20));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts?: number;
  baseMs?: number;
  capMs?: number;
  /** Which errors are worth another try; default: what kafkajs marks `retriable`. */
  retryable?: (err: unknown) => boolean;
}

const kafkaRetriable = (err: unknown) => (err as { retriable?: boolean } | null)?.retriable === true;

/**
 * Calls fn until it succeeds, a non-retryable error, or `attempts` tries, waiting backoffMs between
 * them (by default about 0.2, 0.4, 0.8, 1.6, 3.2 s: a leader that moved, a topic's metadata spreading).
 */
export async function retrying<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const { attempts = 6, baseMs = 200, capMs = 3_200, retryable = kafkaRetriable } = opts;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !retryable(err)) throw err;
      await new Promise((r) => setTimeout(r, backoffMs(attempt, capMs, baseMs)));
    }
  }
}
