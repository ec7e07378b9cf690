/** Section 1 of the report: what was tested, how, on what, and the verdict. */
import type { Analysis } from '../analyze.ts';
import type { Block } from '../doc.ts';
import { int } from '../format.ts';

export function overview(a: Analysis): Block[] {
  const { meta } = a;
  const setup = a.summary?.setup_data;
  return [
    { h: 2, text: '1. Overview' },
    {
      ul: [
        `**API under test**: \`POST /coupons/{userId}/issue-async?couponId={couponId}\` through the gateway at \`${meta.baseUrl ?? 'http://127.0.0.1:3000'}\``,
        '**System**: gateway (rate limit, circuit breaker) → issuer (Redis Lua gate, Kafka producer acks=all) → Kafka (6 partitions) → persister (batched inserts into MariaDB, DLT)',
        `**Load**: k6 ${meta.k6Version ?? ''} suite \`${meta.suite}\`${meta.args?.length ? ` with \`${meta.args.join(' ')}\`` : ''}; coupon ${int(setup?.couponId)}, quantity ${int(setup?.quantity)}${setup?.users ? `, ${int(setup.users)} users` : ''}`,
        `**Machine**: ${meta.host ?? 'unknown'}${meta.loadavg ? `; load average before the run ${meta.loadavg.map((x) => x.toFixed(2)).join(' / ')}` : ''} (k6 and every dependency share it)`,
        `**Commit**: \`${meta.gitRev ?? 'unknown'}\`; started ${meta.startedAt ?? '?'}, finished ${meta.finishedAt ?? '?'}`,
        `**Result**: ${a.ok ? '**PASS**: every threshold and invariant held' : `**FAIL**: ${[...a.thresholdsFailed, ...a.invariants.broken].join('; ')}`}`,
      ],
    },
  ];
}
