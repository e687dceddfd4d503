// The pages of a signed-in user: their jobs, one job, and the upload form.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { ulid } from 'ulid';
import { detectBuild, headerLines, storedResult, TSV_COLUMNS } from '@gas/anntools/format';
import { GenomeBuild, JobStatus, RpcError, Status } from '@gas/proto';
import type { Job } from '@gas/proto';
import { blobKey } from '@gas/storage';
import { jobView, resultKey, ULID } from '../job-view.ts';
import { queuePosition, queuePositions } from '../queue-position.ts';
import { emailProblems, jobNotices } from '../notice-view.ts';
import { archiveDueAt, archivedKinds, FREE_RETENTION_DEFAULT_SECONDS } from '../archived-results.ts';
import { Problem, asSentence } from '../problem.ts';
import { acceptUploads, OverLimitProblem, receiveUpload } from '../upload.ts';
import { HEADER_PEEK_BYTES, headText } from '../header-build.ts';
import { inputLimits, uploadLimit } from '../plan-limits.ts';
import { landingPage } from '../web/pages/auth-pages.ts';
import { jobsPage } from '../web/pages/jobs-page.ts';
import { jobPage } from '../web/pages/job-page.ts';
import type { Preview, Summary } from '../web/pages/job-page.ts';
import { uploadPage } from '../web/pages/upload-page.ts';
import { flankingGenesText } from '../web/pages/coverage-notes.ts';
import { formatBytes } from '../web/pages/job-status.ts';
import { sendPage } from '../web/send-page.ts';
import { signedIn } from '../web/viewer.ts';
import type { WebDeps } from './web-deps.ts';
import { registerJobDeleteRoutes } from './job-delete-routes.ts';

const PAGE_SIZE = 20;
const PREVIEW_SCAN_ROWS = 2000;
const PREVIEW_SHOW_ROWS = 25;
const LOG_BYTES = 64 * 1024;
/** The samples are the original GAS test files, called against hg19. */
const SAMPLE_BUILD = GenomeBuild.GRCH37;

type Query = Record<string, string | undefined>;

async function readText(stream: Readable, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let have = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    have += chunk.length;
    if (have >= maxBytes) {
      stream.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

/** The sample VCFs in `dir`, those no larger than `maxBytes` when given. */
export async function samplesIn(dir: string | undefined, maxBytes = Infinity): Promise<string[]> {
  if (!dir) return [];
  try {
    const names = (await readdir(dir)).filter((n) => /^[\w.-]+\.vcf(\.gz)?$/.test(n)).sort();
    const sizes = await Promise.all(names.map(async (n) => (await stat(join(dir, n))).size));
    return names.filter((_, i) => sizes[i]! <= maxBytes);
  } catch {
    return [];
  }
}

export function registerPageRoutes(app: FastifyInstance, deps: WebDeps): void {
  const { jobs, store } = deps;

  app.get('/', async (req, reply) => {
    if ((await deps.authn.identify(req))?.via === 'session') return reply.redirect('/jobs', 303);
    // After an account's deletion (account-delete-routes.ts): only a notice the gateway signed.
    const notice = deps.flash?.take(req, reply) ?? null;
    return sendPage(reply, landingPage({ freeLimit: formatBytes(deps.limits.freeMaxUploadBytes), notice }));
  });

  app.get('/jobs', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    const q = req.query as Query;
    const status = q.status && ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED'].includes(q.status) ? q.status : '';
    const pageToken = q.page && q.page.length < 200 ? q.page : '';
    const res = await jobs.listJobs({
      userId: who.userId,
      pageSize: PAGE_SIZE,
      pageToken,
      status: status ? JobStatus[status as keyof typeof JobStatus] : JobStatus.UNSPECIFIED,
    });
    const positions = await queuePositions(jobs, who.userId, res.jobs);
    const views = res.jobs.map((j) => jobView(j, { queuePosition: positions.get(j.jobId) }));
    // After a delete (job-delete-routes.ts). Said only when the named job is gone, so a crafted
    // link cannot make the page say a job of the user's was deleted when it was not.
    const deleted =
      q.deleted && ULID.test(q.deleted)
        ? await jobs.getJob({ userId: who.userId, jobId: q.deleted }).then(
            () => false,
            (err: unknown) => err instanceof RpcError && err.code === Status.NOT_FOUND,
          )
        : false;
    return sendPage(
      reply,
      jobsPage({
        viewer: who.viewer,
        jobs: views,
        status,
        nextPageToken: res.nextPageToken || null,
        olderPage: pageToken !== '',
        notice: deleted ? 'The job and its files were deleted.' : q.welcome ? 'Welcome to GAS. Upload a VCF to annotate it.' : null,
        noAnnotator: deps.annotators?.available() === 0,
      }),
    );
  });

  const viewWithQueue = async (j: Job) => jobView(j, { queuePosition: await queuePosition(jobs, j) });

  app.get('/jobs/:id', async (req, reply) => {
    // The job's notices answer the unread count too: one notification call for the page.
    const who = await signedIn(req, reply, deps, { unreadNotices: false });
    if (!who) return reply;
    const id = (req.params as { id: string }).id;
    if (!ULID.test(id)) throw new Problem(404, 'Not Found', 'There is no such job.');
    // Never rejects (undefined when the notification service does not answer).
    const noticesOfJob = jobNotices(deps.notices, who.userId, id, req.log);
    // The job service answers NOT_FOUND for another user's job: it is not told apart from a missing one.
    const { job } = await jobs.getJob({ userId: who.userId, jobId: id });
    const j = job!;
    const view = await viewWithQueue(j);
    const done = j.status === JobStatus.COMPLETED;
    // The summary and the log stay hot while the annotated files are in cold storage.
    const tableHot = done && !archivedKinds(j).includes('tsv');
    const [summary, preview, log] = done
      ? await Promise.all([readSummary(j), tableHot ? readPreview(j, req.query as Query) : null, readLog(j)])
      : [null, null, null];
    const retentionSeconds = deps.limits.freeRetentionSeconds ?? FREE_RETENTION_DEFAULT_SECONDS;
    const archiveAt = archiveDueAt(j, who.account, retentionSeconds);
    const notices = await noticesOfJob;
    return sendPage(
      reply,
      jobPage({
        viewer: { ...who.viewer, unreadNotices: notices?.unread },
        emailProblems: notices ? emailProblems(notices.notices) : [],
        job: view,
        summary,
        preview,
        log,
        retentionSeconds,
        archiveDueAt: archiveAt ? archiveAt.toISOString() : null,
        now: new Date(),
      }),
    );
  });

  registerJobDeleteRoutes(app, deps);

  async function readSummary(j: Job): Promise<Summary | null> {
    const key = resultKey(j, 'summary');
    if (!key) return null;
    try {
      return JSON.parse(await readText(await store.get('results', key), 4 * 1024 * 1024)) as Summary;
    } catch {
      return null;
    }
  }

  async function readLog(j: Job): Promise<string | null> {
    const key = resultKey(j, 'log');
    if (!key) return null;
    try {
      return await readText(await store.get('results', key), LOG_BYTES);
    } catch {
      return null;
    }
  }

  /** The first rows of the TSV, filtered by gene, region class and rsID. */
  async function readPreview(j: Job, q: Query): Promise<Preview | null> {
    const key = resultKey(j, 'tsv');
    if (!key) return null;
    const filter = {
      gene: (q.gene ?? '').trim().slice(0, 50),
      region: (q.region ?? '').trim().slice(0, 50),
      rsid: (q.rsid ?? '').trim().toLowerCase().slice(0, 20),
    };
    const show = ['CHROM', 'POS', 'REF', 'ALT', 'REGION', 'GENES', 'RSIDS', 'FUNCTION', 'AA_CHANGE'];
    const idx = show.map((c) => TSV_COLUMNS.indexOf(c));
    const col = (name: string) => TSV_COLUMNS.indexOf(name);
    const rows: string[][] = [];
    const regions = new Set<string>();
    let scanned = 0;
    let stream: Readable;
    try {
      stream = await store.get('results', key);
    } catch {
      return null;
    }
    // The table is stored gzip-compressed (jobs from before that: plain text).
    const text = storedResult('tsv', key).compressed ? stream.pipe(createGunzip()) : stream;
    const lines = createInterface({ input: text, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        if (scanned === 0 && line.startsWith('CHROM\t')) continue;
        scanned++;
        const cells = line.split('\t');
        const region = cells[col('REGION')] ?? '';
        regions.add(region);
        const genes = (cells[col('GENES')] ?? '').split('&');
        const rsids = (cells[col('RSIDS')] ?? '').toLowerCase().split('&');
        const match =
          (!filter.gene || genes.some((g) => g.toLowerCase() === filter.gene.toLowerCase())) &&
          (!filter.region || region === filter.region) &&
          (!filter.rsid || rsids.includes(filter.rsid.startsWith('rs') ? filter.rsid : `rs${filter.rsid}`));
        if (match && rows.length < PREVIEW_SHOW_ROWS)
          rows.push(
            idx.map((i) => (i === col('GENES') && region === 'intergenic' ? flankingGenesText(cells[i] ?? '') : readable(cells[i] ?? ''))),
          );
        if (scanned >= PREVIEW_SCAN_ROWS) break;
      }
    } catch {
      // A damaged file: the page shows no preview rather than failing.
      return null;
    } finally {
      lines.close();
      stream.destroy();
      text.destroy();
    }
    return { columns: show, rows, scanned, filter, regions: [...regions].filter(Boolean).sort() };
  }

  app.get('/upload', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    const limit = uploadLimit(who.viewer.plan, deps.limits);
    return sendPage(reply, uploadPage({ viewer: who.viewer, limitBytes: limit, samples: await samplesIn(deps.samplesDir, limit) }));
  });

  // The upload page's script sends the start of the chosen file and preselects the build this
  // answers: the same detection as the upload's own check, so the page holds no copy of its rules.
  app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: HEADER_PEEK_BYTES }, (_req, body, done) =>
      done(null, body),
    );
    scope.post('/upload/build-hint', async (req) => {
      await deps.authn.apiUser(req);
      const head = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const { build, basis } = detectBuild(headerLines(await headText(head)));
      return { build, basis };
    });
  });

  // The form's own post, for browsers without the page script (which posts to the API instead).
  void app.register(async (uploads) => {
    await acceptUploads(uploads, deps.limits);
    uploads.post('/upload', async (req, reply) => {
      const who = await signedIn(req, reply, deps);
      if (!who) return reply;
      try {
        const { job } = await receiveUpload(req, who.userId, deps, who.viewer.plan);
        return reply.redirect(`/jobs/${job.jobId}`, 303);
      } catch (err) {
        if (!(err instanceof Problem) || err.status >= 500 || err.status === 403) throw err;
        const limit = uploadLimit(who.viewer.plan, deps.limits);
        return sendPage(
          reply,
          uploadPage({
            viewer: who.viewer,
            limitBytes: limit,
            samples: await samplesIn(deps.samplesDir, limit),
            error: asSentence(err.detail ?? err.title),
          }),
          err.status,
        );
      }
    });
  });

  app.post('/upload/sample', async (req, reply) => {
    const who = await signedIn(req, reply, deps);
    if (!who) return reply;
    deps.authn.checkCsrf(req, who.session);
    const name = (req.body as Query | undefined)?.sample ?? '';
    const samples = await samplesIn(deps.samplesDir);
    if (!samples.includes(name)) throw new Problem(404, 'Not Found', 'There is no such sample file.');
    const path = join(deps.samplesDir!, name);
    const size = (await stat(path)).size;
    const plan = who.viewer.plan;
    if (size > uploadLimit(plan, deps.limits)) throw new OverLimitProblem(plan, uploadLimit(plan, deps.limits));
    const jobId = ulid();
    const inputKey = blobKey(who.userId, jobId, name);
    await store.put('inputs', inputKey, createReadStream(path), { maxBytes: size });
    const res = await jobs.createJob({
      userId: who.userId,
      jobId,
      genomeBuild: SAMPLE_BUILD,
      inputName: name,
      inputSize: BigInt(size),
      inputKey,
      idempotencyKey: '',
      inputLimits: inputLimits(plan, deps.limits),
    });
    return reply.redirect(`/jobs/${res.job!.jobId}`, 303);
  });
}

/** A TSV cell for people: lists separated by commas, "NONE" (no flanking gene) as a dash. */
function readable(cell: string): string {
  return cell
    .split('&')
    .map((v) => (v === 'NONE' ? '–' : v))
    .join(', ');
}
