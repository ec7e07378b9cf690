import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { blankReason, pngStats } from './pngcheck.ts';

function png(
  width: number,
  height: number,
  paint: (x: number, y: number) => [number, number, number],
): Buffer {
  const p = new PNG({ width, height });
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const [r, g, b] = paint(x, y);
      p.data[i] = r;
      p.data[i + 1] = g;
      p.data[i + 2] = b;
      p.data[i + 3] = 255;
    }
  return PNG.sync.write(p);
}

describe('pngcheck', () => {
  it('flags a blank white page', () => {
    expect(blankReason(pngStats(png(400, 400, () => [255, 255, 255])))).toMatch(/colours/);
  });
  it('accepts a page with text-like content', () => {
    const s = pngStats(
      png(400, 400, (x, y) => (y % 20 < 8 && x % 7 < 4 ? [(x * 3) % 256, y % 256, 90] : [255, 255, 255])),
    );
    expect(blankReason(s)).toBeUndefined();
  });
});
