import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Health } from './health.ts';
import type { Logger } from './logger.ts';

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

export interface OpsServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  health: Health;
  logger: Logger;
}

function send(res: ServerResponse, status: number, contentType: string, body: string, head: boolean): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(head ? undefined : body);
}

// The ops port is internal (probes and Prometheus), so it stays a dependency-free node:http server
// that cannot be taken down by the public API's plugins or load.
export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const { registry, health, logger } = opts;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? '';
    const head = method === 'HEAD';
    const path = (req.url ?? '').split('?', 1)[0];
    if (method !== 'GET' && !head) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n', false);
    switch (path) {
      case '/livez':
        return send(res, 200, 'text/plain; charset=utf-8', 'ok', head);
      case '/readyz': {
        const ready = health.isReady();
        // pid: which process answered, so a supervisor that chose the port can tell its own child from
        // another process that took the port first.
        const body = JSON.stringify({
          ready,
          started: health.started,
          shuttingDown: health.shuttingDown,
          checks: health.status(),
          pid: process.pid,
        });
        return send(res, ready ? 200 : 503, 'application/json; charset=utf-8', body, head);
      }
      case '/metrics':
        return send(res, 200, registry.contentType, await registry.metrics(), head);
      default:
        return send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err, url: req.url }, 'ops request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n', false);
      else res.destroy();
    });
  });
  server.on('clientError', (err, socket) => {
    logger.debug({ err }, 'ops client error');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'ops server error'));
  const port = (server.address() as AddressInfo).port;
  logger.info({ port }, 'ops server listening');

  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Prometheus keeps connections alive between scrapes; without this close() would wait for them.
        server.closeAllConnections();
      }),
  };
}
