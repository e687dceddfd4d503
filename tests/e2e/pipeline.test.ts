// One job all the way through real processes: gateway → job → GAS_JOBS → annotator → blob store →
// job → GAS_EVENTS → notification and archive. Once with the filesystem store and the annotator's
// main thread only, once with S3 and an annotation worker thread.
import t from 'tap';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { createReadStream, existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { parseMail, startGasStack, sharedDataPath, testReferenceDir } from '@gas/testing';
import { annotateVcf, loadReferenceFile } from '@gas/anntools';
import type { GasStack } from '@gas/testing';
import { JobStatus } from '@gas/proto';

const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
const FREE_1_RECORDS = 1141;
const FREE_1_ALLELES = 1173;

const GIAB_100KB = sharedDataPath('vcf/grch37/GIAB_NA12878_hg19_chr20_10.0-10.1Mb.vcf.gz');
const htslibMissing =
  existsSync('/usr/bin/bcftools') && existsSync('/usr/bin/tabix')
    ? false
    : '/usr/bin/bcftools or /usr/bin/tabix is not installed (Debian bcftools, tabix)';

/** A compressed result's text (the VCF is BGZF, the TSV gzip). */
async function gunzipped(res: Response): Promise<string> {
  return gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8');
}

/** The annotated VCF the engine makes in this process, to compare with what the service stored. */
async function expectedVcf(input: string): Promise<string> {
  const reference = await loadReferenceFile(join(await testReferenceDir(), 'GRCh37.gasref'));
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await annotateVcf({ input: createReadStream(input), vcfOut: out, reference });
  return Buffer.concat(chunks).toString();
}

for (const [store, workerThreads] of [
  ['filesystem', '0'],
  ['s3', '1'],
] as const) {
  t.test(`pipeline with the ${store} store and ${workerThreads} annotation worker threads`, async (t) => {
    const stack: GasStack = await startGasStack({ store, env: { annotator: { ANNOTATOR_WORKER_THREADS: workerThreads } } });
    t.teardown(() => stack.stop());

    t.test('free_1.vcf goes PENDING → RUNNING → COMPLETED and its results download with the right counts', async (t) => {
      const user = stack.users[0]!;
      const seen = await stack.watchStatuses(user.userId);
      const res = await stack.submit(user, FREE_1, { genomeBuild: 'GRCh37' });
      t.equal(res.status, 201, await res.clone().text());
      const created = (await res.json()) as { id: string; status: string; input_name: string };
      t.equal(created.status, 'PENDING');
      t.equal(created.input_name, 'free_1.vcf');
      const job = await stack.waitForJob(user, created.id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED');
      t.equal(job.status, 'COMPLETED', JSON.stringify(job));
      t.strictSame(await seen.stop(created.id), [JobStatus.PENDING, JobStatus.RUNNING, JobStatus.COMPLETED]);
      t.equal(job.counts.records, FREE_1_RECORDS);
      t.equal(job.counts.alleles, FREE_1_ALLELES);

      const vcf = await stack.api(user, `/api/v1/jobs/${created.id}/result`);
      t.equal(vcf.status, 200);
      t.match(vcf.headers.get('content-disposition') ?? '', /filename="free_1\.annot\.vcf\.gz"/);
      t.equal(vcf.headers.get('content-type'), 'application/gzip', 'stored and served as BGZF');
      const text = await gunzipped(vcf);
      const dataLines = text.split('\n').filter((l) => l && !l.startsWith('#'));
      t.equal(dataLines.length, FREE_1_RECORDS);
      // Original columns untouched; INFO keeps its content and gains the GAS_ fields. One check over
      // all the lines (not two per line), listing every line that differs.
      const input = (await readFile(FREE_1, 'utf8')).split('\n').filter((l) => l && !l.startsWith('#'));
      const changed = dataLines.flatMap((line, i) => {
        const out = line.split('\t');
        const orig = input[i]!.split('\t');
        const sameColumns = [...out.slice(0, 7), ...out.slice(8)].join('\t') === [...orig.slice(0, 7), ...orig.slice(8)].join('\t');
        return sameColumns && out[7]!.startsWith(`${orig[7]};GAS_REGION=`) ? [] : [{ record: i + 1, input: input[i], output: line }];
      });
      t.strictSame(changed, [], 'every record keeps its columns, and its INFO gains GAS_REGION after the original');

      const log = await stack.api(user, `/api/v1/jobs/${created.id}/log`);
      t.equal(log.status, 200);
      t.match(await log.text(), new RegExp(`^Total: ${FREE_1_RECORDS}$`, 'm'));

      // The completion event reached both GAS_EVENTS consumers: the notification service wrote the
      // email to the outbox (no SMTP server in this stack), the archive service decided.
      const emailName = `${created.id}.completed.eml`;
      // The archive service acks the completion once it has decided (a premium user's job: no timer).
      const archived = /gas_archive_messages_total\{[^}]*consumer="archive"[^}]*outcome="ack"[^}]*\} [1-9]/;
      const delivered = await stack.eventually(
        async () => {
          const files = await readdir(stack.outboxDir).catch(() => [] as string[]);
          const email = files.includes(emailName) ? await parseMail(await readFile(join(stack.outboxDir, emailName))) : undefined;
          return { files, email, archive: await stack.metrics('archive') };
        },
        (d) => Boolean(d.email) && archived.test(d.archive),
      );
      t.ok(delivered.files.includes(emailName), delivered.files.join(','));
      t.equal(delivered.email?.headers.get('to'), `${user.userId}@example.org`);
      t.equal(delivered.email?.subject, 'GAS: free_1.vcf is annotated');
      t.match(delivered.email?.text, `${stack.url}/jobs/${created.id}`);
      t.match(delivered.archive, archived);
    });

    t.test('a GRCh37 job is annotated with genes, regions and rsIDs; TSV and summary download', async (t) => {
      const user = stack.users[0]!;
      const res = await stack.submit(user, GIAB_100KB, { genomeBuild: 'GRCh37' });
      t.equal(res.status, 201, await res.clone().text());
      const { id } = (await res.json()) as { id: string };
      const job = await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED');
      t.equal(job.status, 'COMPLETED', JSON.stringify(job));
      const summary = (await (await stack.api(user, `/api/v1/jobs/${id}/summary`)).json()) as {
        build: string;
        records: number;
        regions: Record<string, number>;
        annotatedAlleles: number;
      };
      t.equal(summary.build, 'GRCh37');
      t.equal(summary.records, job.counts.records);
      t.ok(summary.annotatedAlleles > 0);
      // chr20:10.0-10.1 Mb holds ANKRD5 (10,015,696-10,037,407): some variants must fall in it.
      const genic = Object.entries(summary.regions)
        .filter(([k]) => k !== 'intergenic')
        .reduce((n, [, v]) => n + v, 0);
      t.ok(genic > 0, JSON.stringify(summary.regions));
      const tsv = await gunzipped(await stack.api(user, `/api/v1/jobs/${id}/tsv`));
      const rows = tsv.trimEnd().split('\n');
      t.equal(rows[0]!.split('\t')[6], 'REGION');
      t.ok(rows.length - 1 >= job.counts.records);
      t.ok(
        rows.some((r) => /\tintronic\t|\texonic\t|\tUTR[35]\t/.test(r)),
        'no genic rows',
      );
      const vcfRes = await stack.api(user, `/api/v1/jobs/${id}/result`);
      const vcfBytes = Buffer.from(await vcfRes.arrayBuffer());
      const vcf = gunzipSync(vcfBytes).toString('utf8');
      t.match(vcf, /^##INFO=<ID=GAS_REGION,/m);
      t.equal(vcf, await expectedVcf(GIAB_100KB), 'the service stored what the engine makes');
      const tbiRes = await stack.api(user, `/api/v1/jobs/${id}/tbi`);
      t.equal(tbiRes.status, 200);
      t.equal(tbiRes.headers.get('content-type'), 'application/octet-stream');
      t.match(tbiRes.headers.get('content-disposition') ?? '', /filename="GIAB_NA12878_hg19_chr20_10\.0-10\.1Mb\.annot\.vcf\.gz\.tbi"/);
      const tbi = Buffer.from(await tbiRes.arrayBuffer());
      t.equal(gunzipSync(tbi).subarray(0, 4).toString('latin1'), 'TBI\x01');
      t.test('bcftools and tabix read the downloaded result with its index', { skip: htslibMissing }, async (t) => {
        const dir = t.testdir();
        const file = join(dir, 'result.vcf.gz');
        await writeFile(file, vcfBytes);
        await writeFile(`${file}.tbi`, tbi);
        const records = vcf.split('\n').filter((l) => l && !l.startsWith('#'));
        const all = execFileSync('/usr/bin/bcftools', ['view', '-H', file], { maxBuffer: 64 << 20 }).toString();
        t.equal(all.split('\n').filter(Boolean).length, records.length, 'bcftools view -H reads every record');
        // One record's own position: tabix finds it through the index.
        const [chrom, pos] = records[Math.floor(records.length / 2)]!.split('\t');
        const hit = execFileSync('/usr/bin/tabix', [file, `${chrom}:${pos}-${pos}`]).toString();
        t.ok(hit.split('\n').includes(records[Math.floor(records.length / 2)]!), `tabix ${chrom}:${pos}-${pos} returns the record`);
        t.ok(
          hit
            .split('\n')
            .filter(Boolean)
            .every((l) => l.split('\t')[0] === chrom),
          'and only records of that region',
        );
      });
    });

    t.test('two submissions with the same idempotency key make one job', async (t) => {
      const user = stack.users[0]!;
      const key = `idem-${store}-${Date.now()}`;
      const a = await stack.submit(user, FREE_1, { genomeBuild: 'GRCh38', idempotencyKey: key });
      const b = await stack.submit(user, FREE_1, { genomeBuild: 'GRCh38', idempotencyKey: key });
      t.equal(a.status, 201);
      t.equal(b.status, 200);
      const ja = (await a.json()) as { id: string };
      const jb = (await b.json()) as { id: string };
      t.equal(jb.id, ja.id);
      const list = (await (await stack.api(user, '/api/v1/jobs?page_size=100')).json()) as {
        jobs: Array<{ id: string; genome_build: string }>;
      };
      t.equal(list.jobs.filter((j) => j.genome_build === 'GRCh38').length, 1);
      await stack.waitForJob(user, ja.id, (j) => j.status === 'COMPLETED');
    });

    t.test('a malformed VCF ends FAILED with the line number and the reason', async (t) => {
      const user = stack.users[0]!;
      const body =
        '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n1\t100\t.\tA\tG\t.\t.\t.\n1\tNOTANUMBER\t.\tA\tG\t.\t.\t.\n';
      const res = await stack.submitText(user, 'broken.vcf', body, { genomeBuild: 'GRCh37' });
      t.equal(res.status, 201);
      const { id } = (await res.json()) as { id: string };
      const job = await stack.waitForJob(user, id, (j) => j.status === 'FAILED' || j.status === 'COMPLETED');
      t.equal(job.status, 'FAILED');
      t.match(job.failure_reason ?? '', /line 4: POS: expected a non-negative integer, got "NOTANUMBER"/);
      const dl = await stack.api(user, `/api/v1/jobs/${id}/result`);
      t.equal(dl.status, 409);
      t.equal(dl.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    });

    t.test('a non-VCF upload is refused with a 400 that says why, and no job is made', async (t) => {
      const user = stack.users[1]!;
      const before = (await (await stack.api(user, '/api/v1/jobs')).json()) as { jobs: unknown[] };
      const res = await stack.submitText(user, 'photo.png', '\x89PNG\r\n\x1a\n....', { genomeBuild: 'GRCh37' });
      t.equal(res.status, 400);
      const problem = (await res.json()) as { detail: string };
      t.match(problem.detail, /^the file photo\.png is not a VCF file: .*##fileformat=VCF/);
      const afterList = (await (await stack.api(user, '/api/v1/jobs')).json()) as { jobs: unknown[] };
      t.equal(afterList.jobs.length, before.jobs.length);
      const noBuild = await stack.submitText(user, 'x.vcf', '##fileformat=VCFv4.2\n', {});
      t.equal(noBuild.status, 400);
      t.match(((await noBuild.json()) as { detail: string }).detail, /genome_build/);
    });

    t.test('API calls need a valid token and only see their own jobs', async (t) => {
      const [alice, bob] = stack.users as [GasStack['users'][0], GasStack['users'][0]];
      const res = await stack.submit(alice, FREE_1, { genomeBuild: 'GRCh37' });
      const { id } = (await res.json()) as { id: string };
      t.equal((await fetch(`${stack.url}/api/v1/jobs`)).status, 401);
      t.equal((await fetch(`${stack.url}/api/v1/jobs`, { headers: { authorization: 'Bearer not-a-real-token-at-all' } })).status, 401);
      for (const path of [`/api/v1/jobs/${id}`, `/api/v1/jobs/${id}/result`, `/api/v1/jobs/${id}/log`]) {
        t.equal((await stack.api(bob, path)).status, 404, path);
      }
      t.equal((await stack.api(bob, '/api/v1/jobs/../../etc/passwd')).status, 404);
      await stack.waitForJob(alice, id, (j) => j.status === 'COMPLETED');
    });

    t.test('every service is up and healthy, with its own metrics', async (t) => {
      for (const name of ['gateway', 'job', 'annotator', 'notification', 'archive'] as const) {
        t.match(await stack.metrics(name), new RegExp(`gas_${name}_process_cpu_seconds_total`), name);
      }
      t.match(await stack.metrics('annotator'), /gas_annotator_messages_total\{[^}]*outcome="ack"[^}]*\} [1-9]/);
    });
  });
}
