// The signed-in browser user of a page: their session (for the CSRF token) and account (for the
// name and plan in the header).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Plan, RpcError, Status, AccountService } from '@gas/proto';
import type { Account, ServiceClient } from '@gas/proto';
import type { Authenticator } from '../authenticator.ts';
import type { Session } from '../identity/index.ts';
import type { Viewer } from './layout.ts';

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

export async function accountOf(accounts: ServiceClient<typeof AccountService>, userId: string): Promise<Account | null> {
  try {
    return (await accounts.getAccount({ userId })).account ?? null;
  } catch (err) {
    if (err instanceof RpcError && err.code === Status.NOT_FOUND) return null;
    throw err;
  }
}

/** The signed-in user, or null after sending the visitor to the sign-in page. */
export async function signedIn(req: FastifyRequest, reply: FastifyReply, deps: { authn: Authenticator; accounts: ServiceClient<typeof AccountService> }): Promise<SignedIn | null> {
  const identity = await deps.authn.identify(req);
  if (!identity || identity.via !== 'session') {
    void reply.redirect(`/signin?next=${encodeURIComponent(req.url)}`, 303);
    return null;
  }
  const account = await accountOf(deps.accounts, identity.userId);
  return {
    userId: identity.userId,
    session: identity.session!,
    account,
    viewer: {
      email: account?.email ?? '',
      name: account?.name ?? '',
      plan: account?.plan === Plan.PREMIUM ? 'premium' : 'free',
      csrfToken: identity.session!.csrfToken,
    },
  };
}

/** The viewer for error pages: whoever is signed in, or nobody; never throws. */
export async function viewerIfAny(req: FastifyRequest, deps: { authn: Authenticator; accounts: ServiceClient<typeof AccountService> }): Promise<Viewer | null> {
  try {
    const identity = await deps.authn.identify(req);
    if (!identity || identity.via !== 'session') return null;
    const account = await accountOf(deps.accounts, identity.userId);
    return { email: account?.email ?? '', name: account?.name ?? '', plan: account?.plan === Plan.PREMIUM ? 'premium' : 'free', csrfToken: identity.session!.csrfToken };
  } catch {
    return null;
  }
}
