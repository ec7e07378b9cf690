import { createRegistry } from '@coupon/kit';
import { describe, expect, it } from 'vitest';
import { computeLag, type LagAdmin, LagReader } from './lag.js';
import { createPersisterMetrics } from './metrics.js';

const ends = (...highs: Array<[number, number] | number>) =>
  highs.map((h, partition) => {
    const [low, high] = Array.isArray(h) ? h : [0, h];
    return { partition, offset: String(high), high: String(high), low: String(low) };
  });
const committed = (...offsets: number[]) =>
  offsets.map((o, partition) => ({ partition, offset: String(o), metadata: null }));

/** An admin whose answers and failures the test controls; counts round trips. */
class FakeAdmin implements LagAdmin {
  calls = 0;
  connects = 0;
  fail: Error | undefined;
  hang = false;
  high = [10, 20];
  commit = [10, 5];
  async connect() {
    this.connects++;
  }
  async disconnect() {}
  async fetchOffsets() {
    this.calls++;
    if (this.hang) await new Promise(() => undefined);
    if (this.fail) throw this.fail;
    return [{ topic: 't', partitions: committed(...this.commit) }];
  }
  async fetchTopicOffsets() {
    return ends(...this.high);
  }
}

describe('computeLag', () => {
  it('happy: end offset minus committed offset per partition', () => {
    expect([...computeLag(committed(10, 5), ends(10, 20))]).toEqual([
      [0, 0],
      [1, 15],
    ]);
  });

  it('happy: a partition never committed counts from the log start; a commit below the log start too', () => {
    expect([...computeLag(committed(-1, 3), ends([4, 10], [8, 12]))]).toEqual([
      [0, 6],
      [1, 4],
    ]);
    expect([...computeLag([], ends(7))]).toEqual([[0, 7]]);
  });
});

describe('LagReader', () => {
  it('happy: scrapes within the cache window share one Kafka round trip', async () => {
    const admin = new FakeAdmin();
    const r = new LagReader(admin, { groupId: 'g', topic: 't', cacheMs: 60_000 });
    const [a, b] = await Promise.all([r.read(), r.read()]);
    await r.read();
    expect(admin.calls).toBe(1);
    expect(a?.get(1)).toBe(15);
    expect(b).toBe(a);
  });

  it('error: Kafka failing or hanging yields unknown (undefined), never a throw, and reconnects next time', async () => {
    const admin = new FakeAdmin();
    const errors: unknown[] = [];
    const r = new LagReader(admin, { groupId: 'g', topic: 't', cacheMs: 0, timeoutMs: 50 }, (e) =>
      errors.push(e),
    );
    admin.fail = new Error('broker down');
    expect(await r.read()).toBeUndefined();
    admin.fail = undefined;
    expect((await r.read())?.get(1)).toBe(15);
    expect(admin.connects).toBe(2);
    admin.hang = true;
    const t0 = Date.now();
    expect(await r.read()).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(errors).toHaveLength(2);
  });
});

describe('kafka_consumer_lag', () => {
  it('happy: kafka_consumer_lag per partition on scrape; absent (not stale) while Kafka cannot answer', async () => {
    const m = createPersisterMetrics(createRegistry('persister', { defaultMetrics: false }));
    const admin = new FakeAdmin();
    m.watchLag(admin, { groupId: 'g', topic: 't', cacheMs: 0 });
    const series = async (name: string) => (await m.registry.getSingleMetric(name)?.get())?.values ?? [];
    const lag = async () =>
      (await series('kafka_consumer_lag')).map((v) => [v.labels.topic, v.labels.partition, v.value]);
    expect(await lag()).toEqual([
      ['t', '0', 0],
      ['t', '1', 15],
    ]);
    admin.fail = new Error('down');
    expect(await lag()).toEqual([]);
    expect((await series('kafka_consumer_lag_errors_total'))[0]?.value).toBe(1);
    await m.close();
  });
});
