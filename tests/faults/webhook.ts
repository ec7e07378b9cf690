import { createServer, type Server } from 'node:http';
import { sleep } from '../support/index.js';

/** One alert of Alertmanager's webhook payload (version 4). */
export interface HookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

/** One notification as the receiver got it: when, on which path, and Alertmanager's JSON. */
export interface Notification {
  at: number;
  path: string;
  body: {
    receiver: string;
    status: 'firing' | 'resolved';
    groupLabels: Record<string, string>;
    alerts: HookAlert[];
  };
}

/** A webhook receiver for Alertmanager on 127.0.0.1: keeps every notification it is sent. */
export class WebhookReceiver {
  readonly received: Notification[] = [];
  private readonly startedAt = Date.now();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static start(port: number): Promise<WebhookReceiver> {
    return new Promise((resolve, reject) => {
      const hook: { r?: WebhookReceiver } = {};
      const server = createServer((req, res) => {
        let data = '';
        req.on('data', (c) => {
          data += c;
        });
        req.on('end', () => {
          try {
            hook.r?.received.push({ at: Date.now(), path: req.url ?? '/', body: JSON.parse(data) });
            res.writeHead(200).end();
          } catch {
            res.writeHead(400).end();
          }
        });
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        hook.r = new WebhookReceiver(server, port);
        resolve(hook.r);
      });
    });
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The first notification (already received or to come) with an alert that `match` accepts. */
  async waitFor(
    match: (a: HookAlert, n: Notification) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<Notification> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const n = this.received.find((x) => x.body.alerts.some((a) => match(a, x)));
      if (n) return n;
      if (Date.now() > until)
        throw new Error(`no notification ${what} within ${timeoutMs} ms: ${this.summary()}`);
      await sleep(100);
    }
  }

  /** What was received, one entry per notification, `atS` seconds after the receiver started. */
  summary(): string {
    return JSON.stringify(
      this.received.map((n) => ({
        atS: Math.round((n.at - this.startedAt) / 100) / 10,
        path: n.path,
        receiver: n.body.receiver,
        status: n.body.status,
        alerts: n.body.alerts.map((a) => `${a.status} ${a.labels.alertname}{service=${a.labels.service}}`),
      })),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
