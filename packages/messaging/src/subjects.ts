export type JobEventKind = 'completed' | 'failed' | 'archived' | 'restored' | 'deleted';
export type AccountEventKind =
  | 'upgraded'
  | 'downgraded'
  | 'sign_up_attempted'
  | 'email_confirmation_requested'
  | 'deleted'
  | 'password_reset_requested'
  | 'password_changed'
  | 'email_change_requested'
  | 'email_changed';

export const subjects = {
  jobRequested: 'gas.jobs.requested',
  jobEvent: (kind: JobEventKind): string => `gas.events.job.${kind}`,
  accountEvent: (kind: AccountEventKind): string => `gas.events.account.${kind}`,
  allEvents: 'gas.events.>',
  archiveTimer: (name: string): string => {
    // Wildcards, blanks or empty tokens cannot be published to and would break gas.archive.> filtering.
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(name)) throw new Error(`invalid archive timer name: ${JSON.stringify(name)}`);
    return `gas.archive.${name}`;
  },
  allArchive: 'gas.archive.>',
  // Core NATS, no stream: presence is only worth knowing now (annotator-presence.ts).
  annotatorPresence: 'gas.presence.annotator',
  annotatorPresencePing: 'gas.presence.annotator.ping',
} as const;
