// The signed-in browser user of a page: their session (for the CSRF token), account (for the
// name and plan in the header) and unread notices (the header's badge).
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Plan, AccountService } from '@gas/proto';
import { accountOf } from '../plan-limits.ts';
import type { Account, ServiceClient } from '@gas/proto';
import type { Authenticator } from '../authenticator.ts';
import type { Session } from '../identity/index.ts';
import type { Viewer } from './layout.ts';
import { unreadNotices } from '../notice-view.ts';
import type { AdminList } from '../admin-state.ts';
import type { NoticeClient } from '../notice-view.ts';

export interface SignedIn {
  userId: string;
  session: Session;
  account: Account | null;
  viewer: Viewer;
}

/** Where a signed-out visitor goes back to after signing in: only paths on this site. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : '/jobs';
}

/**
 * Names the account a page and a live stream belong to, so a browser's pages never take another
 * account's live updates (after a sign-out and a sign-in in another tab). Not a secret: the page's
 * user sees it; it is a digest so the user id itself stays out of the markup.
 */
export function liveKey(userId: string): string {
  return createHash('sha256').update(`gas-live\0${userId}`).digest('base64url').slice(0, 22);
}

function viewerOf(account: Account | null, session: Session, admin = false): Viewer {
  return {
    ...(admin ? { admin: true } : {}),
    liveKey: liveKey(session.userId),
    email: account?.email ?? '',
    name: account?.name ?? '',
    plan: account?.plan === Plan.PREMIUM ? 'premium' : 'free',
    csrfToken: session.csrfToken,
  };
}

/**
 * The signed-in user, or null after sending the visitor to the sign-in page. For a GET the viewer
 * also carries the unread notice count, read alongside the account; a route that asks the
 * notification service anyway (the notices and job pages) passes `unreadNotices: false` and fills
 * it in from its own answer, so a page makes one notification call at most. Posts either redirect
 * or answer a form with its error: they go without.
 */
export async function signedIn(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: { authn: Authenticator; accounts: ServiceClient<typeof AccountService>; notices?: NoticeClient; admins?: AdminList },
  opts: { unreadNotices?: boolean } = {},
): Promise<SignedIn | null> {
  const identity = await deps.authn.identify(req);
  if (!identity || identity.via !== 'session') {
    void reply.redirect(`/signin?next=${encodeURIComponent(req.url)}`, 303);
    return null;
  }
  const countUnread = deps.notices && (opts.unreadNotices ?? (req.method === 'GET' || req.method === 'HEAD'));
  const [account, unread] = await Promise.all([
    accountOf(deps.accounts, identity.userId),
    countUnread ? unreadNotices(deps.notices!, identity.userId, req.log) : undefined,
  ]);
  // Asks whether the address is confirmed only for a listed one, so other pages pay nothing for it.
  const admin = deps.admins ? await deps.admins.grants(identity.userId, account?.email) : false;
  const viewer = { ...viewerOf(account, identity.session!, admin), unreadNotices: unread };
  return { userId: identity.userId, session: identity.session!, account, viewer };
}

/** The viewer for error pages: whoever is signed in, or nobody; never throws. */
export async function viewerIfAny(
  req: FastifyRequest,
  deps: { authn: Authenticator; accounts: ServiceClient<typeof AccountService> },
): Promise<Viewer | null> {
  try {
    const identity = await deps.authn.identify(req);
    if (!identity || identity.via !== 'session') return null;
    return viewerOf(await accountOf(deps.accounts, identity.userId), identity.session!);
  } catch {
    return null;
  }
}
