import { type Logger, pino } from 'pino';

export type { Logger };

/** JSON logs to stdout; secrets are redacted wherever they appear in a logged object. */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({
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
  });
}

/** Database URL with the password hidden, for logs. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}
