// Serves and calls protobuf-es (v2) service descriptors on @grpc/grpc-js. grpc-js only needs a path
// and (de)serialisers per method; protobuf-es supplies both from the generated descriptors.
import * as grpc from '@grpc/grpc-js';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, DescMethod, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import { RpcError } from './rpc-error.ts';

type Methods<S> = S extends GenService<infer R> ? R : never;
type In<M> = M extends { input: infer I extends DescMessage } ? I : never;
type Out<M> = M extends { output: infer O extends DescMessage } ? O : never;

export interface CallContext {
  /** Aborted when the caller cancels or its deadline passes. */
  signal: AbortSignal;
  metadata: grpc.Metadata;
  peer: string;
}

export type ServiceImpl<S extends GenService<GenServiceMethods>> = {
  [K in keyof Methods<S>]: Methods<S>[K] extends { methodKind: 'unary' }
    ? (req: MessageShape<In<Methods<S>[K]>>, ctx: CallContext) => Promise<MessageInitShape<Out<Methods<S>[K]>>>
    : Methods<S>[K] extends { methodKind: 'server_streaming' }
      ? (req: MessageShape<In<Methods<S>[K]>>, ctx: CallContext) => AsyncIterable<MessageInitShape<Out<Methods<S>[K]>>>
      : never;
};

export interface CallOptions {
  /** Milliseconds from now; every call has one (the client's default when not given). */
  deadlineMs?: number;
  signal?: AbortSignal;
}

export type ServiceClient<S extends GenService<GenServiceMethods>> = {
  [K in keyof Methods<S>]: Methods<S>[K] extends { methodKind: 'unary' }
    ? (req: MessageInitShape<In<Methods<S>[K]>>, opts?: CallOptions) => Promise<MessageShape<Out<Methods<S>[K]>>>
    : Methods<S>[K] extends { methodKind: 'server_streaming' }
      ? (req: MessageInitShape<In<Methods<S>[K]>>, opts?: CallOptions) => AsyncIterable<MessageShape<Out<Methods<S>[K]>>>
      : never;
} & { close(): void; waitForReady(timeoutMs: number): Promise<void> };

export function grpcServiceDefinition(service: GenService<GenServiceMethods>): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<MessageShape<DescMessage>, MessageShape<DescMessage>>> = {};
  for (const method of service.methods) {
    if (method.methodKind !== 'unary' && method.methodKind !== 'server_streaming') {
      throw new Error(`${service.typeName}.${method.name}: ${method.methodKind} is not supported by the bridge`);
    }
    def[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: method.methodKind === 'server_streaming',
      requestSerialize: (m: MessageShape<DescMessage>) => Buffer.from(toBinary(method.input, m)),
      requestDeserialize: (b: Buffer) => fromBinary(method.input, b),
      responseSerialize: (m: MessageShape<DescMessage>) => Buffer.from(toBinary(method.output, m)),
      responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
      originalName: method.localName,
    };
  }
  return def;
}

export interface BridgeLogger {
  error(obj: object, msg: string): void;
}

export interface ServiceOptions {
  logger?: BridgeLogger;
  /** Turns infrastructure errors the service knows (a NATS outage, say) into a precise status. */
  mapError?: (err: unknown) => RpcError | undefined;
}

function toServiceError(err: unknown, method: DescMethod, opts: ServiceOptions): Partial<grpc.ServiceError> {
  const logger = opts.logger;
  const mapped = err instanceof RpcError ? err : opts.mapError?.(err);
  if (mapped) {
    if (mapped !== err) logger?.error({ err, method: method.name }, 'rpc handler failed on a dependency');
    return { code: mapped.code, details: mapped.message };
  }
  // Anything else is a bug or an outage, not a domain answer: keep its text out of the reply.
  logger?.error({ err, method: method.name }, 'rpc handler failed');
  return { code: grpc.status.INTERNAL, details: `internal error in ${method.name}` };
}

/**
 * One reason for every cancelled call: grpc-js emits 'cancelled' after each normal unary call
 * too, and `abort()` without a reason builds a DOMException (with its stack) every time.
 */
const CANCELLED = new RpcError(grpc.status.CANCELLED, 'the call was cancelled');

function contextOf(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): CallContext {
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort(CANCELLED));
  return { signal: ac.signal, metadata: call.metadata, peer: call.getPeer() };
}

export function addService<S extends GenService<GenServiceMethods>>(
  server: grpc.Server,
  service: S,
  impl: ServiceImpl<S>,
  opts: ServiceOptions = {},
): void {
  const handlers: grpc.UntypedServiceImplementation = {};
  const byName = impl as unknown as Record<string, (req: unknown, ctx: CallContext) => unknown>;
  for (const method of service.methods) {
    const fn = byName[method.localName];
    if (!fn) throw new Error(`${service.typeName}.${method.name} has no implementation`);
    if (method.methodKind === 'unary') {
      handlers[method.localName] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        Promise.resolve()
          .then(() => fn.call(impl, call.request, contextOf(call)) as Promise<MessageInitShape<DescMessage>>)
          .then(
            (res) => callback(null, create(method.output, res)),
            (err) => callback(toServiceError(err, method, opts)),
          );
      };
    } else {
      handlers[method.localName] = (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const ctx = contextOf(call);
        void (async () => {
          try {
            for await (const res of fn.call(impl, call.request, ctx) as AsyncIterable<MessageInitShape<DescMessage>>) {
              if (ctx.signal.aborted) break;
              // Respect back-pressure so a slow watcher cannot grow our memory without bound.
              if (!call.write(create(method.output, res))) await new Promise((r) => call.once('drain', r));
            }
            if (!ctx.signal.aborted) call.end();
          } catch (err) {
            if (!ctx.signal.aborted) call.destroy(toServiceError(err, method, opts) as grpc.ServiceError);
          }
        })();
      };
    }
  }
  server.addService(grpcServiceDefinition(service), handlers);
}

function fromServiceError(err: grpc.ServiceError): RpcError {
  return new RpcError(err.code, err.details || err.message);
}

export function createClient<S extends GenService<GenServiceMethods>>(
  service: S,
  address: string,
  opts: { defaultDeadlineMs: number; credentials?: grpc.ChannelCredentials; channelOptions?: grpc.ChannelOptions },
): ServiceClient<S> {
  const Ctor = grpc.makeGenericClientConstructor(grpcServiceDefinition(service), service.typeName);
  const raw = new Ctor(address, opts.credentials ?? grpc.credentials.createInsecure(), opts.channelOptions) as unknown as Record<
    string,
    (...args: unknown[]) => grpc.ClientUnaryCall & grpc.ClientReadableStream<unknown>
  > &
    grpc.Client;
  const client: Record<string, unknown> = {
    close: () => raw.close(),
    waitForReady: (timeoutMs: number) =>
      new Promise<void>((resolve, reject) => raw.waitForReady(Date.now() + timeoutMs, (err) => (err ? reject(err) : resolve()))),
  };
  for (const method of service.methods) {
    const call = raw[method.localName]!.bind(raw);
    const callOptions = (o?: CallOptions): grpc.CallOptions => ({
      deadline: Date.now() + (o?.deadlineMs ?? opts.defaultDeadlineMs),
    });
    if (method.methodKind === 'unary') {
      client[method.localName] = (req: MessageInitShape<DescMessage>, o?: CallOptions) =>
        new Promise((resolve, reject) => {
          const c = call(create(method.input, req), new grpc.Metadata(), callOptions(o), (err: grpc.ServiceError | null, res: unknown) =>
            err ? reject(fromServiceError(err)) : resolve(res),
          );
          // A listener added to a signal that has already fired is never called.
          if (o?.signal?.aborted) c.cancel();
          else o?.signal?.addEventListener('abort', () => c.cancel(), { once: true });
        });
    } else {
      client[method.localName] = (req: MessageInitShape<DescMessage>, o?: CallOptions) => ({
        [Symbol.asyncIterator]: async function* () {
          // Aborted before it began (a client gone while the caller was still getting ready): never open it.
          if (o?.signal?.aborted) return;
          const stream = call(create(method.input, req), new grpc.Metadata(), callOptions(o));
          const onAbort = () => stream.cancel();
          o?.signal?.addEventListener('abort', onAbort, { once: true });
          try {
            for await (const msg of stream) yield msg;
          } catch (err) {
            if ((err as grpc.ServiceError).code === grpc.status.CANCELLED && o?.signal?.aborted) return;
            throw fromServiceError(err as grpc.ServiceError);
          } finally {
            o?.signal?.removeEventListener('abort', onAbort);
            stream.cancel();
          }
        },
      });
    }
  }
  return client as ServiceClient<S>;
}
