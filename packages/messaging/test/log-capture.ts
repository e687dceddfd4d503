// A logger whose lines the tests can inspect.
import { Writable } from 'node:stream';
import { createLogger } from '@gas/runtime';
import type { Logger } from '@gas/runtime';

export function captureLogger(service = 'messaging-test'): { logger: Logger; lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: createLogger({ service, level: 'debug', destination }), lines };
}
