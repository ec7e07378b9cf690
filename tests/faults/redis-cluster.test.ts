import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gateKeys, gateLockKey } from '@coupon/contracts';
import { acquireGateLock, Gate } from '@coupon/gate';
import { Cluster, type Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portFree, sleep } from '../support/index.js';
import { ping } from './private-redis.js';
import { track } from './processes.js';

/**
 * The gate on a real three-node Redis Cluster (Debian's redis-server): every key of a coupon carries
 * the hash tag {coupon:ID}, so the one Lua script touches one slot, and coupons spread over nodes.
 */
const run = promisify(execFile);
/** Ports whose cluster bus port (port + 10000) is free too. */
async function clusterPorts(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = 20_000 + Math.floor(Math.random() * 20_000);
    if (!out.includes(p) && (await portFree(p)) && (await portFree(p + 10_000))) out.push(p);
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'coupon-cluster-'));
const nodes: ChildProcess[] = [];
let ports: number[] = [];
let cluster: Cluster;
let gate: Gate;

beforeAll(async () => {
  ports = await clusterPorts(3);
  for (const port of ports) {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--cluster-enabled', 'yes'];
    args.push('--cluster-config-file', `nodes-${port}.conf`, '--appendonly', 'no', '--save', '');
    nodes.push(track(spawn('redis-server', args, { stdio: 'ignore' })));
  }
  for (const port of ports) while (!(await ping(port))) await sleep(100);
  await run('redis-cli', [
    '--cluster',
    'create',
    ...ports.map((p) => `127.0.0.1:${p}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ]);
  for (const port of ports) {
    for (let i = 0; ; i++) {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']);
      if (stdout.includes('cluster_state:ok')) break;
      if (i > 100) throw new Error(`cluster node :${port} not ok:\n${stdout}`);
      await sleep(100);
    }
  }
  cluster = new Cluster([{ host: '127.0.0.1', port: ports[0] as number }], {
    redisOptions: { connectTimeout: 2_000 },
  });
  // Gate is typed for a single Redis; a Cluster client has the same command surface it uses.
  gate = new Gate(cluster as unknown as Redis);
}, 60_000);

afterAll(async () => {
  cluster?.disconnect();
  for (const n of nodes) n.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function keyslot(key: string): Promise<number> {
  return Number(await cluster.cluster('KEYSLOT', key));
}

/** Port of the node serving a slot. */
async function owner(slot: number): Promise<number> {
  const ranges = await cluster.cluster('SLOTS');
  const r = ranges.find(([from, to]) => slot >= from && slot <= to);
  const primary = r?.[2];
  if (!primary) throw new Error(`slot ${slot} unassigned`);
  return primary[1];
}

/** One coupon id per node: the sale spreads over the cluster. */
async function couponPerNode(): Promise<number[]> {
  const byNode = new Map<number, number>();
  for (let id = 1; byNode.size < ports.length && id < 1_000; id++) {
    const node = await owner(await keyslot(gateKeys(id)[0]));
    if (!byNode.has(node)) byNode.set(node, id);
  }
  return [...byNode.values()];
}

const OPEN = { opensAt: new Date(Date.now() - 60_000), closesAt: new Date(Date.now() + 3_600_000) };

describe('the gate on a three-node Redis Cluster', () => {
  it('happy: the keys of one coupon share one slot, and coupons land on different nodes', async () => {
    for (const id of [1, 42, 123_456_789]) {
      const slots = await Promise.all([...gateKeys(id), gateLockKey(id)].map(keyslot));
      expect(new Set(slots).size).toBe(1);
    }
    const ids = await couponPerNode();
    expect(ids).toHaveLength(3);
    const owners = await Promise.all(ids.map(async (id) => owner(await keyslot(gateKeys(id)[0]))));
    expect(new Set(owners).size).toBe(3);
  });

  it('happy: admits until sold out, exactly the quantity, on every node at once', async () => {
    const ids = await couponPerNode();
    const QUANTITY = 50;
    await Promise.all(ids.map((id) => gate.load({ id, quantity: QUANTITY, ...OPEN })));
    const users = Array.from({ length: 80 }, (_, i) => 1_000 + i);
    const outcomes = await Promise.all(ids.map((id) => Promise.all(users.map((u) => gate.admit(id, u)))));
    for (const [i, id] of ids.entries()) {
      const o = outcomes[i] as string[];
      expect(o.filter((x) => x === 'ISSUED')).toHaveLength(QUANTITY);
      expect(o.filter((x) => x === 'SOLD_OUT')).toHaveLength(users.length - QUANTITY);
      expect(await gate.state(id)).toEqual({ quantity: QUANTITY, remaining: 0, admitted: QUANTITY });
      expect((await gate.admittedUsers(id)).sort((a, b) => a - b)).toEqual(
        users.filter((_, j) => o[j] === 'ISSUED').sort((a, b) => a - b),
      );
    }
  });

  it('error: duplicates are rejected, a release re-opens one slot, unknown coupons are reported', async () => {
    const [id] = (await couponPerNode()) as [number];
    const coupon = id + 10_000;
    await gate.load({ id: coupon, quantity: 3, ...OPEN });
    expect(await gate.admit(coupon, 7)).toBe('ISSUED');
    const again = await Promise.all(Array.from({ length: 20 }, () => gate.admit(coupon, 7)));
    expect(new Set(again)).toEqual(new Set(['ALREADY_ISSUED']));
    expect(await gate.isAdmitted(coupon, 7)).toBe(true);
    expect(await gate.release(coupon, 7)).toBe(true);
    expect(await gate.release(coupon, 7)).toBe(false);
    expect(await gate.state(coupon)).toEqual({ quantity: 3, remaining: 3, admitted: 0 });
    expect(await gate.admit(999_999_999, 7)).toBe('COUPON_NOT_FOUND');
    // A rebuild (its scripts check the lock in the same slot) keeps sold stock sold: 3 hold the coupon, none left.
    const lock = await acquireGateLock(cluster, coupon, 10_000);
    expect(await gate.rebuild({ id: coupon, quantity: 3, ...OPEN }, [1, 2, 3], lock!.token, true)).toBe(
      'loaded',
    );
    expect(await lock?.release()).toBe(true);
    expect(await gate.admit(coupon, 4)).toBe('SOLD_OUT');
    expect(await gate.admit(coupon, 2)).toBe('ALREADY_ISSUED');
  });
});
