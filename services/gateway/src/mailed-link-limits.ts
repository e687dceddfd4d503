// How often a link may be mailed to one address (an address confirmation, a password reset): a
// stranger who types someone's address must not be able to flood their mailbox. The times each
// link of the last day was sent are kept on the user's record; these say what the limits allow.

export interface MailedLinkTimes {
  /** How long a link works. */
  ttlMs: number;
  /** The least time between two links. */
  resendIntervalMs: number;
  /** At most this many links a day. */
  maxPerDay: number;
}

const DAY_MS = 24 * 3600_000;

/** The send times of the last day, oldest first, out of a record's list (older ones no longer count). */
export function sentInLastDay(sentAt: readonly string[] | undefined, now: number): string[] {
  return (sentAt ?? []).filter((at) => now - Date.parse(at) < DAY_MS);
}

/** How long until another link may be sent, given the last day's sends; 0: now. */
export function waitBeforeNextLink(sent: readonly string[], now: number, times: MailedLinkTimes): number {
  const waits = [
    sent.length > 0 ? Date.parse(sent[sent.length - 1]!) + times.resendIntervalMs - now : 0,
    sent.length >= times.maxPerDay ? Date.parse(sent[sent.length - times.maxPerDay]!) + DAY_MS - now : 0,
  ];
  return Math.max(0, ...waits);
}
