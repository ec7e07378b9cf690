import type { FaultProxy } from '../integration/proxy.js';
import { sleep } from '../support/index.js';
import type { PrivateKafka } from './private-kafka.js';
import type { ServiceProcess } from './processes.js';
import type { FaultSpec, FaultSystem } from './run.js';
import type { Basic, Timing } from './scenarios.js';

/** Faults on the wires: latency and cut connections between services, and a Kafka broker going away. */

interface Wired extends FaultSystem {
  issuer: ServiceProcess;
  persister: ServiceProcess;
  /** gateway → issuer, issuer → Redis, persister → MariaDB. */
  wires: FaultProxy[];
}

/**
 * Every link through a proxy that adds latency and drops all its connections every 2 s: requests
 * cut mid-flight (the gateway answers 503, maybe after the issuer admitted), a Lua call cut before
 * its reply, an INSERT cut before its commit reached the client.
 */
export const flakyNetwork = (tm: Timing): FaultSpec<Wired> => ({
  name: `delayed + cut links ${tm.outageMs / 1_000} s`,
  ...tm,
  build: async (t) => {
    const redis = new URL(t.deps.REDIS_URL);
    const toRedis = await t.proxy(Number(redis.port || 6379));
    const toDb = await t.proxy(t.databasePort());
    redis.port = String(toRedis.port); // same database number, through the proxy
    const issuer = await t.issuer('issuer', { REDIS_URL: redis.toString() });
    const persister = await t.persister('persister', { DATABASE_URL: t.databaseVia(toDb.port) });
    const toIssuer = await t.proxy(issuer.port);
    const gateway = await t.gateway('gateway', toIssuer.url);
    return { gateways: [gateway], issuer, persister, wires: [toIssuer, toRedis, toDb] };
  },
  inject: async (s) => {
    const [toIssuer, toRedis, toDb] = s.wires as [FaultProxy, FaultProxy, FaultProxy];
    toIssuer.delay(100);
    toRedis.delay(20);
    toDb.delay(50);
    const end = Date.now() + tm.outageMs;
    while (Date.now() < end) {
      await sleep(Math.min(2_000, end - Date.now()));
      for (const w of s.wires) w.cut();
    }
    for (const w of s.wires) w.delay(0);
  },
});

/** Start the topology on a private broker (its proxy is the only address clients know). */
function onKafka(kafka: PrivateKafka) {
  return { KAFKA_BROKERS: kafka.brokers };
}

async function basicOn(t: Parameters<FaultSpec<Basic>['build']>[0]): Promise<Basic> {
  const issuer = await t.issuer();
  const persister = await t.persister('persister-1');
  const gateway = await t.gateway('gateway', issuer.url);
  return { gateways: [gateway], issuer, persisters: [persister] };
}

/** The broker unreachable (connections dropped and refused) for the outage, then back. */
export const kafkaOutage = (tm: Timing, kafka: PrivateKafka): FaultSpec<Basic> => ({
  name: `Kafka unreachable ${tm.outageMs / 1_000} s (proxy)`,
  ...tm,
  deps: onKafka(kafka),
  build: basicOn,
  inject: async () => {
    await kafka.proxy.refuse();
    await sleep(tm.outageMs);
    await kafka.proxy.accept();
  },
});

/** A real broker kill -9 and restart on its data (log recovery included in the outage). */
export const kafkaRestart = (tm: Timing, kafka: PrivateKafka): FaultSpec<Basic> => ({
  name: 'Kafka broker kill -9 + restart',
  ...tm,
  deps: onKafka(kafka),
  build: basicOn,
  inject: async () => {
    await kafka.kill();
    kafka.proxy.cut();
    await sleep(2_000);
    await kafka.start();
  },
});
