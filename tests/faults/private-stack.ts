import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const STACK = fileURLToPath(new URL('../../infra/local/stack', import.meta.url));

/** A private copy of the stack's ha profile: its own state folder, ports and settings. */
export interface PrivateStack {
  /** STACK_HOME: every pid, log and data file of this copy. */
  home: string;
  /** Ports and settings of this copy (the stack.d file's variables). */
  env: Record<string, string>;
  /** Variables that, set, would mean "an external one: start nothing" (REDIS_SENTINELS, ...). */
  unset: string[];
  timeoutMs: number;
  /** Added to a failure's message, e.g. the tail of the service's log. */
  context?: () => string;
}

/**
 * `infra/local/stack --ha <args>` on a private copy: the same code a user starts, on free ports and
 * a temporary STACK_HOME. Resolves with its output; a failure names the command and shows its output.
 */
export function stackHa(s: PrivateStack, ...args: string[]): Promise<string> {
  return stack(s, '--ha', ...args);
}

/** `infra/local/stack <args>` on a private copy (the optional services of either profile, named). */
export async function stack(s: PrivateStack, ...args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...s.env, STACK_HOME: s.home };
  for (const name of s.unset) delete env[name];
  try {
    const { stdout, stderr } = await run('bash', [STACK, ...args], { env, timeout: s.timeoutMs });
    return stdout + stderr;
  } catch (err) {
    const e = err as { message?: string; stdout?: string; stderr?: string };
    throw new Error(
      `infra/local/stack ${args.join(' ')} failed: ${e.message ?? ''}\n${e.stdout ?? ''}${e.stderr ?? ''}\n${s.context?.() ?? ''}`,
    );
  }
}
