/**
 * Fails when a screenshot is missing, unreadable or blank: a rendered report has text, tables and
 * charts, so it has many distinct colours and a good share of non-background pixels.
 *
 *   node src/pngcheck.ts <file.png>
 */
import { existsSync, readFileSync } from 'node:fs';
import { PNG } from 'pngjs';

export interface PngStats {
  width: number;
  height: number;
  colours: number;
  /** Share of pixels that differ from the most common colour (the background). */
  ink: number;
}

export function pngStats(buf: Buffer): PngStats {
  const png = PNG.sync.read(buf);
  const counts = new Map<number, number>();
  const { data } = png;
  for (let i = 0; i < data.length; i += 4) {
    const key = ((data[i] ?? 0) << 16) | ((data[i + 1] ?? 0) << 8) | (data[i + 2] ?? 0);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const pixels = png.width * png.height;
  const background = Math.max(0, ...counts.values());
  return {
    width: png.width,
    height: png.height,
    colours: counts.size,
    ink: pixels > 0 ? 1 - background / pixels : 0,
  };
}

/** Undefined when the page looks rendered, else why not. */
export function blankReason(s: PngStats): string | undefined {
  if (s.width < 100 || s.height < 100) return `too small (${s.width}×${s.height})`;
  if (s.colours < 16) return `only ${s.colours} colours`;
  if (s.ink < 0.01) return `${(s.ink * 100).toFixed(2)} % of pixels differ from the background`;
  return undefined;
}

if (import.meta.main) {
  const file = process.argv[2];
  if (!file || !existsSync(file)) {
    console.error(`pngcheck: screenshot missing: ${file ?? '(no path)'}`);
    process.exit(1);
  }
  const s = pngStats(readFileSync(file));
  const why = blankReason(s);
  if (why) {
    console.error(`pngcheck: ${file} looks blank: ${why}`);
    process.exit(1);
  }
  console.log(
    `pngcheck: ${file} ${s.width}×${s.height}, ${s.colours} colours, ${(s.ink * 100).toFixed(1)} % ink: rendered`,
  );
}
