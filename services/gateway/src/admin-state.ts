// What the admin page shows: the annotator work queue (the job service's GetQueueStats), the
// annotators announcing themselves, and what Kubernetes says about the annotator (admin-kube.ts).
// Read at most once every couple of seconds however often admins reload: the answer is cached and
// concurrent requests share one read.
import { JobService, timestampDate } from '@gas/proto';
import type { ServiceClient } from '@gas/proto';
import type { KubeReader, KubeSnapshot } from './admin-kube.ts';

/** How long one answer serves every admin. */
export const ADMIN_CACHE_MS = 2000;
/** The job service's deadline for the queue figures: the page waits no longer for them. */
const QUEUE_DEADLINE_MS = 2000;

/**
 * Who may see the admin page: the accounts whose address is on the operator's list (in any case)
 * and confirmed. Sign-up does not check addresses, so a listed address alone proves nothing: whoever
 * signed up first with one nobody had used yet would be an admin. `confirmed` says whether an
 * account has proven it owns its address (EmailConfirmations.isConfirmed); without it nobody is.
 */
export class AdminList {
  private readonly emails: Set<string>;
  constructor(
    emails: readonly string[],
    private readonly confirmed: (userId: string, email: string) => Promise<boolean> = () => Promise.resolve(false),
  ) {
    this.emails = new Set(emails.map((e) => e.trim().toLowerCase()).filter(Boolean));
  }

  /** Whether `userId`, whose account's address is `email`, is an admin: listed, and the address confirmed. */
  async grants(userId: string, email: string | undefined | null): Promise<boolean> {
    return this.includes(email) && (await this.confirmed(userId, email!));
  }

  /** Whether `email` is on the list; `email` is the account's (from the job service), the address the user signed up or in with. */
  includes(email: string | undefined | null): boolean {
    return Boolean(email) && this.emails.has(email!.trim().toLowerCase());
  }

  get size(): number {
    return this.emails.size;
  }
}

export interface QueueConsumerFigures {
  name: string;
  pending: number;
  ackPending: number;
  redelivered: number;
  waitingPulls: number;
  lastActive: string | null;
}

export interface QueueFigures {
  /** pending + ack-pending of the annotator consumer: what the autoscaler follows. */
  depth: number;
  waiting: number;
  running: number;
  oldestWaitingSince: string | null;
  /** Seconds the oldest waiting job has waited, when the figures were read. */
  oldestWaitingSeconds: number | null;
  consumers: QueueConsumerFigures[];
}

export interface AdminState {
  readAt: string;
  queue: { ok: true; value: QueueFigures } | { ok: false; error: string };
  /** Annotators heard from recently (their heartbeats), or null when the gateway does not listen. */
  annotators: Array<{ id: string; slots: number; busy: number }> | null;
  kubernetes: KubeSnapshot;
}

/** One read shared by every caller for `ttlMs` after it finished, and by every caller while it runs. */
export class Cached<T> {
  private value: { at: number; v: T } | undefined;
  private inFlight: Promise<T> | undefined;
  constructor(
    private readonly ttlMs: number,
    private readonly read: () => Promise<T>,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    if (this.value && this.now() - this.value.at < this.ttlMs) return Promise.resolve(this.value.v);
    this.inFlight ??= this.read().then(
      (v) => {
        this.value = { at: this.now(), v };
        this.inFlight = undefined;
        return v;
      },
      (err: unknown) => {
        this.inFlight = undefined;
        throw err;
      },
    );
    return this.inFlight;
  }
}

export interface AdminStateDeps {
  jobs: Pick<ServiceClient<typeof JobService>, 'getQueueStats'>;
  annotators?: { list(): Array<{ annotatorId: string; slots: number; busy: number }> };
  kube: KubeReader;
  now?: () => number;
}

/** The admin page's figures, each part on its own: one that cannot be read is said, the others still shown. */
export function adminStateReader(deps: AdminStateDeps): Cached<AdminState> {
  const now = deps.now ?? Date.now;
  return new Cached(
    ADMIN_CACHE_MS,
    async () => {
      const [queue, kubernetes] = await Promise.all([
        readQueue(deps.jobs, now).then(
          (value) => ({ ok: true as const, value }),
          (err: Error) => ({ ok: false as const, error: `the job service did not give the queue figures: ${err.message}` }),
        ),
        deps.kube
          .read()
          .catch((err: Error): KubeSnapshot => ({ available: false, reason: `Kubernetes could not be read: ${err.message}` })),
      ]);
      const annotators =
        deps.annotators
          ?.list()
          .map((a) => ({ id: a.annotatorId, slots: a.slots, busy: a.busy }))
          .sort((a, b) => a.id.localeCompare(b.id)) ?? null;
      return { readAt: new Date(now()).toISOString(), queue, annotators, kubernetes };
    },
    now,
  );
}

async function readQueue(jobs: AdminStateDeps['jobs'], now: () => number): Promise<QueueFigures> {
  const s = await jobs.getQueueStats({}, { deadlineMs: QUEUE_DEADLINE_MS });
  const since = s.oldestWaitingSince ? timestampDate(s.oldestWaitingSince) : null;
  return {
    depth: Number(s.depth),
    waiting: Number(s.waiting),
    running: Number(s.running),
    oldestWaitingSince: since?.toISOString() ?? null,
    oldestWaitingSeconds: since ? Math.max(0, Math.round((now() - since.getTime()) / 1000)) : null,
    consumers: s.consumers.map((c) => ({
      name: c.name,
      pending: Number(c.pending),
      ackPending: Number(c.ackPending),
      redelivered: Number(c.redelivered),
      waitingPulls: Number(c.waitingPulls),
      lastActive: c.lastActive ? timestampDate(c.lastActive).toISOString() : null,
    })),
  };
}
