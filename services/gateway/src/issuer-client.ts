import {
  AppError,
  INTERNAL_TOKEN_HEADER,
  type IssueRequest,
  type IssueResponse,
  REQUEST_ID_HEADER,
} from '@coupon/contracts';
import CircuitBreaker from 'opossum';
import { Pool } from 'undici';

export interface IssuerClientConfig {
  url: string;
  token: string;
  connections: number;
  timeoutMs: number;
  /** Issue calls in flight at most; beyond it the gateway sheds load with 503 instead of queueing. */
  maxInFlight: number;
  errorThresholdPercentage: number;
  volumeThreshold: number;
  resetTimeoutMs: number;
}

const OVERLOADED = new AppError('UNAVAILABLE', 'overloaded', { retryable: true });
const BREAKER_OPEN = new AppError('UNAVAILABLE', 'issuing is paused', { retryable: true });

/** An answer from the issuer that is not a dependency failure (4xx): never counts against the breaker. */
class IssuerClientError extends AppError {}

/**
 * Keep-alive connection pool to the issuer with an opossum breaker around the issue call. Business
 * outcomes (sold out, duplicate) come back as values, not errors, so they never trip the breaker.
 */
export class IssuerClient {
  readonly pool: Pool;
  readonly breaker: CircuitBreaker<[IssueRequest], IssueResponse>;

  constructor(private readonly cfg: IssuerClientConfig) {
    this.pool = new Pool(cfg.url, {
      connections: cfg.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: cfg.timeoutMs,
      bodyTimeout: cfg.timeoutMs,
      connectTimeout: Math.min(cfg.timeoutMs, 1_000),
    });
    this.breaker = new CircuitBreaker(
      (req: IssueRequest) => this.post<IssueResponse>('/internal/issue', req, req.requestId),
      {
        timeout: cfg.timeoutMs,
        errorThresholdPercentage: cfg.errorThresholdPercentage,
        volumeThreshold: cfg.volumeThreshold,
        resetTimeout: cfg.resetTimeoutMs,
        rollingCountTimeout: 10_000,
        rollingCountBuckets: 10,
        rollingPercentilesEnabled: false,
        errorFilter: (err: unknown) => err instanceof IssuerClientError,
      },
    );
  }

  private inFlight = 0;

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
      return await this.breaker.fire(req);
    } finally {
      this.inFlight--;
    }
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

  private async call<T>(method: 'GET' | 'POST', path: string, body: unknown, requestId: string): Promise<T> {
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

const CLIENT_CODES = new Set(['INVALID_REQUEST', 'COUPON_NOT_FOUND', 'NOT_FOUND', 'CONFLICT']);
function isKnownCode(
  code: string | undefined,
): code is 'INVALID_REQUEST' | 'COUPON_NOT_FOUND' | 'NOT_FOUND' | 'CONFLICT' {
  return code !== undefined && CLIENT_CODES.has(code);
}
