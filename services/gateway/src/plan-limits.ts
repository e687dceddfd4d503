import { Plan, RpcError, Status, AccountService } from '@gas/proto';
import type { Account, InputLimitsSchema, ServiceClient } from '@gas/proto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { formatLimitBytes, formatLimitCount } from '@gas/anntools/format';

export type PlanName = 'free' | 'premium';

export interface PlanLimits {
  freeMaxUploadBytes: number;
  /** The operator's cap, premium included. */
  maxUploadBytes: number;
  /** Caps on the input once decompressed and on its records, free and for everyone; INPUT_LIMIT_DEFAULTS when not given. */
  freeMaxDecompressedBytes?: number;
  freeMaxRecords?: number;
  maxDecompressedBytes?: number;
  maxRecords?: number;
  /** How long free users' annotated files stay hot, for what pages say; FREE_RETENTION_DEFAULT_SECONDS when not given. */
  freeRetentionSeconds?: number;
}

/** The gateway's defaults (config.ts): free 1 GiB decompressed and 5 M records; 64 GiB and 500 M for everyone. */
export const INPUT_LIMIT_DEFAULTS = {
  freeMaxDecompressedBytes: 1024 ** 3,
  freeMaxRecords: 5_000_000,
  maxDecompressedBytes: 64 * 1024 ** 3,
  maxRecords: 500_000_000,
};

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

/** The caps a job of this plan carries to the annotator, with the words its failure reason needs. */
export function inputLimits(plan: PlanName, limits: PlanLimits): MessageInitShape<typeof InputLimitsSchema> {
  const l = { ...INPUT_LIMIT_DEFAULTS, ...withoutUndefined(limits) };
  const premium = plan === 'premium';
  const bytes = premium ? l.maxDecompressedBytes : l.freeMaxDecompressedBytes;
  const records = premium ? l.maxRecords : l.freeMaxRecords;
  return {
    maxDecompressedBytes: BigInt(bytes),
    maxRecords: BigInt(records),
    plan,
    beyond: premium
      ? 'this is the largest input this service accepts'
      : `premium allows ${formatLimitBytes(l.maxDecompressedBytes)} and ${formatLimitCount(l.maxRecords)} records`,
  };
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
