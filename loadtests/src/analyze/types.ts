/** What one results folder is turned into: the figures, the bottleneck signals and the findings. */
import type { Summary } from '../k6data.ts';
import type { Prom } from '../promql.ts';
import type { RowStats } from '../rows.ts';
import type { StatKey } from '../targets.ts';

/** meta.json, written by loadtests/run. */
export interface Meta {
  suite: string;
  startedAt?: string;
  finishedAt?: string;
  k6Exit?: number;
  gitRev?: string;
  k6Version?: string;
  baseUrl?: string;
  args?: string[];
  host?: string;
  loadavg?: number[];
}

/** First and last millisecond of the seconds that carried load. */
export type Window = [number, number];

export interface LatencyRow {
  key: StatKey;
  label: string;
  value?: number;
  seed?: number;
  target?: number;
}

export interface Signal {
  /** What is measured (the seed report's vocabulary where it has one). */
  name: string;
  /** The measured value as text, or "not exported". */
  value: string;
  /** Where it comes from. */
  source: string;
}

/** Signals and findings of one family. */
export interface Read {
  signals: Signal[];
  findings: string[];
}

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  ok: boolean | undefined;
}

export interface ProcUsage {
  name: string;
  cpuMean?: number;
  cpuPeak?: number;
  rssPeakMb?: number;
}

/** busy: % of all cores; otherMean: % of one core used by processes outside the test. */
export interface Machine {
  cores: number;
  busyMean?: number;
  busyPeak?: number;
  otherMean?: number;
}

export interface Invariants {
  quantity?: number;
  admitted?: number;
  persisted?: number;
  dlt?: number;
  /** 202 answers k6 received. */
  accepted: number;
  /** 503 and unexpected answers (timeouts included): the request may or may not have been admitted. */
  ambiguous: number;
  drainSeconds?: number;
  broken: string[];
}

export interface Throughput {
  mean?: number;
  peak?: number;
  peakAt?: number;
  durationS?: number;
}

export interface Answers {
  outcomes: { label: string; count: number; share: number }[];
  failedRate?: number;
  dropped: number;
  checks?: { passes: number; fails: number };
}

export interface Analysis extends Answers {
  meta: Meta;
  dir: string;
  summary?: Summary;
  prom: Prom;
  rows?: RowStats;
  window?: Window;
  requests?: number;
  latency: LatencyRow[];
  blocked: LatencyRow[];
  throughput: Throughput;
  invariants: Invariants;
  thresholdsFailed: string[];
  procs: ProcUsage[];
  machine: Machine;
  signals: Signal[];
  findings: string[];
  targets: TargetCheck[];
  ok: boolean;
}
