import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { z } from 'zod';

/**
 * The development tokens: the defaults of ADMIN_TOKEN and INTERNAL_TOKEN, so a service starts on a
 * developer machine with no configuration. They are in this public source, so they protect nothing:
 * a service refuses them as soon as it listens beyond loopback (devTokensOnlyOnLoopback).
 */
export const DEV_TOKENS: Readonly<Record<'ADMIN_TOKEN' | 'INTERNAL_TOKEN', string>> = {
  ADMIN_TOKEN: 'dev-admin-token',
  INTERNAL_TOKEN: 'dev-internal-token',
};

export type DevTokenName = keyof typeof DEV_TOKENS;

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/**
 * True when listening on `host` accepts connections from this machine only: 127.0.0.0/8, ::1
 * (also as ::ffff:127.x.y.z or [::1]) or `localhost`. Anything else, including 0.0.0.0, ::, a
 * public address or another host name, counts as reachable from outside.
 */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (isIPv4(h)) return loopback.check(h, 'ipv4');
  if (isIPv6(h)) return loopback.check(h, 'ipv6');
  return false;
}

/** Why `name` is refused on `host`: names the variable, the listener and the ways out. */
export function devTokenMessage(name: DevTokenName, host: string): string {
  return (
    `is the development token '${DEV_TOKENS[name]}' (published in the source) while HOST=${host} ` +
    `listens beyond loopback: set ${name} to a secret of your own (scripts/start generates one into ` +
    `.local/secrets.env), or listen on 127.0.0.1`
  );
}

/**
 * A zod refinement for a service's env schema: refuses any of `names` still equal to its development
 * token when HOST is not loopback, with one issue per variable (parseEnv prints `ADMIN_TOKEN: is the
 * development token ...`). Runs once, where the environment is parsed at start-up.
 */
export function devTokensOnlyOnLoopback<N extends DevTokenName>(names: readonly N[]) {
  return (env: { HOST: string } & Record<N, string>, ctx: z.RefinementCtx): void => {
    if (isLoopback(env.HOST)) return;
    for (const name of names) {
      if (env[name] === DEV_TOKENS[name])
        ctx.addIssue({ code: 'custom', path: [name], message: devTokenMessage(name, env.HOST) });
    }
  };
}
