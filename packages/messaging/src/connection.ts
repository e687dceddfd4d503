import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from '@gas/runtime';

const RECONNECT_WAIT_MS = 1000;

export interface ConnectNatsOptions {
  servers: string | string[];
  /** Shown in the server's connection list (`/connz`), so use the service name. */
  name: string;
  logger: Logger;
  /** Extra client options (credentials, TLS); the reconnect policy is always ours. */
  options?: Partial<NodeConnectionOptions>;
  /** Aborting gives up waiting for the first connection (e.g. shutdown during startup). */
  signal?: AbortSignal;
  /** Told true when connected and false while disconnected, so readiness can follow the connection. */
  onConnectionChange?: (connected: boolean) => void;
}

// A service must outlive NATS restarts and start before NATS is reachable (pods start in any
// order), so the first connection is retried like every later one, and reconnects never give up.
export async function connectNats(opts: ConnectNatsOptions): Promise<NatsConnection> {
  const { logger } = opts;
  const servers = Array.isArray(opts.servers) ? opts.servers : [opts.servers];
  for (let attempt = 1; ; attempt++) {
    opts.signal?.throwIfAborted();
    try {
      const nc = await connect({
        ...opts.options,
        servers,
        name: opts.name,
        maxReconnectAttempts: -1,
        reconnectTimeWait: RECONNECT_WAIT_MS,
        waitOnFirstConnect: false,
        // Otherwise every request (each KV read and write, each JetStream publish) builds two
        // errors up front just for their stack traces, in case it fails: about a seventh of the
        // job service's CPU under CreateJob load. A failed request still says what failed.
        noAsyncTraces: true,
      });
      logger.info({ server: nc.getServer(), attempt }, 'connected to NATS');
      opts.onConnectionChange?.(true);
      void logStatus(nc, logger, opts.onConnectionChange ?? (() => undefined));
      return nc;
    } catch (err) {
      // Log the first failure and then every tenth, so a long NATS outage is visible but not noisy.
      if (attempt === 1 || attempt % 10 === 0) logger.warn({ err, servers, attempt }, 'cannot connect to NATS yet; retrying');
      await sleep(RECONNECT_WAIT_MS, undefined, { signal: opts.signal }).catch(() => {});
    }
  }
}

async function logStatus(nc: NatsConnection, logger: Logger, onChange: (connected: boolean) => void): Promise<void> {
  for await (const s of nc.status()) {
    switch (s.type) {
      case 'disconnect':
        onChange(false);
        logger.warn({ server: s.server }, 'NATS disconnected');
        break;
      case 'reconnect':
        onChange(true);
        logger.info({ server: s.server }, 'NATS reconnected');
        break;
      case 'reconnecting':
        logger.debug('NATS reconnecting');
        break;
      case 'error':
        logger.error({ err: s.error }, 'NATS error');
        break;
      case 'ldm':
        logger.warn({ server: s.server }, 'NATS server entering lame duck mode');
        break;
      case 'staleConnection':
        logger.warn('NATS connection stale');
        break;
      case 'slowConsumer':
        logger.warn({ subject: s.sub.getSubject(), pending: s.pending }, 'NATS slow consumer');
        break;
      case 'close':
        onChange(false);
        logger.info('NATS connection closed');
        break;
      default:
        break;
    }
  }
}

export async function waitForJetStream(nc: NatsConnection, opts: { timeoutMs: number; logger?: Logger }): Promise<JetStreamManager> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (let attempt = 1; ; attempt++) {
    try {
      // jetstreamManager() asks the server for account info, so it fails until JetStream answers.
      return await jetstreamManager(nc, { timeout: Math.max(500, Math.min(5000, deadline - Date.now())) });
    } catch (err) {
      lastError = err;
      if (attempt === 1) opts.logger?.warn({ err }, 'JetStream not available yet; retrying');
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(500, left));
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(`JetStream did not answer within ${opts.timeoutMs} ms: ${reason}`, { cause: lastError });
}
