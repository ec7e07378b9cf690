import { DbPool } from '@coupon/db';
import { afterEach, describe, expect, inject, it } from 'vitest';

// DbPool.stats() counts open and idle connections from mysql2's public events (pool 'connection',
// 'acquire', 'release'; a connection's 'end' and 'error'), not from its private queues: on the real
// driver and database, each way a connection comes and goes shows in the counts.

const pools: DbPool[] = [];
const newPool = (extra: Partial<ConstructorParameters<typeof DbPool>[0]> = {}) => {
  const pool = new DbPool({ url: inject('infra').DATABASE_URL, maximumPoolSize: 3, ...extra });
  pools.push(pool);
  return pool;
};
afterEach(async () => {
  for (const p of pools.splice(0)) await p.end();
});

const counts = (pool: DbPool) => {
  const { active, idle, total } = pool.stats();
  return { active, idle, total };
};

describe('DbPool.stats: open and idle connections', () => {
  it('happy: lent, returned and lent again: total counts each connection once, idle the returned ones', async () => {
    const pool = newPool();
    expect(counts(pool)).toEqual({ active: 0, idle: 0, total: 0 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(counts(pool)).toEqual({ active: 2, idle: 0, total: 2 });
    pool.release(a);
    expect(counts(pool)).toEqual({ active: 1, idle: 1, total: 2 });
    const again = await pool.acquire(); // the idle one, not a new one
    expect(counts(pool)).toEqual({ active: 2, idle: 0, total: 2 });
    pool.release(again);
    pool.release(b);
    expect(counts(pool)).toEqual({ active: 0, idle: 2, total: 2 });
  });

  it('error: a connection destroyed while lent leaves the count once the server has closed it', async () => {
    const pool = newPool();
    const a = await pool.acquire();
    const b = await pool.acquire();
    a.destroy();
    pool.release(a);
    await expect.poll(() => counts(pool)).toEqual({ active: 1, idle: 0, total: 1 });
    pool.release(b);
    expect(counts(pool)).toEqual({ active: 0, idle: 1, total: 1 });
  });

  it('error: an idle connection the server kills leaves the count (its end event)', async () => {
    const pool = newPool();
    const victim = await pool.acquire();
    const [[row]] = (await victim.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
    pool.release(victim);
    expect(counts(pool)).toEqual({ active: 0, idle: 1, total: 1 });
    const killer = newPool({ maximumPoolSize: 1 });
    await killer.with((c) => c.query(`KILL ${Number(row.id)}`));
    await expect.poll(() => counts(pool)).toEqual({ active: 0, idle: 0, total: 0 });
  });

  it('happy: idle connections above minimumIdle are closed after idleTimeout and leave the count', async () => {
    const pool = newPool({ minimumIdle: 0, idleTimeoutMs: 100 });
    const held = [await pool.acquire(), await pool.acquire()];
    for (const c of held) pool.release(c);
    expect(counts(pool)).toEqual({ active: 0, idle: 2, total: 2 });
    // mysql2 looks for idle connections once a second.
    await expect.poll(() => counts(pool), { timeout: 5_000 }).toEqual({ active: 0, idle: 0, total: 0 });
  });
});
