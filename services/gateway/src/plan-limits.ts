import { Plan, RpcError, Status, AccountService } from '@gas/proto';
import type { ServiceClient } from '@gas/proto';

export type PlanName = 'free' | 'premium';

export interface PlanLimits {
  freeMaxUploadBytes: number;
  /** The operator's cap, premium included. */
  maxUploadBytes: number;
}

/** The user's plan from the job service's account record; a user without one is on the free plan. */
export async function planOf(accounts: ServiceClient<typeof AccountService>, userId: string): Promise<PlanName> {
  try {
    const { account } = await accounts.getAccount({ userId });
    return account?.plan === Plan.PREMIUM ? 'premium' : 'free';
  } catch (err) {
    if (err instanceof RpcError && err.code === Status.NOT_FOUND) return 'free';
    throw err;
  }
}

export function uploadLimit(plan: PlanName, limits: PlanLimits): number {
  return plan === 'premium' ? limits.maxUploadBytes : limits.freeMaxUploadBytes;
}
