import { describe, expect, it } from 'vitest';
import { isTransientDbError } from './pool.js';

/** drizzle's DrizzleQueryError: "Failed query: …", no code of its own, the mysql2 error as cause. */
function wrapped(cause: object): Error {
  return new Error('Failed query: insert into `coupon_issue` …', {
    cause: Object.assign(new Error('driver'), cause),
  });
}

describe('isTransientDbError looks through query wrappers', () => {
  it('error: a constraint failure under DrizzleQueryError is poison, not retried forever', () => {
    expect(isTransientDbError(wrapped({ code: 'ER_NO_REFERENCED_ROW_2', errno: 1452 }))).toBe(false);
    expect(isTransientDbError(wrapped({ code: 'ER_DATA_TOO_LONG' }))).toBe(false);
  });

  it('happy: connection loss and deadlocks under the wrapper stay transient', () => {
    expect(isTransientDbError(wrapped({ code: 'ECONNREFUSED' }))).toBe(true);
    expect(isTransientDbError(wrapped({ code: 'PROTOCOL_CONNECTION_LOST', fatal: true }))).toBe(true);
    expect(isTransientDbError(wrapped({ code: 'ER_LOCK_DEADLOCK' }))).toBe(true);
    expect(isTransientDbError(new Error('no code anywhere'))).toBe(true);
  });
});
