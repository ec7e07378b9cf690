import { PassThrough } from 'node:stream';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './cli.js';

function program() {
  let err = '';
  const io = { out: new PassThrough().resume(), err: new PassThrough() };
  io.err.on('data', (d) => {
    err += String(d);
  });
  const ran: string[] = [];
  const p = buildProgram(io, async () => {
    ran.push('ran');
  });
  return { p, ran, err: () => err };
}

async function usageError(args: string[]): Promise<string> {
  const { p, ran, err } = program();
  await expect(p.parseAsync(['node', 'coupon-ops', ...args])).rejects.toBeInstanceOf(CommanderError);
  expect(ran).toEqual([]); // no client was built
  return err();
}

describe('command line', () => {
  it('error: bad arguments are usage errors before any client is built', async () => {
    expect(await usageError(['bogus'])).toMatch(/unknown command 'bogus'[\s\S]*Usage: coupon-ops/);
    expect(await usageError(['dlt', 'list', '--coupon', '0'])).toMatch(/positive integer/);
    expect(await usageError(['dlt', 'replay', '--reason', 'NOPE'])).toMatch(/Allowed choices/);
    expect(await usageError(['dlt', 'replay', '--limit', '0'])).toMatch(/>= 1/);
    expect(await usageError(['reconcile', '--grace-ms', '1.5'])).toMatch(/>= 0/);
    expect(await usageError(['reconcile', '--max-repairs', '0'])).toMatch(/>= 1/);
    expect(await usageError(['rewarm'])).toMatch(/required option '--coupon <id>'/);
  });

  it('happy: valid arguments reach the runner', async () => {
    const { p, ran } = program();
    await p.parseAsync(['node', 'coupon-ops', 'reconcile', '--coupon', '1', '2', '--grace-ms', '0']);
    expect(ran).toEqual(['ran']);
  });
});
