import type { Logger } from './log.js';

type Step = { name: string; run: () => Promise<unknown> | unknown };

/**
 * Named shutdown steps run in registration order under one deadline: stop taking work, drain,
 * flush the producer, leave the group, close clients. A step that throws does not stop the rest.
 */
export class Shutdown {
  private readonly steps: Step[] = [];
  private started: Promise<void> | undefined;
  draining = false;

  constructor(
    private readonly log: Logger,
    private readonly deadlineMs: number,
  ) {}

  add(name: string, run: Step['run']): this {
    this.steps.push({ name, run });
    return this;
  }

  run(reason: string): Promise<void> {
    this.started ??= this.execute(reason);
    return this.started;
  }

  private async execute(reason: string): Promise<void> {
    this.draining = true;
    this.log.info({ reason }, 'shutdown started');
    const deadline = new Promise<'deadline'>((resolve) =>
      setTimeout(() => resolve('deadline'), this.deadlineMs).unref(),
    );
    const all = (async () => {
      for (const step of this.steps) {
        const t0 = performance.now();
        try {
          await step.run();
          this.log.info({ step: step.name, ms: Math.round(performance.now() - t0) }, 'shutdown step done');
        } catch (err) {
          this.log.error({ step: step.name, err }, 'shutdown step failed');
        }
      }
    })();
    if ((await Promise.race([all, deadline])) === 'deadline') {
      this.log.error({ deadlineMs: this.deadlineMs }, 'shutdown deadline passed');
    }
  }

  /** SIGTERM/SIGINT run the steps, then exit. */
  listen(): void {
    const onSignal = (sig: NodeJS.Signals) => {
      void this.run(sig).finally(() => process.exit(0));
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
}
