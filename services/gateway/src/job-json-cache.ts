import { gzipSync } from 'node:zlib';
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
  /** The body gzipped, made on the first answer to a client that takes gzip. */
  gzip?: Buffer;
}

/** What to send for a list page: its bytes, gzipped when the client takes that and the page was kept. */
export interface PageBody {
  body: Buffer;
  encoding?: 'gzip';
}

/** Pages smaller than this go as they are: gzip would save less than a TCP segment. */
const GZIP_MIN_BYTES = 1400;

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
   * its version, is kept until the user's jobs change, and so is its gzip for clients that take it
   * (browsers, k6, curl --compressed, Python's requests): a page of 20 jobs is 25 KB as it is and
   * about 3 KB gzipped, and writing 25 KB to the socket was a third of the gateway's CPU on a list
   * read. One from the job service is built each time and goes as it is (compressing it once would
   * cost more than sending it).
   */
  page(userId: string, query: string, page: JobPage, takesGzip = false): PageBody {
    const key = `${userId}\n${query}`;
    let kept = this.pages.get(key);
    if (kept && kept.version === page.version) {
      this.pages.delete(key);
      this.pages.set(key, kept);
    } else {
      if (kept) this.forget(key, kept);
      const items = page.jobs.map((j) => this.json(j));
      const body = Buffer.from(`{"jobs":[${items.join(',')}],"next_page_token":${JSON.stringify(page.nextPageToken || null)}}`);
      if (page.version === undefined) return { body };
      kept = { version: page.version, body };
      this.pages.set(key, kept);
      this.pageBytes += body.length;
      this.evictPages();
    }
    if (!takesGzip || kept.body.length < GZIP_MIN_BYTES) return { body: kept.body };
    if (!kept.gzip) {
      kept.gzip = gzipSync(kept.body);
      this.pageBytes += kept.gzip.length;
      this.evictPages();
    }
    return { body: kept.gzip, encoding: 'gzip' };
  }

  private evictPages(): void {
    for (const [k, p] of this.pages) {
      if (this.pageBytes <= PAGE_CACHE_BYTES) break;
      this.forget(k, p);
    }
  }

  private forget(key: string, page: CachedPage): void {
    this.pages.delete(key);
    this.pageBytes -= page.body.length + (page.gzip?.length ?? 0);
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
