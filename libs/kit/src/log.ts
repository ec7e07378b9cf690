import { type Logger, pino } from 'pino';
import { type LogShipConfig, LogShipper } from './log-ship.js';

export type { Logger };

const shippers = new WeakMap<Logger, LogShipper>();

/**
 * JSON logs to stdout; secrets are redacted wherever they appear in a logged object. Writes are
 * asynchronous (sonic-boom joins the lines logged while a write is pending) so a busy service does
 * not pay one blocking write per line; pino flushes what is pending when the process exits.
 * With `ship` (LOG_SHIP_URL) every line also goes to the log store through a LogShipper.
 */
export function createLogger(service: string, level = 'info', ship?: LogShipConfig): Logger {
  const stdout = pino.destination({ dest: 1, sync: false });
  const shipper = ship ? new LogShipper(ship) : undefined;
  const dest = shipper
    ? pino.multistream([
        { level: level as pino.Level, stream: stdout },
        { level: level as pino.Level, stream: shipper },
      ])
    : stdout;
  const log = pino(
    {
      level,
      base: { service },
      redact: {
        paths: [
          '*.password',
          '*.token',
          'headers.authorization',
          '*.headers.authorization',
          'DATABASE_URL',
          '*.DATABASE_URL',
          'DATABASE_READ_URL',
          '*.DATABASE_READ_URL',
        ],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    dest,
  );
  if (shipper) shippers.set(log, shipper);
  return log;
}

/** The shipper behind a logger made by createLogger with `ship`, for its metrics and shutdown flush. */
export function logShipperOf(log: Logger): LogShipper | undefined {
  return shippers.get(log);
}
