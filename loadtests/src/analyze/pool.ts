/** The DB connection pools of the persister and the issuer (HikariCP's signals in the seed report). */
import { int, NOT, secs } from '../format.ts';
import { type Prom, peak } from '../promql.ts';
import type { Read, Signal } from './types.ts';

export function pool(m: Prom): Read {
  const signals: Signal[] = [];
  const findings: string[] = [];
  for (const svc of ['persister', 'issuer']) {
    const name = `${svc}: DB pool active / max (peak)`;
    if (!m.has(`${svc}PoolActive`)) {
      signals.push({ name, value: NOT, source: 'db_pool_connections_active' });
      continue;
    }
    const active = peak(m.points(`${svc}PoolActive`))?.v;
    const max = peak(m.points(`${svc}PoolMax`))?.v;
    const pending = peak(m.points(`${svc}PoolPending`))?.v;
    const timeouts = m.value(`${svc}PoolTimeouts`);
    const acq = m.value(`${svc}PoolAcquireP99`);
    signals.push(
      {
        name,
        value: `${int(active)} / ${int(max)}${pending !== undefined ? `, ${int(pending)} waiting at peak` : ''}`,
        source: 'db_pool_connections_active, _max, _pending',
      },
      {
        name: `${svc}: pool acquire timeouts`,
        value: timeouts === undefined ? NOT : int(timeouts),
        source: 'db_pool_acquire_timeouts_total',
      },
      {
        name: `${svc}: pool acquire p99`,
        value: acq === undefined ? NOT : secs(acq),
        source: 'db_pool_acquire_seconds',
      },
    );
    if (svc === 'persister' && active !== undefined && max !== undefined)
      findings.push(poolFinding(active, max, pending, timeouts));
  }
  return { signals, findings };
}

function poolFinding(active: number, max: number, pending?: number, timeouts?: number): string {
  if (active >= max || (timeouts ?? 0) > 0)
    return (
      `**DB connection pool saturated (the seed's main cause).** The persister's pool reached ${int(active)} of ${int(max)} connections` +
      `${pending ? ` with ${int(pending)} callers waiting` : ''}${timeouts ? ` and ${int(timeouts)} acquisitions timed out` : ''}. ` +
      'Inserts queue behind the pool; raise DB_POOL_SIZE or lower PARTITIONS_CONCURRENCY so that concurrent batches never outnumber connections.'
    );
  return (
    `**DB pool not a bottleneck.** The persister used at most ${int(active)} of ${int(max)} connections, ` +
    `${pending ? `${int(pending)} caller(s) waiting at the worst scrape (a connection being opened)` : 'with no waiter'} and no acquisition timeout ` +
    "(the seed's pool of 3 was exhausted; batching writes thousands of rows per connection round trip)."
  );
}
