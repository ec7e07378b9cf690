/**
 * --ha: the sold-out path (edge answer on and off) and the accepted path on the one-node topology
 * (BASE_URL) and through HAProxy on the replicated one (scripts/start --ha, BENCH_HA_URL), each path
 * on one and then the other, so both see the same machine. The CPU of every process of each topology
 * per request; output.ts sums it by process group and sets --ha beside one node.
 */
import { type Accepted, acceptedPath } from './accepted.ts';
import { log } from './config.ts';
import { ONE_NODE, REPLICATED } from './procs.ts';
import { type SoldOut, soldOutPath } from './sold-out.ts';

export interface Topologies<T> {
  oneNode: T;
  replicated: T;
}
export interface HaSteps {
  soldOut: Topologies<SoldOut>;
  accepted: Topologies<Accepted>;
}

export async function haPaths(): Promise<HaSteps> {
  log(`1/4 sold-out path (edge answer on, off), one node: ${ONE_NODE.url}`);
  const soldOne = await soldOutPath(ONE_NODE);
  log(`2/4 sold-out path (edge answer on, off), --ha: ${REPLICATED.url}`);
  const soldHa = await soldOutPath(REPLICATED);
  log('3/4 accepted path, one node');
  const accOne = await acceptedPath(ONE_NODE);
  log('4/4 accepted path, --ha');
  const accHa = await acceptedPath(REPLICATED);
  return {
    soldOut: { oneNode: soldOne, replicated: soldHa },
    accepted: { oneNode: accOne, replicated: accHa },
  };
}
