import type { KV } from '@nats-io/kv';

/**
 * What happened to each event's email, in the `gas-notification-sends` KV bucket (key: the event
 * id), written before a send ("sending") and after it ("sent", "refused", "gave-up"). A delivery
 * that finds "sending" knows an earlier attempt died mid-send: it cannot tell whether the server
 * took the mail, so it sends again with the same Message-ID, which is what lets the receiving side
 * (and our tests) recognise the copy.
 */
export type SendState = 'sending' | 'retrying' | 'sent' | 'refused' | 'gave-up';

export interface SendRecord {
  state: SendState;
  at: string;
  messageId: string;
  attempts: number;
  detail?: string;
}

const FINAL: ReadonlySet<SendState> = new Set(['sent', 'refused', 'gave-up']);

export const isFinal = (r: SendRecord | null): boolean => Boolean(r && FINAL.has(r.state));

export class SendLog {
  constructor(private readonly kv: KV) {}

  static key(eventId: string): string {
    return eventId.replace(/[^A-Za-z0-9._-]/g, '-');
  }

  async get(eventId: string): Promise<SendRecord | null> {
    const e = await this.kv.get(SendLog.key(eventId));
    return e && e.operation === 'PUT' && e.value.length > 0 ? e.json<SendRecord>() : null;
  }

  async put(eventId: string, record: SendRecord): Promise<void> {
    await this.kv.put(SendLog.key(eventId), JSON.stringify(record));
  }
}
