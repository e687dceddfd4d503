// A logger whose lines the tests can inspect.
import { Writable } from 'node:stream';
import { createLogger } from '@gas/runtime';
import type { Logger } from '@gas/runtime';

/** One JSON line as the runtime logger writes it; the fields a call adds are `unknown` until checked. */
export interface LogLine {
  level?: string;
  time?: string;
  service?: string;
  msg?: string;
  /** pino's error serialiser output. */
  err?: { type?: string; message?: string; stack?: string };
  [key: string]: unknown;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(line: Record<string, unknown>, key: string): void {
  if (line[key] !== undefined && typeof line[key] !== 'string')
    throw new Error(`log line's ${key} is not a string: ${JSON.stringify(line)}`);
}

/** Parses one line, checking the fields LogLine types rather than trusting them. */
export function parseLogLine(text: string): LogLine {
  const line: unknown = JSON.parse(text);
  if (!isRecord(line)) throw new Error(`log line is not a JSON object: ${text}`);
  for (const key of ['level', 'time', 'service', 'msg']) optionalString(line, key);
  if (line.err !== undefined) {
    if (!isRecord(line.err)) throw new Error(`log line's err is not an object: ${text}`);
    for (const key of ['type', 'message', 'stack']) optionalString(line.err, key);
  }
  return line;
}

export function captureLogger(service = 'messaging-test'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(parseLogLine(l));
      cb();
    },
  });
  return { logger: createLogger({ service, level: 'debug', destination }), lines };
}
