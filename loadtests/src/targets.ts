/**
 * Every figure a run is judged against, in one place: the seed report's figures (the bar to beat),
 * the issue's targets (read by the report for the seed scenario and by the bench), and the thresholds
 * the report's findings use. The k6 suites (plain JS for k6) spell their own thresholds in k6/*.js.
 */

export type StatKey = 'min' | 'p50' | 'p80' | 'p90' | 'p95' | 'p99' | 'max' | 'mean';

/** The seed report's figures (shared/seed/load-test-report.ko.md), in ms and req/s. */
export const SEED: {
  requests: number;
  errors: number;
  duration: Record<StatKey, number>;
  blocked: Partial<Record<StatKey, number>>;
  throughput: { mean: number; peak: number };
} = {
  requests: 259_802,
  errors: 0,
  duration: { min: 0.11, p50: 0.3, p80: 0.53, p90: 1.04, p95: 2.64, p99: 57.53, max: 178.02, mean: 1.81 },
  blocked: { mean: 0.01, p80: 0.0, p90: 0.0, p95: 0.01, p99: 0.1, max: 13.05 },
  throughput: { mean: 2150, peak: 5130 },
};

/** The issue's targets: the seed scenario's latency (ms) and rows, and what the bench measures. */
export const TARGETS = {
  p95: 2.64,
  p99: 10,
  max: 100,
  rows: 25_000,
  unexpected: 0,
  dropped: 0,
  eventToRowP99Ms: 1000,
  rssMb: 200,
  /** Accepted path end to end / bare node:http, under the same wrk load. */
  ratio: 0.25,
  drainRowsPerSec: 20_000,
  /**
   * Sold-out path's CPU per request / bare node:http's, with the edge answer on (issue 17); the same
   * bound holds with auth on (AUTH_MODE=jwt).
   */
  soldOutCpuRatio: 2.5,
  /**
   * The application tier's (gateways + issuer) CPU per sold-out request on the replicated topology
   * (scripts/start --ha, through HAProxy) / one node's, in the same run (`pnpm bench --ha`; issue 17).
   */
  haAppTierRatio: 1.5,
};

/** The latency targets by k6 statistic (only the seed scenario's table shows them). */
export const LATENCY_TARGETS: Partial<Record<StatKey, number>> = {
  p95: TARGETS.p95,
  p99: TARGETS.p99,
  max: TARGETS.max,
};

/** Thresholds behind the report's findings. */
export const LIMITS = {
  /** Consumer lag above which the seed's alert fires (messages). */
  lagAlert: 500,
  /** http_req_blocked p99 at or below which connection setup is negligible (ms). */
  blockedNegligibleMs: 0.1,
  /** Machine CPU at the worst second from which CPU is the bottleneck (%). */
  cpuSaturatedPct: 90,
  /** CPU of processes outside the test from which the machine counts as shared (% of one core). */
  otherCpuPct: 25,
  /** Past this the server histograms have only their 5 s bucket left (s). */
  histogramTopS: 2.5,
  /** Share of the configured link speed above which an interface is saturated (the seed's 80 %, %). */
  linkUtilisationPct: 80,
  /** Memory available below which the host runs low (%; the HostMemoryLow alert's threshold). */
  memoryLowPct: 10,
};
