import { createHash } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A notice's id: a ULID whose time is the event's and whose random part comes from the event id,
 * so notices sort by when things happened and a redelivered event names the notice it made before.
 */
export function noticeId(eventId: string, occurredAt: Date): string {
  let time = '';
  for (let t = Math.max(0, Math.floor(occurredAt.getTime())), i = 0; i < 10; i++, t = Math.floor(t / 32)) time = CROCKFORD[t % 32]! + time;
  // 80 bits of the hash, 5 bits at a time.
  const hash = createHash('sha256').update(eventId).digest();
  let bits = 0n;
  for (let i = 0; i < 10; i++) bits = (bits << 8n) | BigInt(hash[i]!);
  let rest = '';
  for (let i = 0; i < 16; i++, bits >>= 5n) rest = CROCKFORD[Number(bits & 31n)]! + rest;
  return time + rest;
}
