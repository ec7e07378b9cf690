import { describe, expect, it } from 'vitest';
import { Prom, type Series } from '../promql.ts';
import { host } from './host.ts';

/** One answer of Prometheus: a series per label set, a value per second from 0. */
const series = (metric: Record<string, string>, values: number[]): Series => ({
  metric,
  values: values.map((v, s) => [s, String(v)]),
});

/** The node exporter's answers for a host of 2 cores, an eth0 of 1 Gbit/s and loopback. */
function answers(o: { busy: number[]; txEth0: number[]; avail: number[] }): Prom {
  const n = o.busy.length;
  const flat = (v: number) => Array<number>(n).fill(v);
  return new Prom({
    start: 0,
    end: n - 1,
    step: 1,
    answers: {
      cores: [series({}, flat(2))],
      hostBusy: [series({}, o.busy)],
      hostWaiting: [series({}, flat(25))],
      hostLoadPerCore: [series({ instance: 'h' }, flat(1.5))],
      memTotal: [series({ instance: 'h' }, flat(8589934592))],
      memAvailable: [series({ instance: 'h' }, o.avail)],
      rx: [series({ device: 'eth0' }, flat(1e6)), series({ device: 'lo' }, flat(5e7))],
      tx: [series({ device: 'eth0' }, o.txEth0), series({ device: 'lo' }, flat(5e7))],
      link: [series({ device: 'eth0' }, flat(125000000))],
    },
  });
}

describe('host rows of the load-test report (node exporter, through Prometheus)', () => {
  it('happy: CPU, pressure, memory and each interface against its configured link', () => {
    const r = host(
      answers({ busy: [75, 75, 75, 75], txEth0: [0, 0, 1.1e8, 1.1e8], avail: [4e9, 4e9, 429496730, 4e9] }),
      undefined,
    );
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

  it('happy: a quiet host has no finding; the window bounds the peaks', () => {
    const p = answers({ busy: [10, 10, 10], txEth0: [1e6, 1e6, 9e7], avail: [4e9, 4e9, 4e9] });
    const r = host(p, [0, 1000]);
    expect(r.findings).toEqual([]);
    expect(r.signals.find((x) => x.name.startsWith('eth0'))?.value).toBe('1.00 MB/s / 1.00 MB/s, 0.8 %');
  });

  it('error: without the node exporter the report has no host rows', () => {
    expect(host(new Prom(), undefined)).toEqual({ signals: [], findings: [] });
  });
});
