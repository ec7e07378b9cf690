import net from 'node:net';
import { listen } from '../support/index.js';

/**
 * A TCP proxy under the test's control, standing between two real services: `hang()` stops
 * forwarding (the peer looks alive but never answers), `resume()` forwards again, `cut()` drops
 * every connection, `delay(ms)` adds latency to every chunk in both directions (order kept).
 */
export class FaultProxy {
  private server: net.Server;
  private sockets = new Set<net.Socket>();
  private hanging = false;
  private latencyMs = 0;
  port = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {
    this.server = net.createServer((client) => this.pipe(client));
  }

  async start(): Promise<this> {
    this.port = await listen(this.server);
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  hang(): void {
    this.hanging = true;
  }

  resume(): void {
    this.hanging = false;
  }

  /** The peer is down: every connection drops and new ones are refused until accept(). */
  async refuse(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.cut();
    });
  }

  /** The peer is back on the same port. */
  async accept(): Promise<void> {
    this.server = net.createServer((client) => this.pipe(client));
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
  }

  /** Every chunk is forwarded `ms` later (0: at once); a slow network or a slow peer. */
  delay(ms: number): void {
    this.latencyMs = ms;
  }

  /** Open client connections. */
  get connections(): number {
    return this.sockets.size / 2;
  }

  cut(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    this.cut();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.sockets.add(client).add(upstream);
    // One FIFO per direction drained by one timer: bytes leave in the order they came (a timer per
    // chunk reordered them when two chunks got delays one millisecond apart).
    const forward = (from: net.Socket, to: net.Socket) => {
      const queue: Array<{ due: number; chunk: Buffer }> = [];
      let scheduled = false;
      const drain = () => {
        scheduled = false;
        while (queue.length > 0 && (queue[0]?.due ?? 0) <= Date.now()) {
          const { chunk } = queue.shift() as { chunk: Buffer };
          if (!to.destroyed) to.write(chunk);
        }
        if (queue.length > 0) schedule(Math.max(0, (queue[0]?.due ?? 0) - Date.now()));
      };
      const schedule = (ms: number) => {
        scheduled = true;
        setTimeout(drain, ms);
      };
      from.on('data', (chunk: Buffer) => {
        if (this.hanging) return;
        if (this.latencyMs === 0 && queue.length === 0) return void to.write(chunk);
        queue.push({ due: Date.now() + this.latencyMs, chunk });
        if (!scheduled) schedule(this.latencyMs);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  }
}
