/**
 * What a failed database write means for the events it carried: the persister's one taxonomy
 * (docs/decisions/0015-unlisted-db-errors-retry.md). Only an error that is certainly about the
 * event's data is poison (the writer narrows it down row by row into the DLT); everything else,
 * including any error not listed here, backs off and retries the same batch.
 */

export type FailureKind =
  /** The pool or the connection: acquisition timed out, the server went away, the link broke. */
  | 'connection'
  /** The server refuses writes for now: read-only, full, locks, interrupted, out of resources. */
  | 'server'
  /** The row itself: a constraint or a value the same statement will hit again. Poison. */
  | 'data'
  /** Not listed: retried, and worth a look (the log names the code). */
  | 'unlisted';

export interface Failure {
  kind: FailureKind;
  /** True for every kind but `data`. */
  retry: boolean;
  /** The driver's code (`ER_…`, `ECONNREFUSED`, …) or `ERROR` when it has none. */
  code: string;
  errno?: number;
  message: string;
}

/** Client-side codes (mysql2, node's net) and server codes that mean the connection is gone. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_SERVER_GONE_ERROR',
  'ER_CONNECTION_KILLED',
  'ER_CLIENT_INTERACTION_TIMEOUT',
]);

/**
 * Server errors that depend on the row's values. Compared by errno when there is one: mysql2 names
 * errnos after MySQL's list, where some of MariaDB's numbers mean other things (MariaDB's CHECK
 * failure 4025 arrives as ER_INNODB_AUTOEXTEND_SIZE_OUT_OF_RANGE); by name otherwise.
 */
const DATA_ERRNOS = new Map<number, string>([
  [1048, 'ER_BAD_NULL_ERROR'],
  [1062, 'ER_DUP_ENTRY'],
  [1216, 'ER_NO_REFERENCED_ROW'],
  [1263, 'ER_WARN_NULL_TO_NOTNULL'],
  [1264, 'ER_WARN_DATA_OUT_OF_RANGE'],
  [1292, 'ER_TRUNCATED_WRONG_VALUE'],
  [1300, 'ER_INVALID_CHARACTER_STRING'],
  [1365, 'ER_DIVISION_BY_ZERO'],
  [1366, 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD'],
  [1406, 'ER_DATA_TOO_LONG'],
  [1452, 'ER_NO_REFERENCED_ROW_2'],
  [1586, 'ER_DUP_ENTRY_WITH_KEY_NAME'],
  [1690, 'ER_DATA_OUT_OF_RANGE'],
  [3819, 'ER_CHECK_CONSTRAINT_VIOLATED'], // MySQL
  [4025, 'ER_CONSTRAINT_FAILED'], // MariaDB
]);

/**
 * Server states that pass, by errno. Listed so the log can say `server` rather than `unlisted`; an
 * errno missing here is retried all the same.
 */
const SERVER_ERRNOS = new Map<number, string>([
  [1021, 'ER_DISK_FULL'],
  [1026, 'ER_ERROR_ON_WRITE'],
  [1030, 'ER_GET_ERRNO'],
  [1037, 'ER_OUTOFMEMORY'],
  [1041, 'ER_OUT_OF_RESOURCES'],
  [1114, 'ER_RECORD_FILE_FULL'],
  [1203, 'ER_TOO_MANY_USER_CONNECTIONS'],
  [1205, 'ER_LOCK_WAIT_TIMEOUT'],
  [1206, 'ER_LOCK_TABLE_FULL'],
  [1213, 'ER_LOCK_DEADLOCK'],
  [1290, 'ER_OPTION_PREVENTS_STATEMENT'], // --read-only
  [1317, 'ER_QUERY_INTERRUPTED'],
  [1792, 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION'],
  [1836, 'ER_READ_ONLY_MODE'],
  [3675, 'ER_DISK_FULL_NOWAIT'],
]);

type DriverError = {
  code?: unknown;
  errno?: unknown;
  fatal?: unknown;
  retryable?: unknown;
  message?: unknown;
};

/**
 * The driver's error under any wrappers: drizzle throws DrizzleQueryError ("Failed query: …") with
 * the mysql2 error, which carries `code`, `errno` and `fatal`, as its `cause`.
 */
function driverError(err: unknown): DriverError {
  let e = err;
  for (let depth = 0; depth < 5; depth++) {
    if (!(e instanceof Error) || (e as DriverError).code !== undefined || e.cause === undefined) break;
    e = e.cause;
  }
  return (typeof e === 'object' && e !== null ? e : { message: String(e) }) as DriverError;
}

/** True when the connection the error came from cannot be used again (the pool destroys it). */
export function isConnectionLost(err: unknown): boolean {
  const e = driverError(err);
  return e.fatal === true || (typeof e.code === 'string' && CONNECTION_CODES.has(e.code));
}

function listed(table: Map<number, string>, errno: number | undefined, code: string): boolean {
  if (errno !== undefined && errno > 0) return table.has(errno);
  for (const name of table.values()) if (name === code) return true;
  return false;
}

/** The one verdict on a failed write; see the module's comment. */
export function classify(err: unknown): Failure {
  const e = driverError(err);
  const code = typeof e.code === 'string' ? e.code : 'ERROR';
  const errno = typeof e.errno === 'number' ? e.errno : undefined;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const base = { code, message, ...(errno === undefined ? {} : { errno }) };
  // A domain error that says so (PoolTimeoutError: the pool is exhausted) is taken at its word.
  if (e.retryable === true || isConnectionLost(err)) return { kind: 'connection', retry: true, ...base };
  if (listed(DATA_ERRNOS, errno, code)) return { kind: 'data', retry: false, ...base };
  if (listed(SERVER_ERRNOS, errno, code)) return { kind: 'server', retry: true, ...base };
  return { kind: 'unlisted', retry: true, ...base };
}

/** `CODE: message`, for logs and DLT entries (drizzle's wrapper would add the whole query and params). */
export function describeFailure(f: Failure): string {
  return `${f.code}: ${f.message}`;
}
