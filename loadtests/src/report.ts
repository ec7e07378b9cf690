/**
 * Writes report.md, report.html and report.json into a results folder, in the seed report's format:
 * overview, latency and blocked tables with the seed's figures beside ours, throughput, answers and
 * errors, bottlenecks from the scraped service metrics, invariants, charts.
 *
 *   node src/report.ts <results dir> [--check]     (--check: exit 1 when a threshold or an invariant failed)
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Analysis, analyze, type LatencyRow, SEED } from './analyze.ts';
import { type Chart, charts } from './charts.ts';
import { type Block, toHtml, toMarkdown } from './doc.ts';

const fmtMs = (v: number | undefined) =>
  v === undefined ? 'n/a' : `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
const fmtK = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v / 1000).toFixed(2)} k/s`);
const int = (v: number | undefined) => (v === undefined ? 'n/a' : Math.round(v).toLocaleString('en-US'));

/** "−82 %" when lower than the seed (better for latency), "+40 %" or "×3.1" when higher. */
export function versus(value: number | undefined, seed: number | undefined, higherIsBetter = false): string {
  if (value === undefined || seed === undefined) return '–';
  if (seed === 0) return value === 0 ? 'same' : higherIsBetter ? 'better' : 'worse';
  const r = value / seed;
  const better = higherIsBetter ? r > 1 : r < 1;
  const text = r >= 2 ? `×${r.toFixed(1)}` : `${r >= 1 ? '+' : '−'}${Math.abs((r - 1) * 100).toFixed(0)} %`;
  if (Math.abs(r - 1) < 0.005) return 'same';
  return `${text} (${better ? 'better' : 'worse'})`;
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

export function buildDoc(a: Analysis, figures: Chart[]): { title: string; blocks: Block[] } {
  const { meta } = a;
  const title = `Load test report: ${meta.suite} (${meta.startedAt ?? 'unknown date'})`;
  const blocks: Block[] = [{ h: 1, text: title }];
  const isSeed = meta.suite === 'seed';

  blocks.push({ h: 2, text: '1. Overview' });
  blocks.push({
    ul: [
      `**API under test**: \`POST /coupons/{userId}/issue-async?couponId={couponId}\` through the gateway at \`${meta.baseUrl ?? 'http://127.0.0.1:3000'}\``,
      '**System**: gateway (rate limit, circuit breaker) → issuer (Redis Lua gate, Kafka producer acks=all) → Kafka (6 partitions) → persister (batched inserts into MariaDB, DLT)',
      `**Load**: k6 ${meta.k6Version ?? ''} suite \`${meta.suite}\`${meta.args?.length ? ` with \`${meta.args.join(' ')}\`` : ''}; coupon ${int(a.summary?.setup_data?.couponId)}, quantity ${int(a.summary?.setup_data?.quantity)}${a.summary?.setup_data?.users ? `, ${int(a.summary.setup_data.users)} users` : ''}`,
      `**Machine**: ${meta.host ?? 'unknown'}${meta.loadavg ? `; load average before the run ${meta.loadavg.map((x) => x.toFixed(2)).join(' / ')}` : ''} (k6 and every dependency share it)`,
      `**Commit**: \`${meta.gitRev ?? 'unknown'}\`; started ${meta.startedAt ?? '?'}, finished ${meta.finishedAt ?? '?'}`,
      `**Result**: ${a.ok ? '**PASS**: every threshold and invariant held' : `**FAIL**: ${[...a.thresholdsFailed, ...a.invariants.broken].join('; ')}`}`,
    ],
  });

  blocks.push({ h: 2, text: '2. Performance summary' });
  const expected = a.outcomes
    .filter((o) => o.label.startsWith('202') || o.label.startsWith('409'))
    .reduce((x, o) => x + o.count, 0);
  const errors = a.outcomes.reduce((x, o) => x + o.count, 0) - expected;
  blocks.push({
    ul: [
      `**Total requests**: ${int(a.requests)} (seed: ${int(SEED.requests)})`,
      `**Expected answers** (202 accepted, 409 sold out or duplicate): ${int(expected)}`,
      `**Errors**: ${int(errors)} (error rate ${a.failedRate === undefined ? 'n/a' : `${(a.failedRate * 100).toFixed(3)} %`}; seed: 0)`,
      `**Dropped iterations** (k6 could not start a request on time): ${int(a.dropped)}`,
    ],
  });
  blocks.push({ h: 3, text: '2.1 Response latency (http_req_duration)' });
  blocks.push(latencyTable(a.latency, isSeed));
  blocks.push({ h: 3, text: '2.2 Blocked time (http_req_blocked)' });
  blocks.push(latencyTable(a.blocked, false));
  blocks.push({ h: 3, text: '2.3 Throughput (requests/s)' });
  blocks.push({
    table: {
      head: ['metric', 'this run', 'seed', 'vs seed'],
      right: [1, 2],
      rows: [
        [
          'mean',
          fmtK(a.throughput.mean),
          fmtK(SEED.throughput.mean),
          versus(a.throughput.mean, SEED.throughput.mean, true),
        ],
        [
          `peak (busiest second${a.throughput.peakAt !== undefined ? `, +${a.throughput.peakAt} s` : ''})`,
          fmtK(a.throughput.peak),
          fmtK(SEED.throughput.peak),
          versus(a.throughput.peak, SEED.throughput.peak, true),
        ],
      ],
    },
  });
  blocks.push({
    p: `${a.throughput.durationS ? `Mean = issue requests / ${a.throughput.durationS} s with load; peak = the busiest whole second in k6's per-sample output.` : "Mean = k6's http_reqs rate over the whole test; no per-sample output (NO_CSV), so no peak."} The offered rate is set by the scenario, so throughput above the seed's means the scenario asked for more, not that the system is faster.`,
  });
  blocks.push({ h: 3, text: '2.4 Answers and errors' });
  blocks.push({
    table: {
      head: ['answer', 'count', 'share'],
      right: [1, 2],
      rows: a.outcomes.map((o) => [o.label, int(o.count), `${(o.share * 100).toFixed(1)} %`]),
    },
  });
  if (a.checks) blocks.push({ p: `Checks: ${int(a.checks.passes)} passed, ${int(a.checks.fails)} failed.` });
  if (a.targets.length > 0) {
    blocks.push({ h: 3, text: '2.5 Targets' });
    blocks.push({
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
    });
  }

  blocks.push({ h: 2, text: '3. Bottleneck analysis' });
  blocks.push({ h: 3, text: '3.1 Findings' });
  blocks.push({ ol: a.findings.length > 0 ? a.findings : ['No signal to analyse.'] });
  blocks.push({ h: 3, text: '3.2 Signals (from the services’ /metrics, scraped every second, and /proc)' });
  blocks.push({
    table: {
      head: ['signal', 'value', 'source'],
      rows: a.signals.map((s) => [s.name, s.value, `\`${s.source}\``]),
    },
  });

  blocks.push({ h: 2, text: '4. Invariants' });
  const inv = a.invariants;
  blocks.push({
    table: {
      head: [
        'quantity',
        'admitted (Redis)',
        'rows (MySQL)',
        'DLT',
        '202 answers (k6)',
        'outcome unknown (503, timeouts)',
        'rows caught up after',
      ],
      right: [0, 1, 2, 3, 4, 5, 6],
      rows: [
        [
          int(inv.quantity),
          int(inv.admitted),
          int(a.rows?.rows ?? inv.persisted),
          int(inv.dlt),
          int(inv.accepted),
          int(inv.ambiguous),
          inv.drainSeconds === undefined ? 'n/a' : `${inv.drainSeconds.toFixed(1)} s`,
        ],
      ],
    },
  });
  blocks.push({
    p:
      inv.broken.length === 0
        ? 'All hold: no over-issue (rows ≤ quantity), no duplicate (one row per user), no loss (every admitted user is a row), every 202 admitted, no admission without a 202 beyond the answers whose outcome is unknown, and rows = min(quantity, distinct users who called) where the suite knows it.'
        : `**Broken**: ${inv.broken.join('; ')}.`,
  });

  if (figures.length > 0) {
    blocks.push({ h: 2, text: '5. Charts' });
    for (const f of figures) blocks.push({ figure: { title: f.title, svg: f.svg } });
  }
  return { title, blocks };
}

/** Writes the three files; returns the analysis. */
export async function writeReport(dir: string): Promise<Analysis> {
  const a = await analyze(dir);
  const figures = await charts(a);
  const { title, blocks } = buildDoc(a, figures);
  await writeFile(join(dir, 'report.md'), toMarkdown(blocks));
  await writeFile(join(dir, 'report.html'), toHtml(title, blocks));
  const { scraped: _s, seconds: _x, summary: _y, ...figuresOnly } = a;
  await writeFile(join(dir, 'report.json'), `${JSON.stringify(figuresOnly, null, 2)}\n`);
  return a;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const dir = args.find((x) => !x.startsWith('--'));
  if (!dir) {
    console.error('usage: node src/report.ts <results dir> [--check]');
    process.exit(2);
  }
  const a = await writeReport(resolve(dir));
  console.log(`report: ${join(resolve(dir), 'report.md')} and report.html`);
  if (!a.ok) {
    for (const t of a.thresholdsFailed) console.error(`threshold failed: ${t}`);
    for (const b of a.invariants.broken) console.error(`invariant broken: ${b}`);
    if (args.includes('--check')) process.exit(1);
  }
}
