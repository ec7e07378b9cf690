import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';

/** A compiled TRUSTED_PROXIES list; `undefined` when empty (X-Forwarded-For is then never read). */
export type TrustedProxies = ((addr: string, i: number) => boolean) | undefined;

/**
 * TRUSTED_PROXIES → proxy-addr's trust function (the one Express uses). Throws, naming the entry,
 * when one is neither an address, a CIDR nor one of proxy-addr's names.
 */
export function parseTrustedProxies(list: string): TrustedProxies {
  const entries = list
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) return undefined;
  for (const e of entries) {
    try {
      proxyAddr.compile(e);
    } catch {
      throw new Error(`'${e}' is not an address, a CIDR, loopback, linklocal or uniquelocal`);
    }
  }
  return proxyAddr.compile(entries);
}

/**
 * The client's address: the peer's, or, when the peer is a trusted proxy, the rightmost address of
 * X-Forwarded-For that is not itself trusted (a client cannot push an address past the proxy that
 * appended the real one). `unknown` without a socket (in-process app.request() in tests).
 */
export function clientAddress(incoming: IncomingMessage | undefined, trusted: TrustedProxies): string {
  if (!incoming) return 'unknown';
  if (!trusted) return incoming.socket.remoteAddress ?? 'unknown';
  return proxyAddr(incoming, trusted);
}
