// Confirming the account's e-mail address: the link mailed to it (GET shows, POST confirms, with the
// session's CSRF token like every change) and a new link from the profile, within the resend limits.
import type { FastifyInstance } from 'fastify';
import { LINK_REFUSALS, confirmEmailPage } from '../web/pages/confirm-page.ts';
import { profilePage } from '../web/pages/account-pages.ts';
import { sendPage } from '../web/send-page.ts';
import { waitWords } from '../time-words.ts';
import { signedIn } from '../web/viewer.ts';
import type { WebDeps } from './web-deps.ts';
import { profileOf, saveProfile } from './account-routes.ts';

type Form = Record<string, string | undefined>;

export function registerConfirmRoutes(app: FastifyInstance, deps: WebDeps): void {
  const { authn, confirmations } = deps;

  // Signed out, the visitor signs in first and comes back here (next= keeps the token).
  app.get('/confirm-email', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    const token = (req.query as Form).token ?? '';
    const email = who.account?.email ?? '';
    const outcome = await confirmations.check(who.userId, email, token);
    const status = outcome === 'valid' || outcome === 'already' ? 200 : LINK_REFUSALS[outcome as keyof typeof LINK_REFUSALS].status;
    void reply.header('Cache-Control', 'private, no-store');
    return sendPage(reply, confirmEmailPage({ viewer: who.viewer, email, token, outcome }), status);
  });

  app.post('/confirm-email', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    authn.checkCsrf(req, who.session);
    const token = (req.body as Form | undefined)?.token ?? '';
    const email = who.account?.email ?? '';
    const { outcome, jobMailReleased } = await confirmations.confirm(who.userId, email, token);
    if (outcome === 'confirmed') {
      req.log.info({ userId: who.userId }, 'e-mail address confirmed');
      if (jobMailReleased) {
        // Job e-mails were off until now (sign-up); on, as everyone starts. Should this call fail,
        // the address stays confirmed and the profile lets the user turn them on.
        await saveProfile({ accounts: deps.accounts, users: deps.identity.users }, who.userId, {
          ...profileOf(who),
          emailOnCompletion: true,
          emailOnFailure: true,
        }).catch((err: unknown) => req.log.warn({ err, userId: who.userId }, 'job e-mails could not be turned on after confirmation'));
      }
      return reply.redirect('/profile?confirmed=1', 303);
    }
    if (outcome === 'already') return reply.redirect('/profile?confirmed=1', 303);
    req.log.info({ userId: who.userId, outcome }, 'e-mail confirmation refused');
    const status = LINK_REFUSALS[outcome as keyof typeof LINK_REFUSALS].status;
    return sendPage(reply, confirmEmailPage({ viewer: who.viewer, email, token: '', outcome }), status);
  });

  app.post('/profile/confirm-email', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    authn.checkCsrf(req, who.session);
    const email = who.account?.email ?? '';
    const res = await confirmations.request(who.userId, email);
    if (res.sent) {
      req.log.info({ userId: who.userId }, 'e-mail confirmation link requested');
      return reply.redirect('/profile?sent=1', 303);
    }
    if (res.reason === 'already') return reply.redirect('/profile?confirmed=1', 303);
    const again = (status: number, error: string) =>
      sendPage(reply, profilePage({ viewer: who.viewer, profile: profileOf(who), emailConfirmed: false, error }), status);
    if (res.reason === 'too-soon') {
      void reply.header('Retry-After', String(Math.ceil(res.retryInMs / 1000)));
      return again(
        429,
        `A link was sent a short while ago; check your mailbox (and its spam folder). You can ask for another in ${waitWords(res.retryInMs)}.`,
      );
    }
    return again(409, 'This account has no e-mail address of its own to confirm.');
  });
}
