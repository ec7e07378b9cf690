import { createLogger } from '@coupon/kit';
import { describe, expect, it, vi } from 'vitest';
import { restartAfterCrash } from './restart.js';

const log = createLogger('persister', 'silent');

function consumer(failConnects = 0) {
  let fails = failConnects;
  return {
    connect: vi.fn(async () => {
      if (fails-- > 0) throw new Error('broker down');
    }),
    run: vi.fn(async () => undefined),
  };
}

describe('restartAfterCrash', () => {
  it('happy: a crash kafkajs does not restart from is restarted (connect, run), once per crash', async () => {
    const c = consumer();
    const onRestart = vi.fn();
    const crashed = restartAfterCrash(c, log, { delayMs: 5, stopped: () => false, onRestart });
    crashed(false);
    crashed(false); // a second report before the restart ran: still one restart
    await vi.waitFor(() => expect(onRestart).toHaveBeenCalledTimes(1));
    expect([c.connect.mock.calls.length, c.run.mock.calls.length]).toEqual([1, 1]);
  });

  it('happy: a crash kafkajs restarts from itself is left to it', async () => {
    const c = consumer();
    restartAfterCrash(c, log, { delayMs: 1, stopped: () => false })(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(c.connect).not.toHaveBeenCalled();
  });

  it('error: a restart that fails is tried again until it works', async () => {
    const c = consumer(2);
    const onRestart = vi.fn();
    restartAfterCrash(c, log, { delayMs: 2, stopped: () => false, onRestart })(false);
    await vi.waitFor(() => expect(onRestart).toHaveBeenCalledTimes(1));
    expect([c.connect.mock.calls.length, c.run.mock.calls.length]).toEqual([3, 1]);
  });

  it('happy: nothing restarts once the process is shutting down', async () => {
    const c = consumer();
    restartAfterCrash(c, log, { delayMs: 1, stopped: () => true })(false);
    await new Promise((r) => setTimeout(r, 20));
    expect(c.connect).not.toHaveBeenCalled();
  });
});
