import type { AddressInfo } from 'node:net';
import net from 'node:net';

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
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
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
    const forward = (from: net.Socket, to: net.Socket) => {
      let due = 0; // chunks leave in order: a later chunk is never due before an earlier one
      from.on('data', (chunk) => {
        if (this.hanging) return;
        if (this.latencyMs === 0 && due <= Date.now()) return void to.write(chunk);
        due = Math.max(due, Date.now() + this.latencyMs);
        setTimeout(() => to.destroyed || to.write(chunk), due - Date.now());
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
