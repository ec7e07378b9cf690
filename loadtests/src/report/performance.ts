/** Section 2 of the report: requests and errors, latency and blocked time, throughput, answers, targets. */
import type { Analysis, LatencyRow } from '../analyze.ts';
import type { Block } from '../doc.ts';
import { fmtK, fmtMs, int, versus } from '../format.ts';
import { SEED } from '../targets.ts';

export function performance(a: Analysis): Block[] {
  return [
    { h: 2, text: '2. Performance summary' },
    totals(a),
    { h: 3, text: '2.1 Response latency (http_req_duration)' },
    latencyTable(a.latency, a.meta.suite === 'seed'),
    { h: 3, text: '2.2 Blocked time (http_req_blocked)' },
    latencyTable(a.blocked, false),
    { h: 3, text: '2.3 Throughput (requests/s)' },
    ...throughput(a),
    { h: 3, text: '2.4 Answers and errors' },
    {
      table: {
        head: ['answer', 'count', 'share'],
        right: [1, 2],
        rows: a.outcomes.map((o) => [o.label, int(o.count), `${(o.share * 100).toFixed(1)} %`]),
      },
    },
    ...(a.checks ? [{ p: `Checks: ${int(a.checks.passes)} passed, ${int(a.checks.fails)} failed.` }] : []),
    ...targets(a),
  ];
}

function totals(a: Analysis): Block {
  const expected = a.outcomes
    .filter((o) => o.label.startsWith('202') || o.label.startsWith('409'))
    .reduce((x, o) => x + o.count, 0);
  const errors = a.outcomes.reduce((x, o) => x + o.count, 0) - expected;
  return {
    ul: [
      `**Total requests**: ${int(a.requests)} (seed: ${int(SEED.requests)})`,
      `**Expected answers** (202 accepted, 409 sold out or duplicate): ${int(expected)}`,
      `**Errors**: ${int(errors)} (error rate ${a.failedRate === undefined ? 'n/a' : `${(a.failedRate * 100).toFixed(3)} %`}; seed: ${SEED.errors})`,
      `**Dropped iterations** (k6 could not start a request on time): ${int(a.dropped)}`,
    ],
  };
}

function latencyTable(rows: LatencyRow[], withTarget: boolean): Block {
  const head = ['metric', 'this run', 'seed', 'vs seed'];
  if (withTarget) head.push('target', 'met');
  return {
    table: {
      head,
      right: [1, 2],
      rows: rows.map((r) => {
        const row = [
          r.label,
          fmtMs(r.value),
          r.seed === undefined ? '–' : fmtMs(r.seed),
          versus(r.value, r.seed),
        ];
        if (withTarget) {
          row.push(r.target === undefined ? '' : `≤ ${r.target} ms`);
          row.push(r.target === undefined || r.value === undefined ? '' : r.value <= r.target ? '✓' : '✗');
        }
        return row;
      }),
    },
  };
}

function throughput(a: Analysis): Block[] {
  const t = a.throughput;
  return [
    {
      table: {
        head: ['metric', 'this run', 'seed', 'vs seed'],
        right: [1, 2],
        rows: [
          ['mean', fmtK(t.mean), fmtK(SEED.throughput.mean), versus(t.mean, SEED.throughput.mean, true)],
          [
            `peak (busiest second${t.peakAt !== undefined ? `, +${t.peakAt} s` : ''})`,
            fmtK(t.peak),
            fmtK(SEED.throughput.peak),
            versus(t.peak, SEED.throughput.peak, true),
          ],
        ],
      },
    },
    {
      p: `${t.durationS ? `Mean = issue requests / ${t.durationS} s with load; peak = the busiest second of k6's request counter (remote write).` : "Mean = k6's http_reqs rate over the whole test; Prometheus recorded no k6 counter, so no peak."} The offered rate is set by the scenario, so throughput above the seed's means the scenario asked for more, not that the system is faster.`,
    },
  ];
}

function targets(a: Analysis): Block[] {
  if (a.targets.length === 0) return [];
  return [
    { h: 3, text: '2.5 Targets' },
    {
      table: {
        head: ['target', 'required', 'measured', 'met'],
        right: [2],
        rows: a.targets.map((t) => [
          t.name,
          t.target,
          t.measured,
          t.ok === undefined ? 'n/a' : t.ok ? '✓' : '✗',
        ]),
      },
    },
  ];
}
