// The stream settings every service applies at startup. Each service declares the streams it uses
// (any may start first), so they must all read the same variables or the last to start would
// quietly undo the others' settings.
import { field } from '@gas/runtime';
import type { ConfigValues } from '@gas/runtime';
import { streamSpecs } from './streams.ts';

export const streamConfigSpec = {
  eventsMaxAgeDays: field.int('GAS_EVENTS_MAX_AGE_DAYS', { default: 7, min: 1, max: 365 }),
  natsReplicas: field.int('NATS_REPLICAS', { default: 1, min: 1, max: 5 }),
};

export type StreamConfig = ConfigValues<typeof streamConfigSpec>;

export function streamSpecsFrom(c: StreamConfig): ReturnType<typeof streamSpecs> {
  return streamSpecs({ eventsMaxAgeDays: c.eventsMaxAgeDays, replicas: c.natsReplicas });
}
