import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';

/** A payload that can never be decoded; consumers `term` it instead of retrying. */
export class PoisonMessageError extends Error {
  readonly typeName: string;

  constructor(typeName: string, cause: unknown) {
    super(`cannot decode ${typeName}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'PoisonMessageError';
    this.typeName = typeName;
  }
}

export async function publishProto<Desc extends DescMessage>(
  js: JetStreamClient,
  subject: string,
  schema: Desc,
  message: MessageShape<Desc>,
  msgId: string,
): Promise<PubAck> {
  if (msgId === '') throw new Error('publishProto needs a msgId so retries are deduplicated');
  return js.publish(subject, toBinary(schema, message), { msgID: msgId });
}

export function decodeProto<Desc extends DescMessage>(schema: Desc, data: Uint8Array): MessageShape<Desc> {
  try {
    return fromBinary(schema, data);
  } catch (err) {
    throw new PoisonMessageError(schema.typeName, err);
  }
}
