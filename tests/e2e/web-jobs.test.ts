// The jobs and job pages with many jobs and no annotator running: newest first, paged, filtered by
// status, queue positions shown; a failed job's page shows its reason as text.
import t from 'tap';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient, JobService } from '@gas/proto';
import { sharedDataPath, startGasStack, WebClient } from '@gas/testing';

const TEST_VCF = sharedDataPath('vcf/gas_anntools/test.vcf');

// No annotator: every job stays queued.
const stack = await startGasStack({ store: 'filesystem', services: ['job', 'gateway'] });
t.teardown(() => stack.stop());
const web = new WebClient(stack.url);
const ids: string[] = [];
{
  const csrf = await web.signUp({ email: 'many@example.org', password: 'twenty two jobs', name: 'Many' });
  const body = new Blob([await readFile(TEST_VCF)]);
  for (let i = 1; i <= 22; i++) {
    const name = `sample-${String(i).padStart(2, '0')}.vcf`;
    const res = await web.upload(name, body, 'GRCh37', csrf);
    // Setup, not a test: a failure stops the file (an assertion here, between a top-level teardown
    // and the first test, would let tap end the file early while the uploads still run).
    if (res.status !== 201) throw new Error(`uploading ${name} answered ${res.status}: ${res.text}`);
    ids.push((JSON.parse(res.text) as { id: string }).id);
  }
}

const names = (page: string) => [...page.matchAll(/<td class="name"><a href="\/jobs\/[0-9A-Z]{26}">([^<]+)<\/a>/g)].map((m) => m[1]);

t.test('the jobs page lists the newest 20 first, then an "older" page with the rest', async (t) => {
  const first = await web.get('/jobs');
  t.equal(first.status, 200);
  const page1 = names(first.text);
  t.equal(page1.length, 20);
  t.equal(page1[0], 'sample-22.vcf');
  t.equal(page1[19], 'sample-03.vcf');
  const older = /href="(\/jobs\?page=[^"]+)">Older jobs/.exec(first.text)![1]!.replace(/&amp;/g, '&');
  const second = await web.get(older);
  t.strictSame(names(second.text), ['sample-02.vcf', 'sample-01.vcf']);
  t.notMatch(second.text, /Older jobs/);
  // A page past the oldest job (its jobs deleted since, or a made-up token) does not say "No jobs yet".
  const past = await web.get('/jobs?page=00000000000000000000000000');
  t.equal(past.status, 200);
  t.equal(names(past.text).length, 0);
  t.match(past.text, /No older jobs\. <a href="\/jobs">Back to the newest<\/a>/);
  t.notMatch(past.text, /No jobs yet/);
});

t.test('queued jobs show their place in the queue; the status filter narrows the list', async (t) => {
  const page = (await web.get('/jobs')).text;
  const positions = [...page.matchAll(/position (\d+) in the queue/g)].map((m) => Number(m[1]));
  t.equal(positions.length, 20);
  // Newest first, so positions count down the page: the oldest listed job is 3rd in the queue.
  t.strictSame(positions.slice(-3), [5, 4, 3]);
  t.equal((await web.get('/jobs?status=PENDING')).text.match(/class="badge pending"/g)?.length, 20);
  const done = await web.get('/jobs?status=COMPLETED');
  t.equal(names(done.text).length, 0);
  t.match(done.text, /No jobs with this status/);
  t.match(done.text, /<a href="\/jobs\?status=COMPLETED" aria-current="true">Done<\/a>/);
});

t.test("a failed job's page shows why, as text, and offers to upload again", async (t) => {
  // The user id is the first folder of the job's input in the store.
  let userId = '';
  for (const u of await readdir(join(stack.stateDir, 'blobs', 'inputs')))
    if ((await readdir(join(stack.stateDir, 'blobs', 'inputs', u))).includes(ids[0]!)) userId = u;
  const jobs = createClient(JobService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
  try {
    // What an annotator reports for a bad file (attempt 0: whoever holds the job).
    await jobs.failJob({ userId, jobId: ids[0]!, attempt: 0, reason: 'invalid VCF: line 4: POS: expected a number, got "<b>12x</b>"' });
  } finally {
    jobs.close();
  }
  const page = (await web.get(`/jobs/${ids[0]}`)).text;
  t.match(
    page,
    /<strong>The annotation failed\.<\/strong> <span class="reason">invalid VCF: line 4: POS: expected a number, got &quot;&lt;b&gt;12x&lt;\/b&gt;&quot;<\/span>/,
  );
  t.match(page, /<a href="\/upload">upload it again<\/a>/);
  t.notMatch(page, /Annotated VCF/);
  t.match((await web.get('/jobs?status=FAILED')).text, /sample-01\.vcf/);
});
