// The jobs and job pages with many jobs and no annotator running: newest first, paged, filtered by
// status, queue positions shown; a failed job's page shows its reason as text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient, JobService } from '@gas/proto';
import { sharedDataPath, startGasStack, WebClient } from '@gas/testing';
import type { GasStack } from '@gas/testing';

const TEST_VCF = sharedDataPath('vcf/gas_anntools/test.vcf');

let stack: GasStack;
let web: WebClient;
const ids: string[] = [];

before(async () => {
  // No annotator: every job stays queued.
  stack = await startGasStack({ store: 'filesystem', services: ['job', 'gateway'] });
  web = new WebClient(stack.url);
  const csrf = await web.signUp({ email: 'many@example.org', password: 'twenty two jobs', name: 'Many' });
  const body = new Blob([await readFile(TEST_VCF)]);
  for (let i = 1; i <= 22; i++) {
    const res = await web.upload(`sample-${String(i).padStart(2, '0')}.vcf`, body, 'GRCh37', csrf);
    assert.equal(res.status, 201, res.text);
    ids.push((JSON.parse(res.text) as { id: string }).id);
  }
});
after(() => stack?.stop());

const names = (page: string) => [...page.matchAll(/<td class="name"><a href="\/jobs\/[0-9A-Z]{26}">([^<]+)<\/a>/g)].map((m) => m[1]);

test('the jobs page lists the newest 20 first, then an "older" page with the rest', async () => {
  const first = await web.get('/jobs');
  assert.equal(first.status, 200);
  const page1 = names(first.text);
  assert.equal(page1.length, 20);
  assert.equal(page1[0], 'sample-22.vcf');
  assert.equal(page1[19], 'sample-03.vcf');
  const older = /href="(\/jobs\?page=[^"]+)">Older jobs/.exec(first.text)![1]!.replace(/&amp;/g, '&');
  const second = await web.get(older);
  assert.deepEqual(names(second.text), ['sample-02.vcf', 'sample-01.vcf']);
  assert.doesNotMatch(second.text, /Older jobs/);
});

test('queued jobs show their place in the queue; the status filter narrows the list', async () => {
  const page = (await web.get('/jobs')).text;
  const positions = [...page.matchAll(/position (\d+) in the queue/g)].map((m) => Number(m[1]));
  assert.equal(positions.length, 20);
  // Newest first, so positions count down the page: the oldest listed job is 3rd in the queue.
  assert.deepEqual(positions.slice(-3), [5, 4, 3]);
  assert.equal((await web.get('/jobs?status=PENDING')).text.match(/class="badge pending"/g)?.length, 20);
  const done = await web.get('/jobs?status=COMPLETED');
  assert.equal(names(done.text).length, 0);
  assert.match(done.text, /No jobs with this status/);
  assert.match(done.text, /<a href="\/jobs\?status=COMPLETED" aria-current="true">Done<\/a>/);
});

test("a failed job's page shows why, as text, and offers to upload again", async () => {
  // The user id is the first folder of the job's input in the store.
  let userId = '';
  for (const u of await readdir(join(stack.stateDir, 'blobs', 'inputs'))) if ((await readdir(join(stack.stateDir, 'blobs', 'inputs', u))).includes(ids[0]!)) userId = u;
  const jobs = createClient(JobService, stack.jobGrpcUrl, { defaultDeadlineMs: 10_000 });
  try {
    // What an annotator reports for a bad file (attempt 0: whoever holds the job).
    await jobs.failJob({ userId, jobId: ids[0]!, attempt: 0, reason: 'invalid VCF: line 4: POS: expected a number, got "<b>12x</b>"' });
  } finally {
    jobs.close();
  }
  const page = (await web.get(`/jobs/${ids[0]}`)).text;
  assert.match(page, /<strong>The annotation failed\.<\/strong> <span class="reason">invalid VCF: line 4: POS: expected a number, got &quot;&lt;b&gt;12x&lt;\/b&gt;&quot;<\/span>/);
  assert.match(page, /<a href="\/upload">upload it again<\/a>/);
  assert.doesNotMatch(page, /Annotated VCF/);
  assert.match((await web.get('/jobs?status=FAILED')).text, /sample-01\.vcf/);
});
