import { status as Status } from '@grpc/grpc-js';

/**
 * A failure with a precise gRPC status. Domain code throws these; the bridge sends the code and
 * message as they are, so callers can branch on `code` instead of parsing text.
 */
export class RpcError extends Error {
  constructor(
    readonly code: Status,
    message: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export const rpcErrors = {
  invalidArgument: (msg: string) => new RpcError(Status.INVALID_ARGUMENT, msg),
  notFound: (msg: string) => new RpcError(Status.NOT_FOUND, msg),
  alreadyExists: (msg: string) => new RpcError(Status.ALREADY_EXISTS, msg),
  permissionDenied: (msg: string) => new RpcError(Status.PERMISSION_DENIED, msg),
  failedPrecondition: (msg: string) => new RpcError(Status.FAILED_PRECONDITION, msg),
  aborted: (msg: string) => new RpcError(Status.ABORTED, msg),
  resourceExhausted: (msg: string) => new RpcError(Status.RESOURCE_EXHAUSTED, msg),
  unavailable: (msg: string) => new RpcError(Status.UNAVAILABLE, msg),
};

export function isRpcError(err: unknown, code?: Status): err is RpcError {
  return err instanceof RpcError && (code === undefined || err.code === code);
}

export { Status };
