import { JobStatus, RpcError, Status } from '@gas/proto';
import type { Account, AccountService, Job, JobService, ServiceClient } from '@gas/proto';

const absent = (err: unknown) => err instanceof RpcError && err.code === Status.NOT_FOUND;

/** Jobs and accounts as the job service has them now, with "not there" as null rather than an error. */
export class JobRecords {
  constructor(
    readonly jobs: ServiceClient<typeof JobService>,
    private readonly accounts: ServiceClient<typeof AccountService>,
  ) {}

  async job(userId: string, jobId: string): Promise<Job | null> {
    try {
      return (await this.jobs.getJob({ userId, jobId })).job ?? null;
    } catch (err) {
      if (absent(err)) return null;
      throw err;
    }
  }

  /** Null for a user without an account record (API-token users): they are on the free plan. */
  async account(userId: string): Promise<Account | null> {
    try {
      return (await this.accounts.getAccount({ userId })).account ?? null;
    } catch (err) {
      if (absent(err)) return null;
      throw err;
    }
  }

  /** Every completed job of the user, newest first. */
  async *completedJobs(userId: string): AsyncGenerator<Job> {
    let pageToken = '';
    do {
      const page = await this.jobs.listJobs({ userId, pageSize: 100, pageToken, status: JobStatus.COMPLETED });
      yield* page.jobs;
      pageToken = page.nextPageToken;
    } while (pageToken);
  }
}
