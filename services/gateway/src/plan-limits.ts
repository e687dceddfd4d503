import { Plan, RpcError, Status, AccountService } from '@gas/proto';
import type { Account, ServiceClient } from '@gas/proto';

export type PlanName = 'free' | 'premium';

export interface PlanLimits {
  freeMaxUploadBytes: number;
  /** The operator's cap, premium included. */
  maxUploadBytes: number;
}

/** The user's plan from the job service's account record; a user without one is on the free plan. */
export async function planOf(accounts: ServiceClient<typeof AccountService>, userId: string): Promise<PlanName> {
  return (await accountOf(accounts, userId))?.plan === Plan.PREMIUM ? 'premium' : 'free';
}

/** The user's account record, or null when they have none. */
export async function accountOf(accounts: ServiceClient<typeof AccountService>, userId: string): Promise<Account | null> {
  try {
    return (await accounts.getAccount({ userId })).account ?? null;
  } catch (err) {
    if (err instanceof RpcError && err.code === Status.NOT_FOUND) return null;
    throw err;
  }
}

export function uploadLimit(plan: PlanName, limits: PlanLimits): number {
  return plan === 'premium' ? limits.maxUploadBytes : limits.freeMaxUploadBytes;
}
