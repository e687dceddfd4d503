import type { NatsConnection } from '@gas/messaging';
import { jetstream } from '@gas/messaging';
import { Kvm } from '@nats-io/kv';
import { UserStore } from './user-store.ts';
import { SessionStore } from './session-store.ts';
import type { SessionTimes } from './session-store.ts';
import { ApiTokenStore } from './api-token-store.ts';

export { UserStore, EmailTakenError } from './user-store.ts';
export type { Credentials, DeletionMarker, PendingConfirmation } from './user-store.ts';
export { SessionStore, csrfTokenMatches, sessionUserKey } from './session-store.ts';
export type { Session, SessionTimes } from './session-store.ts';
export { ApiTokenStore, TooManyTokensError, MAX_TOKENS_PER_USER } from './api-token-store.ts';
export type { ApiTokenInfo } from './api-token-store.ts';
export { hashPassword, verifyPassword, passwordProblem, dummyHash, MIN_PASSWORD_LENGTH } from './password.ts';

/** The gateway's own buckets: credentials, sessions and API tokens. No other service reads them. */
export const identityBuckets = { users: 'gas-gateway-users', sessions: 'gas-gateway-sessions', tokens: 'gas-gateway-tokens' } as const;

export interface IdentityStores {
  users: UserStore;
  sessions: SessionStore;
  tokens: ApiTokenStore;
}

/** Opens (creating when missing) the three buckets. */
export async function openIdentityStores(nc: NatsConnection, opts: { replicas: number; sessions: SessionTimes }): Promise<IdentityStores> {
  const kvm = new Kvm(jetstream(nc));
  const base = { replicas: opts.replicas, history: 1, storage: 'file' as const };
  return {
    users: new UserStore(await kvm.create(identityBuckets.users, base)),
    // Sessions idle longer than idleMs are dropped by the bucket itself.
    sessions: new SessionStore(await kvm.create(identityBuckets.sessions, { ...base, ttl: opts.sessions.idleMs }), opts.sessions),
    tokens: new ApiTokenStore(await kvm.create(identityBuckets.tokens, base)),
  };
}
