import { Counter, Histogram } from '@gas/runtime';
import type { Registry } from '@gas/runtime';

export type NotificationMetrics = ReturnType<typeof createNotificationMetrics>;

export function createNotificationMetrics(registry: Registry) {
  return {
    emails: new Counter({
      name: 'gas_notification_emails_total',
      help: 'Emails by notice kind and outcome: sent, retry (a transient failure, retried), refused (permanent), gave_up, not_wanted (preference), no_address, expired (an address confirmation, password reset or address change link that expired before it could be sent)',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    sendSeconds: new Histogram({
      name: 'gas_notification_send_seconds',
      help: 'From handing an email to the transport to its acceptance by the SMTP server (or the outbox file written)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    retries: new Counter({
      name: 'gas_notification_retries_total',
      help: 'Sends that were not the first attempt for their event',
      labelNames: ['kind'],
      registers: [registry],
    }),
    resends: new Counter({
      name: 'gas_notification_resends_total',
      help: 'Sends repeated because an earlier attempt was cut short mid-send (same Message-ID)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    permanentFailures: new Counter({
      name: 'gas_notification_permanent_failures_total',
      help: 'Emails the mail server refused for good (5xx, bad address): recorded, never retried',
      labelNames: ['kind'],
      registers: [registry],
    }),
    eventsErased: new Counter({
      name: 'gas_notification_events_erased_total',
      help: 'Events of deleted accounts and jobs (deleted: account, job) erased from GAS_EVENTS once every durable consumer had handled them',
      labelNames: ['deleted'],
      registers: [registry],
    }),
    confirmationDeletes: new Counter({
      name: 'gas_notification_confirmation_deletes_total',
      help: 'Events that carry a link token (kind: email_confirmation, password_reset, email_change, email_changed: its undo link, if any) deleted from GAS_EVENTS once handled, so the token leaves the stream: deleted, failed (left until the stream drops it)',
      labelNames: ['kind', 'outcome'],
      registers: [registry],
    }),
    noticesDeleted: new Counter({
      name: 'gas_notification_notices_deleted_total',
      help: 'In-app notices removed because the user deleted their job or their account',
      labelNames: ['kind'],
      registers: [registry],
    }),
    deletedJobEvents: new Counter({
      name: 'gas_notification_deleted_job_events_total',
      help: 'Events of a deleted job (redelivered or late) that made no notice and no email',
      labelNames: ['kind'],
      registers: [registry],
    }),
    accountsDeleted: new Counter({
      name: 'gas_notification_accounts_deleted_total',
      help: 'account.deleted events handled: the notices and read mark of the user removed, the account tombstone left (a redelivery after its email is done counts as a duplicate instead)',
      registers: [registry],
    }),
    deletedAccountEvents: new Counter({
      name: 'gas_notification_deleted_account_events_total',
      help: 'Events of a deleted account (redelivered or late; job or account events) that made no notice and no email',
      labelNames: ['kind'],
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'gas_notification_duplicate_events_total',
      help: 'Events delivered again after their notice and email were done',
      labelNames: ['kind'],
      registers: [registry],
    }),
  };
}
