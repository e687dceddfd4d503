// Profile and API tokens of the signed-in user.
import type { FastifyInstance } from 'fastify';
import { create, AccountSchema, NotificationPrefsSchema } from '@gas/proto';
import type { AccountService, ServiceClient } from '@gas/proto';
import { TooManyTokensError } from '../identity/index.ts';
import type { UserStore } from '../identity/index.ts';
import { Problem } from '../problem.ts';
import { ULID } from '../job-view.ts';
import { emailSwitchesOf, isEmailChoice, profilePage, tokensPage } from '../web/pages/account-pages.ts';
import { sendPage } from '../web/send-page.ts';
import { signedIn } from '../web/viewer.ts';
import type { SignedIn } from '../web/viewer.ts';
import type { WebDeps } from './web-deps.ts';

type Form = Record<string, string | undefined>;

/** How long after a change the profile, asked to, says that the password was changed. */
const PASSWORD_NOTICE_MS = 10 * 60_000;

export function profileOf(who: SignedIn) {
  const a = who.account;
  return {
    name: a?.name ?? '',
    email: a?.email ?? '',
    institution: a?.institution ?? '',
    emailOnCompletion: a?.notifications?.emailOnCompletion ?? true,
    emailOnFailure: a?.notifications?.emailOnFailure ?? true,
  };
}

type Profile = ReturnType<typeof profileOf>;

/**
 * Writes the profile's fields to the user's account (the job service keeps the plan as it is).
 * Refused while the account is being deleted: UpsertAccount would make the deleted record again,
 * address included, with nobody left to sign in to it.
 */
export async function saveProfile(
  deps: { accounts: ServiceClient<typeof AccountService>; users: UserStore },
  userId: string,
  p: Profile,
): Promise<void> {
  if (await deps.users.deletionOf(userId))
    throw new Problem(409, 'Conflict', 'Your account is being deleted; finish deleting it from your profile, or sign out.');
  await deps.accounts.upsertAccount({
    account: create(AccountSchema, {
      userId,
      email: p.email,
      name: p.name,
      institution: p.institution,
      notifications: create(NotificationPrefsSchema, { emailOnCompletion: p.emailOnCompletion, emailOnFailure: p.emailOnFailure }),
    }),
  });
}

export function registerAccountRoutes(app: FastifyInstance, deps: WebDeps): void {
  const { authn, identity } = deps;

  app.get('/profile', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    const q = req.query as Form;
    const profile = profileOf(who);
    const {
      confirmed: emailConfirmed,
      jobMailHeld,
      hasPassword,
      passwordChangedAt,
      changedByLink,
    } = await deps.confirmations.addressState(who.userId, profile.email);
    const changedAt = passwordChangedAt ? Date.parse(passwordChangedAt) : 0;
    // The query only picks which notice; whether it is true is the account's state (a crafted
    // link cannot make the page say an address is confirmed, a link sent or a password changed).
    const notice = q.saved
      ? 'Your profile was saved.'
      : q.email === 'changed' && changedByLink
        ? `Your e-mail address is now ${profile.email}; we told your old address about the change.`
        : q.password === 'changed' && Date.now() - changedAt < PASSWORD_NOTICE_MS
          ? 'Your password was changed; your other sessions were signed out. We e-mailed you about it.'
          : q.confirmed && emailConfirmed
            ? 'Your e-mail address is confirmed.'
            : q.sent && !emailConfirmed
              ? `A new confirmation link is on its way to ${profile.email}; it works for 24 hours.`
              : null;
    const sessions = await identity.sessions.list(who.userId, authn.sessionId(req));
    const ended = q.sessions === 'ended' && sessions.every((s) => s.current) ? 'Your other browsers were signed out.' : null;
    return sendPage(
      reply,
      profilePage({ viewer: who.viewer, profile, emailConfirmed, jobMailHeld, hasPassword, sessions, notice: notice ?? ended }),
    );
  });

  app.post('/profile/sessions/end-others', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    authn.checkCsrf(req, who.session);
    const sessionsEnded = await identity.sessions.endAll(who.userId, { except: authn.sessionId(req) });
    req.log.info({ userId: who.userId, sessionsEnded }, 'other sessions signed out');
    return reply.redirect('/profile?sessions=ended#sessions', 303);
  });

  app.post('/profile', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    authn.checkCsrf(req, who.session);
    const f = (req.body ?? {}) as Form;
    const name = (f.name ?? '').trim();
    const institution = (f.institution ?? '').trim();
    // Job e-mails waiting for the address to be confirmed stay off, whatever the form says.
    const { confirmed: emailConfirmed, jobMailHeld } = await deps.confirmations.addressState(who.userId, who.account?.email);
    const profile = {
      ...profileOf(who),
      name,
      institution,
      // No choice sent (a form from before the radios): the preference stays as it was.
      ...(isEmailChoice(f.email) && !jobMailHeld ? emailSwitchesOf(f.email) : {}),
    };
    if (!name || name.length > 200 || institution.length > 200) {
      return sendPage(
        reply,
        profilePage({
          viewer: who.viewer,
          profile,
          emailConfirmed,
          jobMailHeld,
          error: 'Enter a name; name and institution may have at most 200 characters each.',
        }),
        400,
      );
    }
    await saveProfile({ accounts: deps.accounts, users: identity.users }, who.userId, profile);
    return reply.redirect('/profile?saved=1', 303);
  });

  app.get('/tokens', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    const notice = (req.query as Form).revoked ? 'The token was revoked.' : null;
    return sendPage(reply, tokensPage({ viewer: who.viewer, tokens: await identity.tokens.list(who.userId), notice }));
  });

  app.post('/tokens', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    authn.checkCsrf(req, who.session);
    const name = ((req.body as Form | undefined)?.name ?? '').trim();
    const again = async (status: number, error: string) =>
      sendPage(reply, tokensPage({ viewer: who.viewer, tokens: await identity.tokens.list(who.userId), error }), status);
    if (!name || name.length > 60) return again(400, 'Give the token a name of at most 60 characters.');
    try {
      const { token, info } = await identity.tokens.create(who.userId, name);
      req.log.info({ userId: who.userId, tokenId: info.tokenId }, 'API token created');
      // Shown once, in this response only; never cached.
      return sendPage(
        reply,
        tokensPage({ viewer: who.viewer, tokens: await identity.tokens.list(who.userId), created: { name, token } }),
        201,
      );
    } catch (err) {
      if (err instanceof TooManyTokensError) return again(409, err.message);
      throw err;
    }
  });

  app.post('/tokens/:id/revoke', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    authn.checkCsrf(req, who.session);
    const id = (req.params as { id: string }).id;
    if (!ULID.test(id) || !(await identity.tokens.revoke(who.userId, id))) throw new Problem(404, 'Not Found', 'You have no such token.');
    req.log.info({ userId: who.userId, tokenId: id }, 'API token revoked');
    return reply.redirect('/tokens?revoked=1', 303);
  });
}
