/**
 * Benchmarks, measured in one run on this machine, against 127.0.0.1 only, bounded in time:
 *   1. a bare node:http server (src/hello.ts) under wrk: the ceiling of one Node process here;
 *   2. the accepted path end to end under the same wrk load (a new user on every request, ample stock);
 *   3. the sold-out path (quantity exhausted, every request a new user), with the gateway's sold-out
 *      answer at the edge on and off (the run-time setting edgeSoldOutTtlMs);
 *   3b. steps 2 and 3 again with auth on: a second gateway with AUTH_MODE=jwt (HS256), a new token
 *      per request (bench/auth.ts), its edge answer on (the default: a sold-out coupon is answered
 *      before the token is checked, docs/decisions/0017);
 *   4. persister drain rate: N events produced straight to a topic of its own (KAFKA_TOPIC_PREFIX),
 *      then a separate persister started on it, timed until N rows;
 *   5. the seed scenario (loadtests/run seed): event-to-row p99 from the table, p95/p99/max;
 *   and the peak resident memory of each service under load (steps 2, 3 and 5).
 * Prints a table and writes bench.json / bench.md into loadtests/results/bench-<timestamp>/.
 *
 * --ha instead: steps 2 and 3 on the one-node topology and through HAProxy on the replicated one
 * (BENCH_HA_URL, its pid files in BENCH_HA_RUN; loadtests/bench --ha starts it), one after the other
 * in the same run (bench/ha.ts), and a table of CPU per request per process group, --ha beside one
 * node (the app tier's target in targets.ts).
 *
 *   node src/bench.ts     (loadtests/bench ensures k6, wrk, the stack and the services first)
 * BENCH_SECONDS (10), BENCH_CONNECTIONS (64), BENCH_DRAIN_EVENTS (200000), BENCH_SKIP_SEED=1.
 *   node src/bench.ts --dry-run     prints what every step would call (wrk, the admin API, processes,
 *                                   Kafka) and the tables with made-up figures, touching nothing.
 * One module per step under bench/; the output in bench/output.ts; the targets in targets.ts.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { acceptedPath } from './bench/accepted.ts';
import { authPaths } from './bench/auth.ts';
import {
  BASE_URL,
  CONNECTIONS,
  DRAIN_EVENTS,
  DRY,
  HA,
  HA_URL,
  log,
  loopbackOnly,
  ROOT,
  SECONDS,
  SKIP_SEED,
} from './bench/config.ts';
import { haPaths } from './bench/ha.ts';
import { helloBaseline } from './bench/hello.ts';
import { writeBench, writeHa } from './bench/output.ts';
import { persisterDrain } from './bench/persister.ts';
import { RssWatch } from './bench/procs.ts';
import { type SeedReport, seedScenario } from './bench/seed.ts';
import { soldOutPath } from './bench/sold-out.ts';

async function main(): Promise<void> {
  loopbackOnly(BASE_URL);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const dir = join(ROOT, 'loadtests/results', `bench-${stamp}`);
  if (!DRY) mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  if (HA) {
    loopbackOnly(HA_URL);
    const steps = await haPaths();
    return writeHa(dir, steps, (performance.now() - t0) / 1000);
  }
  const rss = new RssWatch();

  log(`1/5 bare node:http server, wrk -t1 -c${CONNECTIONS} ${SECONDS} s`);
  const hello = await helloBaseline();
  rss.start();
  log('2/5 accepted path (new user per request, ample stock)');
  const accepted = await acceptedPath();
  log('3/5 sold-out path');
  const soldOut = await soldOutPath();
  log('3b/5 accepted and sold-out paths with auth on (AUTH_MODE=jwt, a new HS256 token per request)');
  const auth = await authPaths(dir);
  rss.stop();
  log(`4/5 persister drain of ${DRAIN_EVENTS} pre-filled events`);
  const drain = await persisterDrain();
  let seed: SeedReport | undefined;
  if (!SKIP_SEED) {
    log('5/5 seed scenario (about 2.5 min)');
    seed = await seedScenario(dir);
  }
  const seconds = (performance.now() - t0) / 1000;
  await writeBench(dir, { hello, accepted, soldOut, auth, drain, seed, rss: rss.peak, seconds });
}

if (import.meta.main) {
  const guard = setTimeout(() => {
    console.error('[bench] took longer than 10 min: giving up');
    process.exit(1);
  }, 10 * 60_000);
  guard.unref();
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
