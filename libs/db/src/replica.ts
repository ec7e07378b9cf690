import { setTimeout as sleep } from 'node:timers/promises';
import type { RowDataPacket } from 'mysql2/promise';
import type { DbPool } from './pool.js';

async function status(pool: DbPool, name: string): Promise<string | undefined> {
  const [rows] = await pool.with((c) => c.query<RowDataPacket[]>('SHOW GLOBAL STATUS LIKE ?', [name]));
  return rows[0]?.Value as string | undefined;
}

/**
 * How far the reads lag behind the writes, in seconds, measured without writing anything:
 * - Galera (wsrep_last_committed on both): the time the reader takes to have applied the last
 *   transaction the writer had committed when the probe started (0 when it already has), capped at
 *   `capMs`;
 * - a classic replica: its Seconds_Behind_Master (the cap when replication is stopped);
 * - the same server, or a reader that is no replica: 0.
 */
export async function replicaLagSeconds(writer: DbPool, reader: DbPool, capMs = 30_000): Promise<number> {
  const target = await status(writer, 'wsrep_last_committed');
  if (target !== undefined) {
    const want = BigInt(target);
    const t0 = Date.now();
    for (;;) {
      const seen = await status(reader, 'wsrep_last_committed');
      if (seen === undefined) break; // the reader is no Galera node
      if (BigInt(seen) >= want) return (Date.now() - t0) / 1_000;
      if (Date.now() - t0 >= capMs) return capMs / 1_000;
      await sleep(20);
    }
  }
  const [rows] = await reader.with((c) => c.query<RowDataPacket[]>('SHOW SLAVE STATUS'));
  const replica = rows[0];
  if (!replica) return 0;
  const behind = replica.Seconds_Behind_Master;
  return behind === null || behind === undefined ? capMs / 1_000 : Number(behind);
}
