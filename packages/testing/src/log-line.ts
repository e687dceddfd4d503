// The JSON lines the runtime logger (pino) writes, read back by tests that check what was logged.

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
