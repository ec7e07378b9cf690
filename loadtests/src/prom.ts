/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const UNESCAPE: Record<string, string> = { '\\': '\\', '"': '"', n: '\n' };

function parseLabels(s: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    while (s[i] === ',' || s[i] === ' ') i++;
    const eq = s.indexOf('=', i);
    if (eq < 0) break;
    const key = s.slice(i, eq).trim();
    i = eq + 1;
    if (s[i] !== '"') break;
    i++;
    let value = '';
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) {
        const next = s[i + 1] ?? '';
        value += UNESCAPE[next] ?? next;
        i += 2;
      } else {
        value += s[i];
        i++;
      }
    }
    i++;
    labels[key] = value;
  }
  return labels;
}

function parseValue(s: string): number {
  if (s === '+Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(s);
}

/** Parses the text format (comments and malformed lines are skipped). */
export function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let name: string;
    let labels: Record<string, string> = {};
    let rest: string;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    if (brace >= 0 && (space < 0 || brace < space)) {
      const close = line.lastIndexOf('}');
      if (close < brace) continue;
      name = line.slice(0, brace);
      labels = parseLabels(line.slice(brace + 1, close));
      rest = line.slice(close + 1).trim();
    } else {
      if (space < 0) continue;
      name = line.slice(0, space);
      rest = line.slice(space + 1).trim();
    }
    const value = parseValue(rest.split(/\s+/)[0] ?? '');
    if (!Number.isNaN(value)) out.push({ name, labels, value });
  }
  return out;
}

/** True when every label of `filter` is present in `labels` with the same value. */
export function matches(labels: Record<string, string>, filter: Record<string, string> = {}): boolean {
  for (const [k, v] of Object.entries(filter)) if (labels[k] !== v) return false;
  return true;
}

/** Cumulative histogram buckets (le → count), summed over series matching the filter. */
export function buckets(
  samples: Sample[],
  name: string,
  filter: Record<string, string> = {},
): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !matches(s.labels, filter)) continue;
    const le = parseValue(s.labels.le ?? '');
    out.set(le, (out.get(le) ?? 0) + s.value);
  }
  return out;
}

/**
 * histogram_quantile over cumulative buckets, interpolating linearly inside the bucket as Prometheus
 * does. Returns undefined without observations; the highest finite bound when q falls in +Inf.
 */
export function quantile(q: number, cumulative: Map<number, number>): number | undefined {
  const sorted = [...cumulative.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return prevLe;
      if (count === prevCount) return le;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/** Bucket-wise difference a − b (observations between two scrapes of a cumulative histogram). */
export function diffBuckets(a: Map<number, number>, b: Map<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [le, v] of a) out.set(le, Math.max(0, v - (b.get(le) ?? 0)));
  return out;
}
