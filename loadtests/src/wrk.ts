/** Parses wrk's output (with loadtests/wrk/issue.lua, which prints one "status <code> <n>" line per status). */
export interface WrkResult {
  rps: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** Answers by HTTP status (from the wrk script's done()). */
  statuses: Record<string, number>;
  p50?: number;
  p99?: number;
}

function toMs(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

export function parseWrk(out: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = sock ? sock.slice(1).reduce((a, x) => a + Number(x), 0) : 0;
  const lat = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m?.[1] && m[2] ? toMs(m[1], m[2]) : undefined;
  };
  if (Number.isNaN(rps)) throw new Error(`wrk printed no Requests/sec:\n${out}`);
  const statuses: Record<string, number> = {};
  for (const m of out.matchAll(/^status (\d+) (\d+)$/gm)) if (m[1] && m[2]) statuses[m[1]] = Number(m[2]);
  return { rps, requests, non2xx, errors, statuses, p50: lat('50'), p99: lat('99') };
}
