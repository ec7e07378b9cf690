/** Sections 3 and 4 of the report: the bottleneck analysis and the invariants. */
import type { Analysis } from '../analyze.ts';
import type { Block } from '../doc.ts';
import { int } from '../format.ts';

export function bottlenecks(a: Analysis): Block[] {
  return [
    { h: 2, text: '3. Bottleneck analysis' },
    { h: 3, text: '3.1 Findings' },
    { ol: a.findings.length > 0 ? a.findings : ['No signal to analyse.'] },
    { h: 3, text: '3.2 Signals (PromQL over the run: the services, the node and process exporters, k6)' },
    {
      table: {
        head: ['signal', 'value', 'source'],
        rows: a.signals.map((s) => [s.name, s.value, `\`${s.source}\``]),
      },
    },
  ];
}

export function invariants(a: Analysis): Block[] {
  const inv = a.invariants;
  return [
    { h: 2, text: '4. Invariants' },
    {
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
    },
    {
      p:
        inv.broken.length === 0
          ? 'All hold: no over-issue (rows ≤ quantity), no duplicate (one row per user), no loss (every admitted user is a row), every 202 admitted, no admission without a 202 beyond the answers whose outcome is unknown, and rows = min(quantity, distinct users who called) where the suite knows it.'
          : `**Broken**: ${inv.broken.join('; ')}.`,
    },
  ];
}
