import { pino } from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';

export type { Logger, DestinationStream };

const secretKeys = ['password', 'token', 'apiToken', 'secret', 'secretAccessKey', 'accessKeyId'];

// fast-redact has no recursive wildcard, so each key is listed at the depths our log objects use.
export const redactPaths: string[] = [
  ...secretKeys.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.headers.authorization',
  '*.headers.cookie',
];

export function createLogger(opts: { service: string; level?: string; destination?: DestinationStream }): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    base: { service: opts.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names read better than numbers in `kubectl logs` and log UIs.
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: redactPaths, censor: '[redacted]' },
  };
  // pino's default destination writes synchronously, so lines logged just before process.exit()
  // during shutdown are not lost.
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
