import { DLT_REASONS, type DltReason, parseId } from '@coupon/contracts';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_GRACE_MS, DEFAULT_MAX_REPAIRS } from './defaults.js';
import type { Io, OpsDeps } from './deps.js';

// Subcommands load their modules (database driver, Kafka, Redis) only when they run, so that a
// usage error answers at once.

/** Runs a subcommand with clients built only once the arguments are valid; resolves to the exit code. */
export type Runner = (fn: (deps: OpsDeps) => Promise<number>) => Promise<void>;

function couponId(value: string): number {
  const id = parseId(value);
  if (id === undefined) throw new InvalidArgumentError('must be a positive integer id');
  return id;
}

function couponIds(value: string, previous: number[] | undefined): number[] {
  return [...(previous ?? []), couponId(value)];
}

function count(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`must be an integer >= ${min}`);
    return n;
  };
}

const reasonOption = () =>
  new Option('--reason <reason>', 'only records sent to the DLT for this reason').choices(DLT_REASONS);

/** The command line, without any client: `coupon-ops <dlt list|dlt replay|reconcile|rewarm> …`. */
export function buildProgram(io: Io, run: Runner): Command {
  const program = new Command('coupon-ops')
    .description(
      'Operations on the coupon system: the dead-letter topic, drift between Redis and MySQL, lost gates',
    )
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) });

  const dlt = program.command('dlt').description('inspect and replay the dead-letter topic');
  dlt
    .command('list')
    .description('print DLT records (from the start of the topic to its current end)')
    .option('--coupon <id>', 'only records of this coupon', couponId)
    .addOption(reasonOption())
    .option('--limit <n>', 'at most n records', count(1))
    .option('--json', 'print JSON instead of a table')
    .action((o: { coupon?: number; reason?: DltReason; limit?: number; json?: boolean }) =>
      run(async (deps) => {
        const { listDlt, printDltList } = await import('./dlt-list.js');
        const entries = await listDlt(deps, { couponId: o.coupon, reason: o.reason, limit: o.limit });
        printDltList(deps.io, entries, o.json ?? false);
        return 0;
      }),
    );
  dlt
    .command('replay')
    .description(
      're-publish matching DLT records to the main topic; offsets commit only after the broker acknowledged',
    )
    .option('--coupon <id>', 'only records of this coupon', couponId)
    .addOption(reasonOption())
    .option('--limit <n>', 're-publish at most n records', count(1))
    .option('--dry-run', 'show what would be replayed; produce and commit nothing')
    .action((o: { coupon?: number; reason?: DltReason; limit?: number; dryRun?: boolean }) =>
      run(async (deps) => {
        const { printReplay, replayDlt } = await import('./dlt-replay.js');
        printReplay(
          deps.io,
          await replayDlt(deps, { couponId: o.coupon, reason: o.reason, limit: o.limit, dryRun: o.dryRun }),
        );
        return 0;
      }),
    );

  program
    .command('reconcile')
    .description("compare Redis's admitted users with MySQL's rows; exit 1 when drift is left unrepaired")
    .option('--coupon <id...>', 'coupons to check (default: every coupon with a gate in Redis)', couponIds)
    .option('--repair', 're-publish missing events, add rows to the admitted set, lower excess stock')
    .option(
      '--grace-ms <ms>',
      'admitted users count as missing only after this long',
      count(0),
      DEFAULT_GRACE_MS,
    )
    .option(
      '--max-repairs <n>',
      'republished events plus adopted rows per coupon; the rest waits for the next run',
      count(1),
      DEFAULT_MAX_REPAIRS,
    )
    .option('--json', 'print JSON instead of a table')
    .action(
      (o: { coupon?: number[]; repair?: boolean; graceMs: number; maxRepairs: number; json?: boolean }) =>
        run(async (deps) => {
          const { printReconcile, reconcile } = await import('./reconcile.js');
          const r = await reconcile(deps, {
            couponIds: o.coupon,
            repair: o.repair,
            graceMs: o.graceMs,
            maxRepairs: o.maxRepairs,
          });
          printReconcile(deps.io, r, o.json ?? false);
          return r.exitCode;
        }),
    );

  program
    .command('rewarm')
    .description(
      'rebuild a lost gate: admitted = rows ∪ in-flight events ∪ DLT events; remaining = quantity − admitted',
    )
    .requiredOption('--coupon <id>', 'the coupon', couponId)
    .option('--dry-run', 'compute and print, change nothing')
    .option(
      '--force',
      'rebuild although a gate is present: it is closed first (the coupon answers 503), its users are kept',
    )
    .option(
      '--close-wait-ms <ms>',
      "with --force on a live gate: wait this long after closing it (default: the issuer's producer horizon + 1 s)",
      count(0),
    )
    .action((o: { coupon: number; dryRun?: boolean; force?: boolean; closeWaitMs?: number }) =>
      run(async (deps) => {
        const { printRewarm, rewarm } = await import('./rewarm.js');
        const opts = { couponId: o.coupon, dryRun: o.dryRun, force: o.force, closeWaitMs: o.closeWaitMs };
        printRewarm(deps.io, await rewarm(deps, opts));
        return 0;
      }),
    );
  return program;
}
