import { describe, expect, it } from 'vitest';
import { classify, describeFailure, type FailureKind, isConnectionLost } from './classify.js';
import { PoolTimeoutError } from './pool.js';

/** A mysql2 error as the driver raises it: code, errno, sqlState, fatal for a lost connection. */
function driver(code: string, errno?: number, extra: object = {}): Error {
  return Object.assign(new Error(`${code} from the server`), { code, errno, ...extra });
}

/** drizzle's DrizzleQueryError: "Failed query: …", no code of its own, the mysql2 error as cause. */
function wrapped(cause: Error): Error {
  return new Error('Failed query: insert into `coupon_issue` … params: 1,2,3', { cause });
}

const stats = { active: 30, idle: 0, pending: 5, total: 30, max: 30, timeouts: 1 };

const table: Array<[string, unknown, FailureKind]> = [
  // connection: the pool or the link
  ['pool acquisition timeout', new PoolTimeoutError(1_000, stats), 'connection'],
  ['connection refused', driver('ECONNREFUSED', -111), 'connection'],
  ['connection lost (fatal)', driver('PROTOCOL_CONNECTION_LOST', undefined, { fatal: true }), 'connection'],
  ['any fatal error', driver('ER_SOMETHING', 9999, { fatal: true }), 'connection'],
  ['server shutting down', driver('ER_SERVER_SHUTDOWN', 1053), 'connection'],
  ['too many connections', driver('ER_CON_COUNT_ERROR', 1040), 'connection'],
  // server: states that pass
  ['--read-only', driver('ER_OPTION_PREVENTS_STATEMENT', 1290), 'server'],
  ['read-only transaction', driver('ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION', 1792), 'server'],
  ['table full', driver('ER_RECORD_FILE_FULL', 1114), 'server'],
  ['disk full', driver('ER_DISK_FULL', 1021), 'server'],
  ['lock wait timeout', driver('ER_LOCK_WAIT_TIMEOUT', 1205), 'server'],
  ['deadlock', driver('ER_LOCK_DEADLOCK', 1213), 'server'],
  ['query interrupted', driver('ER_QUERY_INTERRUPTED', 1317), 'server'],
  ['deadlock under the drizzle wrapper', wrapped(driver('ER_LOCK_DEADLOCK', 1213)), 'server'],
  ['deadlock by name, no errno', driver('ER_LOCK_DEADLOCK'), 'server'],
  // data: poison
  ['unknown coupon (foreign key)', driver('ER_NO_REFERENCED_ROW_2', 1452), 'data'],
  ['foreign key under the drizzle wrapper', wrapped(driver('ER_NO_REFERENCED_ROW_2', 1452)), 'data'],
  ['value too long', driver('ER_DATA_TOO_LONG', 1406), 'data'],
  ['duplicate key', driver('ER_DUP_ENTRY', 1062), 'data'],
  ['null into NOT NULL', driver('ER_BAD_NULL_ERROR', 1048), 'data'],
  ['out of range', driver('ER_WARN_DATA_OUT_OF_RANGE', 1264), 'data'],
  [
    "MariaDB's CHECK failure under MySQL's name for 4025",
    driver('ER_INNODB_AUTOEXTEND_SIZE_OUT_OF_RANGE', 4025),
    'data',
  ],
  ['foreign key by name, no errno', driver('ER_NO_REFERENCED_ROW_2'), 'data'],
  // unlisted: retried
  ['unknown table (migrations not run)', driver('ER_NO_SUCH_TABLE', 1146), 'unlisted'],
  ['syntax error (a bug hits every event alike)', driver('ER_PARSE_ERROR', 1064), 'unlisted'],
  ['an errno nobody listed', driver('ER_NEW_IN_NEXT_RELEASE', 4321), 'unlisted'],
  ['no code anywhere', new Error('issued counter moved under its lock'), 'unlisted'],
  ['not an Error at all', 'boom', 'unlisted'],
];

describe('classify: the persister failure taxonomy', () => {
  it.each(table)('%s → %s', (_, err, kind) => {
    const f = classify(err);
    expect(f.kind).toBe(kind);
    expect(f.retry).toBe(kind !== 'data');
  });

  it('error: read-only and full databases are never poison (they sent whole batches to the DLT)', () => {
    for (const errno of [1290, 1792, 1836, 1114, 1021, 3675, 1205, 1213]) {
      expect(classify(driver('ER_X', errno)).retry).toBe(true);
    }
  });

  it("happy: the description is the driver's code and message, not drizzle's query and params", () => {
    const f = classify(wrapped(driver('ER_DATA_TOO_LONG', 1406)));
    expect(f).toMatchObject({ code: 'ER_DATA_TOO_LONG', errno: 1406 });
    expect(describeFailure(f)).toBe('ER_DATA_TOO_LONG: ER_DATA_TOO_LONG from the server');
    expect(describeFailure(classify('boom'))).toBe('ERROR: boom');
  });

  it.each([
    ['fatal', driver('ER_X', 1, { fatal: true }), true],
    ['connection reset under the wrapper', wrapped(driver('ECONNRESET', -104)), true],
    ['deadlock (the connection is fine)', driver('ER_LOCK_DEADLOCK', 1213), false],
    ['data error', driver('ER_DUP_ENTRY', 1062), false],
  ])('isConnectionLost: %s → %s', (_, err, lost) => {
    expect(isConnectionLost(err)).toBe(lost);
  });
});
