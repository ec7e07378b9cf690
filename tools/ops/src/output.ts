import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import type { Io } from './deps.js';

export function table(head: string[], rows: Array<Array<string | number>>): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

export function line(stream: NodeJS.WritableStream, text: string): void {
  stream.write(`${text}\n`);
}

export interface Progress {
  advance(n: number): void;
  stop(): void;
}

/** A bar on stderr when stderr is a terminal; nothing otherwise (logs and pipes stay clean). */
export function progress(io: Io, total: number, label: string): Progress {
  if (!io.err.isTTY || total === 0) return { advance: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream: io.err, format: `${label} [{bar}] {value}/{total} records`, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { advance: (n) => bar.increment(n), stop: () => bar.stop() };
}
