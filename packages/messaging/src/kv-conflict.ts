/**
 * True when a KV create/update lost a race: the key already exists, or its revision moved on.
 * The client reports both only in the message text.
 */
export function isRevisionConflict(err: unknown): boolean {
  return /wrong last sequence|key exists/i.test(String((err as Error)?.message ?? err));
}
