#!/usr/bin/env node
import { CommanderError } from 'commander';
import { buildProgram } from './cli.js';
import type { Io } from './deps.js';

// Exit codes: 0 done (no drift), 1 drift left unrepaired, 2 bad arguments, 3 the command failed.
const io: Io = { out: process.stdout, err: process.stderr };

// kafkajs 2.2.4 sometimes arms a timer with a negative delay (requestQueue); Node ≥ 23 warns about it
// on every run although it is harmless (clamped to 1 ms). Keep every other warning.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'TimeoutNegativeWarning') io.err.write(`${w.name}: ${w.message}\n`);
});
const abort = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (abort.signal.aborted) process.exit(130);
    io.err.write(`${sig}: stopping (again to quit at once)\n`);
    abort.abort();
  });
}

const program = buildProgram(io, async (fn) => {
  // Loaded only once the arguments are valid (see cli.ts).
  const [{ loadEnv }, { createDeps }] = await Promise.all([import('./env.js'), import('./deps.js')]);
  const env = loadEnv();
  const deps = await createDeps(env, io, abort.signal);
  try {
    process.exitCode = await fn(deps);
  } finally {
    const deadline = setTimeout(() => process.exit(process.exitCode ?? 0), env.SHUTDOWN_TIMEOUT_MS);
    deadline.unref();
    await deps.close();
  }
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    io.err.write(`coupon-ops: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 3;
  }
}
