import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeReport } from '../report.ts';
import { Scraped } from '../scraped.ts';
import { host, NODE, rates } from './host.ts';

/** One node exporter scrape at second `s` (+ t0 ms): 2 cores, an eth0 of 1 Gbit/s and loopback. */
function scrape(s: number, o: { idle: number; txEth0: number; avail: number }, t0 = 0): string {
  const text = [
    `node_cpu_seconds_total{cpu="0",mode="idle"} ${o.idle / 2}`,
    `node_cpu_seconds_total{cpu="1",mode="idle"} ${o.idle / 2}`,
    `node_cpu_seconds_total{cpu="0",mode="user"} ${s}`,
    `node_pressure_cpu_waiting_seconds_total ${s * 0.25}`,
    'node_load1 3',
    'node_memory_MemTotal_bytes 8589934592',
    `node_memory_MemAvailable_bytes ${o.avail}`,
    `node_network_receive_bytes_total{device="eth0"} ${s * 1e6}`,
    `node_network_transmit_bytes_total{device="eth0"} ${o.txEth0}`,
    `node_network_receive_bytes_total{device="lo"} ${s * 5e7}`,
    `node_network_transmit_bytes_total{device="lo"} ${s * 5e7}`,
    'link_speed_configured_bytes{device="eth0"} 125000000',
  ].join('\n');
  return JSON.stringify({ k: 'm', t: t0 + s * 1000, s: NODE, ok: true, text });
}

async function read(lines: string[]): Promise<Scraped> {
  const dir = mkdtempSync(join(tmpdir(), 'coupon-host-'));
  try {
    writeFileSync(join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
    return await Scraped.read(join(dir, 'metrics.jsonl'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('host rows of the load-test report (node exporter)', () => {
  it('happy: CPU, pressure, memory and each interface against its configured link', async () => {
    // Idle grows by 0.5 s per second over 2 cores: 75 % busy. eth0 sends 110 MB/s from second 2: 88 % of 125 MB/s.
    const lines = [0, 1, 2, 3, 4].map((s) =>
      scrape(s, { idle: s * 0.5, txEth0: s < 2 ? 0 : (s - 1) * 1.1e8, avail: s === 3 ? 429496730 : 4e9 }),
    );
    const r = host(await read(lines), undefined);
    const value = (name: string) => r.signals.find((x) => x.name.startsWith(name))?.value;
    expect(value('host CPU busy (2 cores)')).toBe('75 % / 75 %; 25 % / 25 %');
    expect(value('host load average (1 min) per core')).toBe('1.50');
    expect(value('host memory available, lowest')).toBe('5 % (410 of 8192 MB)');
    expect(value('eth0: receive / transmit peak, peak share of its 1000 Mbit/s link')).toBe(
      '1.00 MB/s / 110.00 MB/s, 88.0 %',
    );
    expect(value('lo: receive / transmit peak')).toBe('50.00 MB/s / 50.00 MB/s');
    expect(r.findings.join('\n')).toMatch(/eth0 ran above 80 % of its configured link\*\* \(88 % at peak\)/);
    expect(r.findings.join('\n')).toMatch(/Memory ran low on the host\*\*: 5 % available/);
  });

  it('happy: a quiet host has no finding', async () => {
    const lines = [0, 1, 2].map((s) => scrape(s, { idle: s * 1.8, txEth0: s * 1e6, avail: 4e9 }));
    const r = host(await read(lines), undefined);
    expect(r.findings).toEqual([]);
    expect(r.signals.find((x) => x.name.startsWith('eth0'))?.value).toBe('1.00 MB/s / 1.00 MB/s, 0.8 %');
  });

  it('error: without the node exporter the report has no host rows', async () => {
    expect(host(await read([]), undefined)).toEqual({ signals: [], findings: [] });
  });

  it('rates skip a counter reset', () => {
    expect(
      rates([
        { t: 0, v: 10 },
        { t: 1000, v: 20 },
        { t: 2000, v: 5 },
        { t: 4000, v: 25 },
      ]),
    ).toEqual([
      { t: 1000, v: 10 },
      { t: 4000, v: 10 },
    ]);
  });

  it('happy: the report of a run with the node exporter scraped shows the host rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coupon-host-report-'));
    try {
      cpSync(join(import.meta.dirname, '../../fixtures/smoke'), dir, { recursive: true });
      // The smoke fixture's scrapes start at this ms and last 13 s.
      const t0 = 1795557124873;
      const lines = Array.from({ length: 14 }, (_, s) =>
        scrape(s, { idle: s * 1, txEth0: s * 1e6, avail: 4e9 }, t0),
      );
      appendFileSync(join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
      await writeReport(dir);
      const md = readFileSync(join(dir, 'report.md'), 'utf8');
      expect(md).toContain(
        '| host CPU busy (2 cores), mean / peak; tasks waiting for a CPU (pressure), mean / peak | 50 % / 50 %; 25 % / 25 % |',
      );
      expect(md).toContain(
        '| eth0: receive / transmit peak, peak share of its 1000 Mbit/s link | 1.00 MB/s / 1.00 MB/s, 0.8 % |',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
