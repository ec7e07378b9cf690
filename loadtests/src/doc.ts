/** A tiny document model rendered both to Markdown and to a self-contained HTML page. */
export type Block =
  | { h: 1 | 2 | 3; text: string }
  | { p: string }
  | { ul: string[] }
  | { ol: string[] }
  | { table: { head: string[]; rows: string[][]; right?: number[] } }
  | { figure: { title: string; svg: string } };

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Inline Markdown subset: **bold** and `code`. */
function inline(s: string): string {
  return escapeHtml(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

export function toMarkdown(blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    if ('h' in b) out.push(`${'#'.repeat(b.h)} ${b.text}`, '');
    else if ('p' in b) out.push(b.p, '');
    else if ('ul' in b) out.push(...b.ul.map((x) => `- ${x}`), '');
    else if ('ol' in b) out.push(...b.ol.map((x, i) => `${i + 1}. ${x}`), '');
    else if ('table' in b) {
      const { head, rows, right = [] } = b.table;
      out.push(`| ${head.map(cell).join(' | ')} |`);
      out.push(`|${head.map((_, i) => (right.includes(i) ? '---:' : '---')).join('|')}|`);
      for (const r of rows) out.push(`| ${r.map(cell).join(' | ')} |`);
      out.push('');
    } else if ('figure' in b) out.push(`_Chart: ${b.figure.title} (in report.html)._`, '');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

const CSS = `
body { font: 14px/1.5 system-ui, -apple-system, "DejaVu Sans", sans-serif; color: #1f2328; max-width: 980px; margin: 24px auto; padding: 0 16px; background: #fff; }
h1 { font-size: 24px; border-bottom: 1px solid #d0d7de; padding-bottom: 6px; }
h2 { font-size: 19px; margin-top: 28px; border-bottom: 1px solid #eaeef2; padding-bottom: 4px; }
h3 { font-size: 16px; margin-top: 20px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.r { text-align: right; font-variant-numeric: tabular-nums; }
code { background: #f6f8fa; padding: 1px 4px; border-radius: 4px; font-size: 90%; }
figure { margin: 12px 0 20px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
.ok { color: #1a7f37; font-weight: 600; } .bad { color: #cf222e; font-weight: 600; }
`;

export function toHtml(title: string, blocks: Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    if ('h' in b) out.push(`<h${b.h}>${inline(b.text)}</h${b.h}>`);
    else if ('p' in b) out.push(`<p>${inline(b.p)}</p>`);
    else if ('ul' in b) out.push(`<ul>${b.ul.map((x) => `<li>${inline(x)}</li>`).join('')}</ul>`);
    else if ('ol' in b) out.push(`<ol>${b.ol.map((x) => `<li>${inline(x)}</li>`).join('')}</ol>`);
    else if ('table' in b) {
      const { head, rows, right = [] } = b.table;
      const td = (s: string, i: number) => {
        const cls = right.includes(i) ? ' class="r"' : '';
        const mark =
          s === '✓' ? '<span class="ok">✓</span>' : s === '✗' ? '<span class="bad">✗</span>' : inline(s);
        return `<td${cls}>${mark}</td>`;
      };
      out.push(
        `<table><thead><tr>${head.map((h) => `<th>${inline(h)}</th>`).join('')}</tr></thead><tbody>` +
          rows.map((r) => `<tr>${r.map(td).join('')}</tr>`).join('') +
          '</tbody></table>',
      );
    } else if ('figure' in b)
      out.push(`<figure><figcaption>${inline(b.figure.title)}</figcaption>${b.figure.svg}</figure>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style></head>
<body>
${out.join('\n')}
</body></html>
`;
}
