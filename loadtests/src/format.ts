/** How figures are written in the reports: one helper per unit, "n/a" for what was not measured. */

/** What the report says for a signal the services do not export. */
export const NOT = 'not exported';

export const int = (v: number | undefined) =>
  v === undefined ? 'n/a' : Math.round(v).toLocaleString('en-US');
export const pct = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(0)} %`);
export const ms = (v: number | undefined, digits = 2) =>
  v === undefined ? 'n/a' : `${v.toFixed(digits)} ms`;
/** Seconds, written in ms below one second. */
export const secs = (v: number | undefined) =>
  v === undefined ? 'n/a' : v < 1 ? `${(v * 1000).toFixed(1)} ms` : `${v.toFixed(2)} s`;
/** Milliseconds with two decimals below 10 ms, one above (the report's latency tables). */
export const fmtMs = (v: number | undefined) =>
  v === undefined ? 'n/a' : `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
export const fmtK = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v / 1000).toFixed(2)} k/s`);
export const mb = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(0)} MB`);

/** "−82 %" when lower than the seed (better for latency), "+40 %" or "×3.1" when higher. */
export function versus(value: number | undefined, seed: number | undefined, higherIsBetter = false): string {
  if (value === undefined || seed === undefined) return '–';
  if (seed === 0) return value === 0 ? 'same' : higherIsBetter ? 'better' : 'worse';
  const r = value / seed;
  const better = higherIsBetter ? r > 1 : r < 1;
  const text = r >= 2 ? `×${r.toFixed(1)}` : `${r >= 1 ? '+' : '−'}${Math.abs((r - 1) * 100).toFixed(0)} %`;
  if (Math.abs(r - 1) < 0.005) return 'same';
  return `${text} (${better ? 'better' : 'worse'})`;
}
