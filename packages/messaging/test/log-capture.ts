// A logger whose lines the tests can inspect.
import { Writable } from 'node:stream';
import { createLogger } from '@gas/runtime';
import type { Logger } from '@gas/runtime';
import { parseLogLine } from '@gas/testing';
import type { LogLine } from '@gas/testing';

export type { LogLine };

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
