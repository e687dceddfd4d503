export { subjects } from './subjects.ts';
export type { JobEventKind, AccountEventKind } from './subjects.ts';
export { streamNames, streamSpecs, consumerSpecs, ensureStream, ensureStreams, ensureConsumer, DUPLICATE_WINDOW_MS } from './streams.ts';
export type { StreamSpec, ConsumerSpec, ConsumerOptions, EnsureAction } from './streams.ts';
export { connectNats, waitForJetStream } from './connection.ts';
export type { ConnectNatsOptions } from './connection.ts';
export { publishProto, decodeProto, PoisonMessageError } from './codec.ts';
export { ConsumeLoop, retryDelayMs } from './consume-loop.ts';
export type { Outcome, Handler, HandlerContext, ConsumeLoopOptions } from './consume-loop.ts';
export { consumerBacklog } from './queue-depth.ts';
export type { ConsumerBacklog } from './queue-depth.ts';
// Re-exported so services can type their handlers and wiring without importing NATS packages directly.
export { jetstream, jetstreamManager } from '@nats-io/jetstream';
export type { JetStreamClient, JetStreamManager, JsMsg, PubAck } from '@nats-io/jetstream';
export type { NatsConnection } from '@nats-io/transport-node';
export { streamConfigSpec, streamSpecsFrom } from './stream-config.ts';
export type { StreamConfig } from './stream-config.ts';
export { isRevisionConflict } from './kv-conflict.ts';
