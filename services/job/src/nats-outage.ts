import { errors } from '@nats-io/nats-core';
import { JetStreamError } from '@nats-io/jetstream';
import { rpcErrors } from '@gas/proto';
import type { RpcError } from '@gas/proto';

const outage = [
  errors.TimeoutError,
  errors.ClosedConnectionError,
  errors.DrainingConnectionError,
  errors.ConnectionError,
  errors.RequestError,
  errors.NoRespondersError,
];

/**
 * NATS and JetStream failures are outages of our store, not bugs: callers get UNAVAILABLE (retry)
 * rather than INTERNAL.
 */
export function natsOutageToRpc(err: unknown): RpcError | undefined {
  if (outage.some((cls) => err instanceof cls) || err instanceof JetStreamError) {
    return rpcErrors.unavailable('the job store (NATS JetStream) is unavailable; retry shortly');
  }
  return undefined;
}
