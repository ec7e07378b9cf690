import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import { type ServerType, serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Env } from './http.js';

/**
 * Limits every server gets: headers (and so the URL) at most 8 KiB (431 beyond), a slow client must
 * send its headers within 5 s and its whole request within 10 s (408 beyond), idle keep-alive
 * sockets close after 5 s.
 */
export const SERVER_LIMITS = {
  maxHeaderSize: 8 * 1024,
  headersTimeout: 5_000,
  requestTimeout: 10_000,
  keepAliveTimeout: 5_000,
} as const;

export interface ListenOptions {
  /**
   * While this returns true every response carries `Connection: close`, so the client (or the load
   * balancer's connection pool) does not send another request on a socket that is about to close:
   * the socket ends cleanly after its answer instead of being cut under a request in flight.
   */
  draining?: () => boolean;
  /**
   * Sees each request before Hono does and may answer it itself, on node's objects (true: answered,
   * Hono never sees it). For an answer so cheap that building Hono's request and response would be
   * most of its cost: the gateway's sold-out at the edge.
   */
  before?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/**
 * Listens with @hono/node-server and resolves once bound. Keep-alive sockets are closed on shutdown
 * after in-flight requests finish.
 */
export function listen(
  app: Hono<Env>,
  port: number,
  hostname: string,
  opts: ListenOptions = {},
): Promise<ServerType> {
  return new Promise((resolve) => {
    const server = serve(
      {
        fetch: app.fetch,
        port,
        hostname,
        // Timeouts are enforced on node's connection check, every 30 s by default: check each second.
        serverOptions: { ...SERVER_LIMITS, connectionsCheckingInterval: 1_000 },
        ...(opts.before ? { createServer: withBefore(opts.before) } : {}),
      },
      () => resolve(server),
    );
    const { draining } = opts;
    if (draining) {
      // Before Hono's listener: a synchronous route writes its head within that listener.
      server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
        if (draining()) res.setHeader('connection', 'close');
      });
    }
  });
}

/** node's createServer, with `before` ahead of Hono's request listener. */
function withBefore(before: NonNullable<ListenOptions['before']>) {
  return ((options: ServerOptions, listener: RequestListener) =>
    createServer(options, (req, res) => {
      if (!before(req, res)) listener(req, res);
    })) as unknown as typeof createServer;
}

/**
 * Stops accepting, closes idle keep-alive sockets at once and resolves when the requests in flight
 * have been answered (their sockets close after the answer: node's server.close() closes a socket
 * that goes idle once closing has begun, and `draining` in listen() has told the peer so).
 */
export function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // http.Server has it; node's HTTP/2 servers (also a ServerType) do not.
    if ('closeIdleConnections' in server) server.closeIdleConnections();
  });
}
