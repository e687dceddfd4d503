import type { Job } from '@gas/proto';
import { jobView } from './job-view.ts';
import type { JobPage } from './job-cache.ts';

/** Serialised views kept (about 1 KB each); past this, the least recently read go first. */
const VIEW_CACHE_SIZE = 10_000;
/** Encoded list pages kept, in bytes all told; past this, the least recently read go first. */
const PAGE_CACHE_BYTES = 32 * 1024 * 1024;

export type ViewSerializer = (view: ReturnType<typeof jobView>) => string;

interface CachedView {
  key: string;
  json: string;
  /** The UTF-8 bytes, made on the first answer that sends this view alone. */
  bytes?: Buffer;
}

interface CachedPage {
  version: number;
  body: Buffer;
}

/**
 * The API's JSON for jobs while they are unchanged, ready to send: a read of a job or of a list
 * page that has not changed costs a lookup and a write. Bytes rather than strings, because a
 * string is encoded to UTF-8 again on every write, which was a fifth of the gateway's CPU on a
 * list read of 20 jobs (25 KB).
 */
export class JobJsonCache {
  private readonly views = new Map<string, CachedView>();
  private readonly pages = new Map<string, CachedPage>();
  private pageBytes = 0;

  constructor(private readonly serialize: ViewSerializer) {}

  /** The job's view as JSON text. */
  json(job: Job): string {
    return this.view(job).json;
  }

  /** The job's view as UTF-8 bytes. */
  bytes(job: Job): Buffer {
    const v = this.view(job);
    return (v.bytes ??= Buffer.from(v.json));
  }

  /**
   * A list page (the JobList schema's shape) as UTF-8 bytes. A page from the cache, which says
   * its version, is kept until the user's jobs change; one from the job service is built each time.
   */
  page(userId: string, query: string, page: JobPage): Buffer {
    const key = `${userId}\n${query}`;
    const hit = this.pages.get(key);
    if (hit && hit.version === page.version) {
      this.pages.delete(key);
      this.pages.set(key, hit);
      return hit.body;
    }
    const items = page.jobs.map((j) => this.json(j));
    const body = Buffer.from(`{"jobs":[${items.join(',')}],"next_page_token":${JSON.stringify(page.nextPageToken || null)}}`);
    if (hit) this.forget(key, hit);
    if (page.version !== undefined) {
      this.pages.set(key, { version: page.version, body });
      this.pageBytes += body.length;
      for (const [k, p] of this.pages) {
        if (this.pageBytes <= PAGE_CACHE_BYTES) break;
        this.forget(k, p);
      }
    }
    return body;
  }

  private forget(key: string, page: CachedPage): void {
    this.pages.delete(key);
    this.pageBytes -= page.body.length;
  }

  /**
   * Every change of a job goes through one transition function that stamps `updatedAt`
   * (milliseconds); the key adds what can change twice within one.
   */
  private view(job: Job): CachedView {
    const u = job.updatedAt;
    const key = `${u?.seconds ?? 0}.${u?.nanos ?? 0}|${job.status}|${job.progressDone}|${job.resultState}|${job.attempt}`;
    const hit = this.views.get(job.jobId);
    this.views.delete(job.jobId);
    if (hit && hit.key === key) {
      this.views.set(job.jobId, hit);
      return hit;
    }
    const v: CachedView = { key, json: this.serialize(jobView(job)) };
    this.views.set(job.jobId, v);
    if (this.views.size > VIEW_CACHE_SIZE) this.views.delete(this.views.keys().next().value!);
    return v;
  }
}
