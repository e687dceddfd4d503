import { JobStatus, JobService } from '@gas/proto';
import type { Job, ServiceClient } from '@gas/proto';
import type { Logger } from '@gas/runtime';

export interface JobCacheOptions {
  jobs: ServiceClient<typeof JobService>;
  logger: Pick<Logger, 'warn'>;
  /** Users whose jobs are kept; past this, the least recently read user's cache is closed. */
  maxUsers?: number;
  /** A user with more jobs than this is not cached (their reads ask the job service): memory stays bounded. */
  maxJobsPerUser?: number;
  /** A user's cache is closed when none of its jobs has been read for this long. */
  idleMs?: number;
  /** First wait before a broken stream is opened again; doubles up to 30 s while it keeps breaking. */
  retryMs?: number;
  /** A stream that has not caught up with the job list within this long is opened again. */
  syncTimeoutMs?: number;
}

/** One page of a user's jobs, as ListJobs answers it. */
export interface JobPage {
  jobs: Job[];
  nextPageToken: string;
  /**
   * From the cache: a number that changes whenever any of the user's cached jobs changes, and is
   * never reused, so whatever is made from a page (its JSON) can be kept until it does.
   */
  version?: number;
}

const WATCH_DEADLINE_MS = 6 * 3600_000;
const SNAPSHOT_PAGE = 100;

/** When the job last changed, in milliseconds: every change goes through one function that stamps it. */
const changedAt = (job: Job) => (job.updatedAt ? Number(job.updatedAt.seconds) * 1000 + Math.floor(job.updatedAt.nanos / 1e6) : 0);

/** Index of the first id ≥ `id` in ascending `ids`. */
function position(ids: string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Source of UserJobs versions: one counter for all users, so a cache opened again never repeats one. */
let changes = 0;

type State = 'syncing' | 'ready' | 'broken' | 'closed';
/** The state as it is now: other calls change it while follow() awaits, which TypeScript's narrowing cannot see. */
const stateOf = (u: { state: State }): State => u.state;

/** One user's jobs as the job service's WatchJobs stream has them, in id order (ULIDs: creation order). */
class UserJobs {
  state: State = 'syncing';
  lastRead = Date.now();
  readonly ac = new AbortController();
  private ids: string[] = [];
  private byId = new Map<string, Job>();
  /** Jobs deleted while this cache is open: an answer read before the delete never brings one back. */
  private deleted = new Set<string>();
  /** While syncing: jobs of the snapshot the stream has not yet caught up with (id → their updatedAt). */
  private behind: Map<string, number> | undefined;
  private snapshotTaken = false;
  private version = ++changes;

  constructor(readonly userId: string) {}

  reset(): void {
    this.version = ++changes;
    this.ids = [];
    this.byId = new Map();
    this.deleted = new Set();
    this.behind = undefined;
    this.snapshotTaken = false;
  }

  /** A job deleted (from the stream, or by a DeleteJob this gateway made): gone from the list at once. */
  remove(jobId: string): void {
    if (this.state === 'broken' || this.state === 'closed') return;
    this.deleted.add(jobId);
    this.behind?.delete(jobId);
    if (this.byId.delete(jobId)) {
      this.ids.splice(position(this.ids, jobId), 1);
      this.version = ++changes;
    }
    this.readyIfCaughtUp();
  }

  /** A job's state from the stream (in order), or one the gateway has just had from the job service. */
  apply(job: Job, fromStream: boolean): void {
    // Never another user's job, whatever arrives.
    if (job.userId !== this.userId || this.state === 'broken' || this.state === 'closed' || this.deleted.has(job.jobId)) return;
    const cur = this.byId.get(job.jobId);
    if (cur) {
      const [a, b] = [changedAt(cur), changedAt(job)];
      // The stream is in order, so on a tie its state is the newer; an answer from the job service
      // may be older than what the stream has already brought.
      if (b < a || (b === a && !fromStream)) return;
    } else if (this.ids.length === 0 || this.ids[this.ids.length - 1]! < job.jobId) {
      this.ids.push(job.jobId);
    } else {
      this.ids.splice(position(this.ids, job.jobId), 0, job.jobId);
    }
    this.byId.set(job.jobId, job);
    this.version = ++changes;
    const need = this.behind?.get(job.jobId);
    if (need !== undefined && changedAt(job) >= need) this.behind!.delete(job.jobId);
    this.readyIfCaughtUp();
  }

  /** The job list as of a moment after the stream opened: the cache is whole once the stream has each job at least as new. */
  snapshot(jobs: Job[]): void {
    this.behind = new Map();
    for (const j of jobs) {
      if (this.deleted.has(j.jobId)) continue;
      const cur = this.byId.get(j.jobId);
      if (!cur || changedAt(cur) < changedAt(j)) this.behind.set(j.jobId, changedAt(j));
    }
    this.snapshotTaken = true;
    this.readyIfCaughtUp();
  }

  private readyIfCaughtUp(): void {
    if (this.state === 'syncing' && this.snapshotTaken && this.behind!.size === 0) this.state = 'ready';
  }

  get(jobId: string): Job | undefined {
    return this.byId.get(jobId);
  }

  page(before: string, size: number, status: JobStatus): JobPage {
    let i = (before ? position(this.ids, before) : this.ids.length) - 1;
    const jobs: Job[] = [];
    for (; i >= 0 && jobs.length < size; i--) {
      const job = this.byId.get(this.ids[i]!)!;
      if (status === JobStatus.UNSPECIFIED || job.status === status) jobs.push(job);
    }
    return { jobs, nextPageToken: i >= 0 && jobs.length > 0 ? jobs[jobs.length - 1]!.jobId : '', version: this.version };
  }

  get size(): number {
    return this.ids.length;
  }
}

/**
 * The jobs of the users reading them now, kept in the gateway and fed by the job service's
 * WatchJobs stream, so the API's list and detail are memory reads rather than a gRPC call each.
 *
 * A user's cache opens on their first read (which, like every read until the cache is whole, is
 * answered by the job service). The stream sends each job's current state, then every change; it
 * says nothing when the replay is over, so the cache also reads the job list once (ListJobs) as
 * the stream opens, and is whole once the stream has brought every listed job at least as new
 * as listed. Jobs this gateway creates or reads from the job service go in at once (read-your-
 * writes on this replica), and those it deletes go out at once; changes made elsewhere arrive by
 * the stream (JetStream KV watch, within milliseconds), deletes as a `deleted` answer. When the
 * stream breaks (the job service restarts), the cache is emptied and reads go to the job service
 * until a new stream is whole again. Caches close after `idleMs` unread, and
 * at most `maxUsers` are open (least recently read first out); a user with more than
 * `maxJobsPerUser` jobs is not cached.
 */
export class JobCache {
  private readonly users = new Map<string, UserJobs>();
  private readonly maxUsers: number;
  private readonly maxJobsPerUser: number;
  private readonly idleMs: number;
  private readonly retryMs: number;
  private readonly syncTimeoutMs: number;
  private readonly sweep: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly opts: JobCacheOptions) {
    this.maxUsers = opts.maxUsers ?? 1000;
    this.maxJobsPerUser = opts.maxJobsPerUser ?? 5000;
    this.idleMs = opts.idleMs ?? 5 * 60_000;
    this.retryMs = opts.retryMs ?? 1000;
    this.syncTimeoutMs = opts.syncTimeoutMs ?? 30_000;
    this.sweep = setInterval(() => this.closeIdle(), Math.max(50, Math.min(this.idleMs / 2, 30_000)));
    this.sweep.unref();
  }

  /** One page of the user's jobs, newest first, or undefined when the cache cannot answer yet (ask the job service). */
  list(userId: string, before: string, size: number, status: JobStatus): JobPage | undefined {
    const u = this.read(userId);
    return u?.state === 'ready' ? u.page(before, size, status) : undefined;
  }

  /** The user's job, or undefined when the cache does not have it (ask the job service: it may be new, or no job). */
  get(userId: string, jobId: string): Job | undefined {
    const u = this.read(userId);
    return u?.state === 'ready' ? u.get(jobId) : undefined;
  }

  /** A job as the job service has just answered it (created, read): in the user's cache at once, if it has one. */
  saw(job: Job | undefined): void {
    if (job) this.users.get(job.userId)?.apply(job, false);
  }

  /** The user deleted the job through this gateway: out of their cache now, before the stream says so. */
  forget(userId: string, jobId: string): void {
    this.users.get(userId)?.remove(jobId);
  }

  /** The user's account was deleted through this gateway: their cache and its stream close now. */
  forgetUser(userId: string): void {
    const u = this.users.get(userId);
    if (u) this.drop(u);
  }

  /** Open caches and how many jobs each holds (tests, metrics). */
  stats(): { users: number; ready: number; jobs: number } {
    let ready = 0;
    let jobs = 0;
    for (const u of this.users.values()) {
      if (u.state === 'ready') ready++;
      jobs += u.size;
    }
    return { users: this.users.size, ready, jobs };
  }

  has(userId: string): boolean {
    return this.users.has(userId);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweep);
    for (const u of this.users.values()) this.drop(u);
  }

  private read(userId: string): UserJobs | undefined {
    if (this.closed) return undefined;
    let u = this.users.get(userId);
    if (u) {
      // Map order is the LRU order: the most recently read user goes last.
      this.users.delete(userId);
      this.users.set(userId, u);
      u.lastRead = Date.now();
      return u;
    }
    u = new UserJobs(userId);
    this.users.set(userId, u);
    if (this.users.size > this.maxUsers) this.drop(this.users.values().next().value!);
    void this.follow(u);
    return u;
  }

  private drop(u: UserJobs): void {
    u.state = 'closed';
    u.ac.abort();
    u.reset();
    if (this.users.get(u.userId) === u) this.users.delete(u.userId);
  }

  private closeIdle(): void {
    const before = Date.now() - this.idleMs;
    for (const u of [...this.users.values()]) if (u.lastRead < before) this.drop(u);
  }

  /** Keeps the user's stream open, opening it again after a break, until the cache is closed. */
  private async follow(u: UserJobs): Promise<void> {
    let wait = this.retryMs;
    while (u.state !== 'closed') {
      u.state = 'syncing';
      u.reset();
      const attempt = new AbortController();
      const signal = AbortSignal.any([u.ac.signal, attempt.signal]);
      const timer = setTimeout(() => {
        if (u.state === 'syncing') attempt.abort();
      }, this.syncTimeoutMs);
      try {
        // The list may be read before the stream's watch is in place: a job made or changed in
        // between is in the watch's replay all the same.
        const snapshot = this.takeSnapshot(u, signal).catch((err: unknown) => {
          if (!signal.aborted) this.opts.logger.warn({ err, userId: u.userId }, 'job cache: could not list the jobs');
          attempt.abort();
        });
        for await (const { job, deleted } of this.opts.jobs.watchJobs({ userId: u.userId }, { deadlineMs: WATCH_DEADLINE_MS, signal })) {
          if (job && deleted) u.remove(job.jobId);
          else if (job) u.apply(job, true);
        }
        await snapshot;
      } catch (err) {
        if (stateOf(u) !== 'closed' && !attempt.signal.aborted)
          this.opts.logger.warn({ err, userId: u.userId }, 'job cache: the watch broke');
      } finally {
        clearTimeout(timer);
      }
      if (stateOf(u) === 'closed') return;
      if (stateOf(u) === 'ready') wait = this.retryMs;
      u.state = 'broken';
      u.reset();
      await new Promise((r) => setTimeout(r, wait).unref());
      wait = Math.min(wait * 2, 30_000);
    }
  }

  private async takeSnapshot(u: UserJobs, signal: AbortSignal): Promise<void> {
    const jobs: Job[] = [];
    let token = '';
    do {
      const res = await this.opts.jobs.listJobs({ userId: u.userId, pageSize: SNAPSHOT_PAGE, pageToken: token }, { signal });
      jobs.push(...res.jobs);
      token = res.nextPageToken;
      if (jobs.length > this.maxJobsPerUser) {
        // Left open but never whole, so the user's reads go to the job service and no new cache
        // is opened for them until this one closes (idle or least recently read).
        u.state = 'closed';
        u.ac.abort();
        u.reset();
        return;
      }
    } while (token && !signal.aborted);
    if (!signal.aborted && u.state === 'syncing') u.snapshot(jobs);
  }
}
