/**
 * Summarises V8 .cpuprofile files (node --cpu-prof): where each process spent its CPU, by function
 * (self time) and by package, as Markdown tables.
 *
 *   node src/cpuprofile.ts <file.cpuprofile | dir>...      (a dir: every .cpuprofile in it)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

interface Row {
  name: string;
  ms: number;
  share: number;
}

/** node_modules package, node internals, V8 states, or the project file a frame belongs to. */
function owner(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const m = /\/(services|libs|contracts)\/([^/]+)\//.exec(url);
  return m ? `@coupon/${m[2]}` : basename(url);
}

/** Busy time (idle excluded) and its split; shares are of the busy time. */
function summarise(p: Profile): {
  totalMs: number;
  idleMs: number;
  byFunction: Row[];
  byOwner: Row[];
} {
  // Self time per node: the sum of the time deltas of the samples that landed on it.
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] ?? 0;
    const next = deltas[i + 1] ?? 0;
    self.set(id, (self.get(id) ?? 0) + Math.max(0, next) / 1000);
  }
  const idle = p.nodes
    .filter((n) => n.callFrame.functionName === '(idle)')
    .reduce((a, n) => a + (self.get(n.id) ?? 0), 0);
  const total = [...self.values()].reduce((a, b) => a + b, 0) - idle || 1;
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  for (const n of p.nodes) {
    const ms = self.get(n.id) ?? 0;
    if (ms === 0 || n.callFrame.functionName === '(idle)') continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const fn = functionName || '(anonymous)';
    const where = url ? `${owner(url, fn)}:${basename(url)}:${lineNumber + 1}` : '';
    const key = where ? `${fn} (${where})` : fn;
    byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
    const o = owner(url, fn);
    byOwner.set(o, (byOwner.get(o) ?? 0) + ms);
  }
  const rows = (m: Map<string, number>) =>
    [...m].map(([name, ms]) => ({ name, ms, share: ms / total })).sort((a, b) => b.ms - a.ms);
  return { totalMs: total, idleMs: idle, byFunction: rows(byFunction), byOwner: rows(byOwner) };
}

function files(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (statSync(a).isDirectory()) {
      for (const f of readdirSync(a)) if (f.endsWith('.cpuprofile')) out.push(join(a, f));
    } else out.push(a);
  }
  return out;
}

if (import.meta.main) {
  const list = files(process.argv.slice(2));
  if (list.length === 0) {
    console.error('usage: node src/cpuprofile.ts <file.cpuprofile | dir>...');
    process.exit(2);
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  for (const f of list) {
    const s = summarise(JSON.parse(readFileSync(f, 'utf8')) as Profile);
    console.log(
      `### ${f}\n\nbusy ${(s.totalMs / 1000).toFixed(1)} s, idle ${(s.idleMs / 1000).toFixed(1)} s (shares are of the busy time)\n`,
    );
    console.log('| by package / owner | self ms | share |\n|---|---:|---:|');
    for (const r of s.byOwner.slice(0, 15))
      console.log(`| ${r.name} | ${r.ms.toFixed(0)} | ${pct(r.share)} |`);
    console.log('\n| by function (self time) | self ms | share |\n|---|---:|---:|');
    for (const r of s.byFunction.slice(0, 25))
      console.log(`| \`${r.name}\` | ${r.ms.toFixed(0)} | ${pct(r.share)} |`);
    console.log('');
  }
}
