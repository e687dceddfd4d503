import { LogController } from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Histogram, Logger } from '@gas/runtime';

const pathOf = (url: string) => {
  const q = url.indexOf('?');
  // The query may carry signed statements (upload tickets, sign-in links): never logged.
  return q === -1 ? url : url.slice(0, q);
};

/**
 * One line per request, when it is answered: method, route, path, status and duration (the
 * child logger adds the request id). Fastify's own pair of lines (incoming, completed) each ran
 * its request and reply serialisers through redaction, about a sixth of the gateway's CPU on a
 * cached API read. Requests with a body are also logged when they arrive: an upload can take
 * minutes, and the line says the gateway has it (operators, the shutdown test).
 */
export class RequestLog extends LogController {
  /**
   * Without redaction, which cost about 18 µs a line (the wildcard paths walk every object): the
   * request line holds only the fields below, none of them a secret.
   */
  private readonly lines: Logger;

  /**
   * `duration`, when given, is observed here too (method, route pattern or `unmatched`, status): one
   * call at the end of a request instead of an onResponse hook, whose runner Fastify then skips.
   */
  constructor(
    logger: Logger,
    private readonly duration?: Histogram<'method' | 'route' | 'status'>,
  ) {
    super();
    this.lines = logger.child({}, { redact: [] });
  }

  override incomingRequest(request: FastifyRequest): void {
    if (request.method === 'GET' || request.method === 'HEAD') return;
    request.log.info({ req: { method: request.method, url: pathOf(request.url) } }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const route = request.routeOptions.url;
    const elapsedMs = reply.elapsedTime;
    this.duration?.observe({ method: request.method, route: route ?? 'unmatched', status: String(reply.statusCode) }, elapsedMs / 1000);
    const line = {
      method: request.method,
      route: route ?? null,
      url: pathOf(request.url),
      status: reply.statusCode,
      ms: Math.round(elapsedMs * 10) / 10,
    };
    // An error may carry anything: its line goes through the redacting logger.
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else this.lines.info({ reqId: request.id, ...line }, 'request completed');
  }
}

type LogMethod = 'info' | 'error' | 'debug' | 'fatal' | 'warn' | 'trace' | 'silent';
type Bindings = Parameters<Logger['child']>[0];
type ChildOptions = Parameters<Logger['child']>[1];

/**
 * A request's logger (request.log), made into pino's child logger only when something logs with
 * it. Fastify makes one for every request, and pino serialises the bindings as it makes it, about
 * 6 µs; most requests never log through it (their one line goes through RequestLog's own logger).
 */
export class LazyRequestLogger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
    private readonly options: ChildOptions,
  ) {}

  private get logger(): Logger {
    return (this.made ??= this.parent.child(this.bindings, this.options) as unknown as Logger);
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  child(bindings: Bindings, options?: ChildOptions): Logger {
    return this.logger.child(bindings, options) as unknown as Logger;
  }

  info(...args: unknown[]): void {
    this.log('info', args);
  }
  error(...args: unknown[]): void {
    this.log('error', args);
  }
  warn(...args: unknown[]): void {
    this.log('warn', args);
  }
  debug(...args: unknown[]): void {
    this.log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.log('trace', args);
  }
  fatal(...args: unknown[]): void {
    this.log('fatal', args);
  }
  silent(): void {}

  private log(method: LogMethod, args: unknown[]): void {
    // A level that is off costs no child.
    if (!(this.made ?? this.parent).isLevelEnabled(method)) return;
    Reflect.apply(this.logger[method], this.logger, args);
  }
}
