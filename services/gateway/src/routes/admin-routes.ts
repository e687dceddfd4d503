// The admin page (/admin) and its figures as JSON (/admin/state.json), for the accounts on
// GATEWAY_ADMIN_EMAILS whose address is confirmed (AdminList.grants) only. Everyone else, an
// unconfirmed account on the list included, signed in or not, gets the same 404 as an address with
// no page at all: the page's existence is not revealed. The page needs a browser session; the JSON
// also takes an admin's API token (for scripts watching a load test).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Problem } from '../problem.ts';
import { accountOf } from '../plan-limits.ts';
import type { AdminState, Cached } from '../admin-state.ts';
import { adminPage } from '../web/pages/admin-page.ts';
import { sendPage } from '../web/send-page.ts';
import { signedIn } from '../web/viewer.ts';
import type { Identity } from '../authenticator.ts';
import type { WebDeps } from './web-deps.ts';

/** What the not-found handler answers for a page address. */
const noSuchPage = () => new Problem(404, 'Not Found', 'There is no page at this address.');

export function registerAdminRoutes(app: FastifyInstance, deps: WebDeps, state: Cached<AdminState>): void {
  /** The request's identity, or null; a malformed or unknown token is a 404 here too, not a 401. */
  const identity = async (req: FastifyRequest): Promise<Identity | null> => {
    try {
      return await deps.authn.identify(req);
    } catch {
      return null;
    }
  };

  app.get('/admin', async (req, reply) => {
    if ((await identity(req))?.via !== 'session' || !deps.admins?.size) throw noSuchPage();
    const who = await signedIn(req, reply, deps);
    if (!who?.viewer.admin) throw noSuchPage();
    return sendPage(reply, adminPage({ viewer: who.viewer, state: await state.get() }));
  });

  app.get('/admin/state.json', async (req, reply) => {
    const who = await identity(req);
    if (!who || !deps.admins?.size || !(await deps.admins.grants(who.userId, (await accountOf(deps.accounts, who.userId))?.email)))
      throw noSuchPage();
    return reply.header('Cache-Control', 'private, no-store').send(await state.get());
  });
}
