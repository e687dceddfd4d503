import type { JetStreamClient } from '@nats-io/jetstream';
import type { Logger } from '@gas/runtime';
import {
  create,
  rpcErrors,
  timestampFromDate,
  AccountSchema,
  AccountEventSchema,
  AccountEventKind,
  AccountService,
  EmailConfirmationSchema,
  Plan,
  NotificationPrefsSchema,
} from '@gas/proto';
import type { ServiceImpl } from '@gas/proto';
import { publishProto, subjects, DUPLICATE_WINDOW_MS } from '@gas/messaging';
import type { AccountStore } from './account-store.ts';
import { USER_ID } from './ids.ts';

/**
 * At most one sign-up-attempt event per account in this time: whoever keeps posting the sign-up
 * form with someone's address cannot flood that person's mailbox.
 */
export const SIGN_UP_NOTE_WINDOW_MS = 60 * 60 * 1000;

const msOf = (t: { seconds: bigint; nanos: number } | undefined): number => (t ? Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6) : 0);

export function createAccountService(deps: {
  accounts: AccountStore;
  js: JetStreamClient;
  logger: Logger;
  now?: () => Date;
}): ServiceImpl<typeof AccountService> {
  const now = deps.now ?? (() => new Date());
  const check = (userId: string) => {
    if (!USER_ID.test(userId)) throw rpcErrors.invalidArgument('user_id must be 1-64 characters of A-Z a-z 0-9 _ -');
  };
  return {
    async getAccount(req) {
      check(req.userId);
      const found = await deps.accounts.get(req.userId);
      if (!found) throw rpcErrors.notFound(`account ${req.userId} not found`);
      return { account: found.account };
    },

    async upsertAccount(req) {
      const a = req.account;
      if (!a) throw rpcErrors.invalidArgument('account is required');
      check(a.userId);
      if (a.email && !/^[^\s@]+@[^\s@]+$/.test(a.email)) throw rpcErrors.invalidArgument('email is not an address');
      const at = timestampFromDate(now());
      const res = await deps.accounts.upsert(a.userId, (cur) =>
        create(AccountSchema, {
          userId: a.userId,
          plan: cur?.plan ?? Plan.FREE,
          email: a.email,
          name: a.name,
          institution: a.institution,
          notifications:
            a.notifications ?? cur?.notifications ?? create(NotificationPrefsSchema, { emailOnCompletion: true, emailOnFailure: true }),
          billingCustomerId: cur?.billingCustomerId ?? '',
          createdAt: cur?.createdAt ?? at,
          updatedAt: at,
          planChangedAt: cur?.planChangedAt,
          signUpAttemptNotedAt: cur?.signUpAttemptNotedAt,
        }),
      );
      return { account: res.account, created: res.created };
    },

    async setPlan(req) {
      check(req.userId);
      if (req.plan !== Plan.FREE && req.plan !== Plan.PREMIUM) throw rpcErrors.invalidArgument('plan must be FREE or PREMIUM');
      const res = await deps.accounts.upsert(req.userId, (cur) => {
        if (!cur) throw rpcErrors.notFound(`account ${req.userId} not found`);
        if (cur.plan === req.plan) return null;
        return create(AccountSchema, {
          ...cur,
          plan: req.plan,
          billingCustomerId: req.billingCustomerId || cur.billingCustomerId,
          updatedAt: timestampFromDate(now()),
          planChangedAt: timestampFromDate(now()),
        });
      });
      // A repeated call republishes only inside JetStream's duplicate window, where the same event id
      // is dropped: that covers a retry after a failed publish without announcing old changes again.
      const changedAt = Number(res.account.planChangedAt?.seconds ?? 0n) * 1000;
      if (!res.changed && now().getTime() - changedAt > DUPLICATE_WINDOW_MS) return { account: res.account };
      const kind = req.plan === Plan.PREMIUM ? AccountEventKind.UPGRADED : AccountEventKind.DOWNGRADED;
      const name = kind === AccountEventKind.UPGRADED ? 'upgraded' : 'downgraded';
      // One event per plan change: the time of the change makes the id unique and stable.
      const eventId = `${req.userId}.${name}.${res.account.planChangedAt?.seconds ?? 0}`;
      await publishProto(
        deps.js,
        subjects.accountEvent(name),
        AccountEventSchema,
        create(AccountEventSchema, { eventId, kind, account: res.account, occurredAt: timestampFromDate(now()) }),
        eventId,
      );
      if (res.changed) deps.logger.info({ userId: req.userId, plan: Plan[req.plan] }, 'plan changed');
      return { account: res.account };
    },

    async noteSignUpAttempt(req) {
      check(req.userId);
      const at = now();
      const res = await deps.accounts.upsert(req.userId, (cur) => {
        if (!cur) throw rpcErrors.notFound(`account ${req.userId} not found`);
        if (at.getTime() - msOf(cur.signUpAttemptNotedAt) < SIGN_UP_NOTE_WINDOW_MS) return null;
        return create(AccountSchema, { ...cur, signUpAttemptNotedAt: timestampFromDate(at) });
      });
      // As in SetPlan: inside JetStream's duplicate window a repeat re-publishes the same event id
      // (a retry after a failed publish; the copy is dropped); later in the hour nothing is published.
      const notedAt = res.account.signUpAttemptNotedAt;
      if (!res.changed && at.getTime() - msOf(notedAt) > DUPLICATE_WINDOW_MS) return { noted: false };
      const eventId = `${req.userId}.sign_up_attempted.${notedAt?.seconds ?? 0}`;
      await publishProto(
        deps.js,
        subjects.accountEvent('sign_up_attempted'),
        AccountEventSchema,
        // The time of the noted attempt, not of a re-publish, so every copy says the same.
        create(AccountEventSchema, { eventId, kind: AccountEventKind.SIGN_UP_ATTEMPTED, account: res.account, occurredAt: notedAt }),
        eventId,
      );
      if (res.changed) deps.logger.info({ userId: req.userId }, 'sign-up attempt with a registered address noted');
      return { noted: res.changed };
    },

    async requestEmailConfirmation(req) {
      check(req.userId);
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(req.requestId))
        throw rpcErrors.invalidArgument('request_id must be 1-64 characters of A-Z a-z 0-9 _ -');
      if (!req.token || !req.expiresAt) throw rpcErrors.invalidArgument('token and expires_at are required');
      const found = await deps.accounts.get(req.userId);
      if (!found) throw rpcErrors.notFound(`account ${req.userId} not found`);
      // The link proves the address it is mailed to; mailing it anywhere but the account's own
      // address would let the caller prove an address it does not hold.
      if (!found.account.email || found.account.email.toLowerCase() !== req.email.trim().toLowerCase())
        throw rpcErrors.failedPrecondition("email is not the account's address");
      const eventId = `${req.userId}.email_confirmation_requested.${req.requestId}`;
      await publishProto(
        deps.js,
        subjects.accountEvent('email_confirmation_requested'),
        AccountEventSchema,
        create(AccountEventSchema, {
          eventId,
          kind: AccountEventKind.EMAIL_CONFIRMATION_REQUESTED,
          account: found.account,
          occurredAt: timestampFromDate(now()),
          emailConfirmation: create(EmailConfirmationSchema, { email: found.account.email, token: req.token, expiresAt: req.expiresAt }),
        }),
        eventId,
      );
      // Never the token: whoever holds it can confirm the address.
      deps.logger.info({ userId: req.userId, eventId }, 'email confirmation requested');
      return {};
    },
  };
}
