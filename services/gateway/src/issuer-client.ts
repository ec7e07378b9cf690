import {
  AppError,
  INTERNAL_TOKEN_HEADER,
  ISSUE_BATCH_MAX,
  type IssueBatchItem,
  type IssueBatchResponse,
  type IssueRequest,
  type IssueResponse,
  REQUEST_ID_HEADER,
} from '@coupon/contracts';
import type { Logger } from '@coupon/kit';
import CircuitBreaker from 'opossum';
import { Pool } from 'undici';

/** opossum's codes for a call it refused without making it. */
const BREAKER_REJECTIONS = new Set(['EOPENBREAKER', 'ESEMLOCKED']);

export interface IssuerClientConfig {
  url: string;
  token: string;
  connections: number;
  timeoutMs: number;
  /** Issue calls in flight at most; beyond it the gateway sheds load with 503 instead of queueing. */
  maxInFlight: number;
  /** Issue requests sent to the issuer in one call at most (those gathered within lingerMs go together). */
  maxBatch: number;
  /**
   * ISSUER_LINGER_MS: gather requests this long into one call; 0 or absent: those of one event-loop
   * turn (docs/decisions/0014-issuer-linger.md).
   */
  lingerMs?: number;
  errorThresholdPercentage: number;
  volumeThreshold: number;
  resetTimeoutMs: number;
  /** Gets one line per batch that failed as a whole (its request ids, so a 503's id can be searched). */
  log?: Pick<Logger, 'warn'>;
}

const OVERLOADED = new AppError('UNAVAILABLE', 'overloaded', { retryable: true });
const BREAKER_OPEN = new AppError('UNAVAILABLE', 'issuing is paused', { retryable: true });
const ITEM_UNAVAILABLE = new AppError('UNAVAILABLE', 'issuing is unavailable', { retryable: true });

/**
 * Most of a batch came back undecided (the issuer's Redis or Kafka is down): the call counts against
 * the breaker, but the items that were decided still get their outcome (an admitted user gets 202).
 */
class DegradedBatch extends Error {
  constructor(readonly results: IssueBatchItem[]) {
    super('issuer could not decide most of the batch');
  }
}

type Waiter = { req: IssueRequest; resolve: (r: IssueResponse) => void; reject: (e: unknown) => void };

/** An answer from the issuer that is not a dependency failure (4xx): never counts against the breaker. */
class IssuerClientError extends AppError {}

/** What the issue route asks of the client: the call, whether its breaker is open, the Retry-After it names. */
export type IssueCalls = Pick<IssuerClient, 'issue' | 'retryAfterSec'> & {
  readonly breaker: Pick<IssuerClient['breaker'], 'opened'>;
};

/** The plain internal calls of the admin and status routes. */
export type InternalCalls = Pick<IssuerClient, 'get' | 'post' | 'call'>;

/**
 * Keep-alive connection pool to the issuer with an opossum breaker around the issue call. The issue
 * requests gathered within lingerMs travel in one batch call (the hop's HTTP cost is paid per batch).
 * Business outcomes (sold out, duplicate) come back as values, not errors, so they never trip the breaker.
 */
export class IssuerClient {
  readonly pool: Pool;
  readonly breaker: CircuitBreaker<[IssueRequest[]], IssueBatchItem[]>;
  private readonly maxBatch: number;

  constructor(private readonly cfg: IssuerClientConfig) {
    this.maxBatch = Math.min(cfg.maxBatch, ISSUE_BATCH_MAX);
    this.pool = new Pool(cfg.url, {
      connections: cfg.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: cfg.timeoutMs,
      bodyTimeout: cfg.timeoutMs,
      connectTimeout: Math.min(cfg.timeoutMs, 1_000),
    });
    this.breaker = new CircuitBreaker((reqs: IssueRequest[]) => this.postBatch(reqs), {
      timeout: cfg.timeoutMs,
      errorThresholdPercentage: cfg.errorThresholdPercentage,
      volumeThreshold: cfg.volumeThreshold,
      resetTimeout: cfg.resetTimeoutMs,
      rollingCountTimeout: 10_000,
      rollingCountBuckets: 10,
      rollingPercentilesEnabled: false,
      errorFilter: (err: unknown) => err instanceof IssuerClientError,
    });
  }

  private inFlight = 0;
  private queue: Waiter[] = [];
  private flushScheduled = false;

  /**
   * Overload is answered at once: past `maxInFlight` calls the request fails fast (503) instead of
   * waiting in an unbounded queue, and the shed request does not count against the breaker.
   */
  async issue(req: IssueRequest): Promise<IssueResponse> {
    if (this.inFlight >= this.cfg.maxInFlight) throw OVERLOADED;
    // An open breaker would reject with a fresh Error and stack per call: answer from a constant.
    if (this.breaker.opened) throw BREAKER_OPEN;
    this.inFlight++;
    try {
      return await new Promise<IssueResponse>((resolve, reject) => {
        this.queue.push({ req, resolve, reject });
        if (this.queue.length >= this.maxBatch) this.flush();
        else if (!this.flushScheduled) {
          this.flushScheduled = true;
          if (this.cfg.lingerMs) setTimeout(this.flush, this.cfg.lingerMs);
          else setImmediate(this.flush);
        }
      });
    } finally {
      this.inFlight--;
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    while (this.queue.length > 0) void this.sendBatch(this.queue.splice(0, this.maxBatch));
  };

  private async sendBatch(batch: Waiter[]): Promise<void> {
    let results: IssueBatchItem[];
    try {
      results = await this.breaker.fire(batch.map((w) => w.req));
    } catch (err) {
      if (!(err instanceof DegradedBatch)) {
        const e = err instanceof AppError ? err : ITEM_UNAVAILABLE;
        // Not for the breaker's own fast rejections (open, over its limit): that is the hot path.
        if (!BREAKER_REJECTIONS.has((err as { code?: string }).code ?? ''))
          this.cfg.log?.warn(
            { n: batch.length, requestIds: batch.map((w) => w.req.requestId), err: e.message },
            'issuer batch failed',
          );
        for (const w of batch) w.reject(e);
        return;
      }
      results = err.results;
    }
    for (let i = 0; i < batch.length; i++) {
      const r = results[i];
      if (r === undefined || 'error' in r) batch[i]?.reject(ITEM_UNAVAILABLE);
      else batch[i]?.resolve(r);
    }
  }

  private async postBatch(reqs: IssueRequest[]): Promise<IssueBatchItem[]> {
    const res = await this.post<IssueBatchResponse>(
      '/internal/issue-batch',
      { requests: reqs },
      reqs[0]?.requestId ?? 'batch',
    );
    if (!Array.isArray(res?.results) || res.results.length !== reqs.length)
      throw new AppError('UNAVAILABLE', 'issuer answered a malformed batch');
    let undecided = 0;
    // A coupon whose gate is being rebuilt is that coupon's trouble, not the issuer's.
    for (const r of res.results) if ('error' in r && r.error.scope !== 'coupon') undecided++;
    if (undecided * 2 > res.results.length) throw new DegradedBatch(res.results);
    return res.results;
  }

  get retryAfterSec(): number {
    return Math.max(1, Math.ceil(this.cfg.resetTimeoutMs / 1_000));
  }

  async get<T>(path: string, requestId: string): Promise<T> {
    return this.call<T>('GET', path, undefined, requestId);
  }

  async post<T>(path: string, body: unknown, requestId: string): Promise<T> {
    return this.call<T>('POST', path, body, requestId);
  }

  /** One call of the issuer's internal API; a dependency failure or a refused token is UNAVAILABLE. */
  async call<T>(
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    body: unknown,
    requestId: string,
  ): Promise<T> {
    let res: Awaited<ReturnType<Pool['request']>>;
    try {
      res = await this.pool.request({
        method,
        path,
        headers: {
          'content-type': 'application/json',
          [INTERNAL_TOKEN_HEADER]: this.cfg.token,
          [REQUEST_ID_HEADER]: requestId,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new AppError('UNAVAILABLE', 'issuer unreachable', { retryable: true, cause: err });
    }
    const payload = (await res.body.json().catch(() => undefined)) as T & {
      error?: { code?: string; message?: string };
    };
    if (res.statusCode < 300) return payload;
    const code = payload?.error?.code;
    const message = payload?.error?.message ?? `issuer answered ${res.statusCode}`;
    if (res.statusCode === 401 || res.statusCode === 403)
      throw new AppError('UNAVAILABLE', 'issuer rejected the internal token');
    if (res.statusCode >= 500) throw new AppError('UNAVAILABLE', message, { retryable: true });
    throw new IssuerClientError(isKnownCode(code) ? code : 'INVALID_REQUEST', message);
  }

  async close(): Promise<void> {
    this.breaker.shutdown();
    await this.pool.close();
  }
}

const CLIENT_CODES = new Set(['INVALID_REQUEST', 'COUPON_NOT_FOUND', 'NOT_FOUND']);
function isKnownCode(code: string | undefined): code is 'INVALID_REQUEST' | 'COUPON_NOT_FOUND' | 'NOT_FOUND' {
  return code !== undefined && CLIENT_CODES.has(code);
}
