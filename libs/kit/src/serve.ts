import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Env } from './http.js';

/**
 * Listens with @hono/node-server and resolves once bound. Keep-alive sockets are closed on shutdown
 * after in-flight requests finish.
 */
export function listen(app: Hono<Env>, port: number, hostname: string): Promise<ServerType> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname }, () => resolve(server));
  });
}

export function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    const s = server as unknown as { closeIdleConnections?: () => void };
    s.closeIdleConnections?.();
  });
}
