import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from './errors.js';

// docs/outcomes.md mirrors ERROR_CODES, the way fastify tests its error-code docs against lib/errors.js:
// every code has a row with its status, and no row names a code or a status the enum does not have.
const DOC = new URL('../../docs/outcomes.md', import.meta.url);

interface Row {
  line: number;
  status: number[];
  codes: string[];
}

/** The rows of every table whose header has a `status` and an `error.code` column. */
function outcomeRows(markdown: string): Row[] {
  const rows: Row[] = [];
  let columns: { status: number; code: number } | undefined;
  markdown.split('\n').forEach((text, i) => {
    if (!text.startsWith('|')) {
      columns = undefined;
      return;
    }
    const cells = text
      .slice(1, text.endsWith('|') ? -1 : undefined)
      .split('|')
      .map((c) => c.trim());
    if (/^-+$/.test(cells[0]?.replaceAll(':', '') ?? '')) return;
    if (!columns) {
      const status = cells.indexOf('status');
      const code = cells.indexOf('`error.code`');
      if (status >= 0 && code >= 0) columns = { status, code };
      return;
    }
    rows.push({
      line: i + 1,
      status: [...(cells[columns.status] ?? '').matchAll(/\b[1-5]\d\d\b/g)].map((m) => Number(m[0])),
      codes: [...(cells[columns.code] ?? '').matchAll(/`([A-Z_]+)`/g)].map((m) => m[1] as string),
    });
  });
  return rows;
}

describe('docs/outcomes.md', () => {
  const rows = outcomeRows(readFileSync(DOC, 'utf8'));
  const documented = rows.flatMap((r) => r.codes.map((code) => ({ code, status: r.status, line: r.line })));

  it('happy: the outcome tables are found (a renamed column must not make this test pass empty)', () => {
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((r) => r.codes.length === 0 && r.status.includes(202))).toBe(true);
  });

  it('happy: every code of ERROR_CODES has a row', () => {
    const missing = Object.keys(ERROR_CODES).filter((code) => !documented.some((d) => d.code === code));
    expect(missing, 'codes of contracts/src/errors.ts without a row in docs/outcomes.md').toEqual([]);
  });

  it('error: no row names a code ERROR_CODES does not have', () => {
    const unknown = documented
      .filter((d) => !(d.code in ERROR_CODES))
      .map((d) => `${d.code} (line ${d.line})`);
    expect(unknown, 'codes in docs/outcomes.md that contracts/src/errors.ts does not define').toEqual([]);
  });

  it('happy: every row gives its code the status ERROR_CODES maps it to, and only that one', () => {
    const wrong = documented
      .filter((d) => d.code in ERROR_CODES)
      .filter((d) => d.status.length !== 1 || d.status[0] !== ERROR_CODES[d.code as ErrorCode])
      .map((d) => `${d.code}: ${d.status.join(' / ') || 'no status'} (line ${d.line})`);
    expect(wrong, 'rows of docs/outcomes.md whose status disagrees with ERROR_CODES').toEqual([]);
  });
});
