// Uploads straight to object storage on a ticket from the gateway, against the real gateway, job
// service and an S3 server: the job is made only from what arrived under the ticket's key, and
// only after its size and first bytes are checked.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { sharedDataPath, startGasStack, WebClient } from '@gas/testing';

const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
const PREMIUM_1 = sharedDataPath('vcf/gas_anntools/premium_1.vcf');

const stack = await startGasStack({ store: 's3', services: ['job', 'annotator', 'gateway'] });
t.teardown(() => stack.stop());
const web = new WebClient(stack.url);
const csrf = await web.signUp({ email: 'direct@example.org', password: 'uploads go to s3', name: 'Direct' });

type Ticket = {
  ticket: string;
  method: string;
  url: string;
  fields: Record<string, string>;
  part_size: number;
  parts: Array<{ part_number: number; url: string }>;
};

async function askTicket(c: WebClient, body: object, token = csrf) {
  const res = await c.request('/api/v1/uploads', {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', 'x-csrf-token': token },
  });
  return { status: res.status, body: JSON.parse(res.text) as Ticket & { detail?: string } };
}

async function redeem(c: WebClient, body: object) {
  const res = await c.request('/api/v1/uploads/complete', {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
  });
  return {
    status: res.status,
    body: JSON.parse(res.text) as { id: string; status: string; input_size: number; input_name: string; detail?: string },
  };
}

async function postToBucket(ticket: Ticket, bytes: Uint8Array, name: string): Promise<number> {
  const form = new FormData();
  for (const [k, v] of Object.entries(ticket.fields)) form.append(k, v);
  form.append('file', new Blob([bytes]), name);
  const res = await fetch(ticket.url, { method: 'POST', body: form });
  await res.body?.cancel();
  return res.status;
}

t.test('a small file: a presigned POST to the bucket, then the ticket makes the job, which completes', async (t) => {
  const bytes = await readFile(FREE_1);
  const { status, body: ticket } = await askTicket(web, { file_name: 'free_1.vcf', size: bytes.length, genome_build: 'GRCh37' });
  t.equal(status, 201);
  t.equal(ticket.method, 'post');
  t.ok(ticket.url.startsWith(stack.s3!.endpoint), ticket.url);
  const policy = JSON.parse(Buffer.from(ticket.fields['Policy']!, 'base64').toString()) as { conditions: unknown[] };
  t.strictSame(
    policy.conditions.find((c) => Array.isArray(c) && c[0] === 'content-length-range'),
    ['content-length-range', 1, 150 * 1024],
  );
  // Before the file is there, the ticket makes nothing.
  t.equal((await redeem(web, { ticket: ticket.ticket })).status, 409);
  const posted = await postToBucket(ticket, bytes, 'free_1.vcf');
  t.ok([200, 201, 204].includes(posted), `the bucket took the file (${posted})`);
  const first = await redeem(web, { ticket: ticket.ticket });
  t.equal(first.status, 201, 'the ticket makes the job', { detail: first.body.detail });
  t.equal(first.body.input_size, bytes.length);
  t.equal(first.body.input_name, 'free_1.vcf');
  // Redeeming again (a retry) gives the same job, not a second one.
  const again = await redeem(web, { ticket: ticket.ticket });
  t.equal(again.status, 200);
  t.equal(again.body.id, first.body.id);
  const job = await stack.eventually(
    async () => JSON.parse((await web.get(`/api/v1/jobs/${first.body.id}`)).text) as { status: string; counts: { records: number } },
    (j) => j.status === 'COMPLETED' || j.status === 'FAILED',
    60_000,
  );
  t.equal(job.status, 'COMPLETED');
  t.equal(job.counts.records, 1141);
});

t.test('the plan limit is checked when the ticket is asked for, and again on what arrived', async (t) => {
  const big = await readFile(PREMIUM_1);
  const refused = await askTicket(web, { file_name: 'premium_1.vcf', size: big.length, genome_build: 'GRCh37' });
  t.equal(refused.status, 413);
  t.match(refused.body.detail, /free plan's limit; upgrade to premium/);
  // A client that declares a small size and sends a big file: this S3 server does not enforce the
  // policy's size range, so the gateway's check after the upload is what stops it.
  const { body: ticket } = await askTicket(web, { file_name: 'sneaky.vcf', size: 1000, genome_build: 'GRCh37' });
  const posted = await postToBucket(ticket, big, 'sneaky.vcf');
  t.ok([200, 201, 204].includes(posted), `the bucket took the file (${posted})`);
  const res = await redeem(web, { ticket: ticket.ticket });
  t.equal(res.status, 413);
  const jobs = JSON.parse((await web.get('/api/v1/jobs')).text) as { jobs: Array<{ input_name: string }> };
  t.notOk(
    jobs.jobs.some((j) => j.input_name === 'sneaky.vcf'),
    'no job',
  );
  t.equal((await redeem(web, { ticket: ticket.ticket })).status, 409, 'and the object is gone');
});

t.test('what is not a VCF is refused and removed; tickets are bound to their user and cannot be altered', async (t) => {
  const { body: notes } = await askTicket(web, { file_name: 'notes.txt', size: 20, genome_build: 'GRCh38' });
  await postToBucket(notes, Buffer.from('just some notes here'), 'notes.txt');
  const notVcf = await redeem(web, { ticket: notes.ticket });
  t.equal(notVcf.status, 400);
  t.match(notVcf.body.detail, /^the file notes\.txt is not a VCF file/);
  t.equal((await redeem(web, { ticket: notes.ticket })).status, 409, 'removed');

  const { body: mine } = await askTicket(web, { file_name: 'free_1.vcf', size: 100, genome_build: 'GRCh37' });
  const other = new WebClient(stack.url);
  const otherCsrf = await other.signUp({ email: 'other@example.org', password: 'someone else entirely', name: 'Other' });
  const stolen = await other.request('/api/v1/uploads/complete', {
    method: 'POST',
    body: JSON.stringify({ ticket: mine.ticket }),
    headers: { 'content-type': 'application/json', 'x-csrf-token': otherCsrf },
  });
  t.equal(stolen.status, 400);
  t.match((JSON.parse(stolen.text) as { detail?: string }).detail, /issued to someone else/);
  const [payload, mac] = mine.ticket.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
  const forged = `${Buffer.from(JSON.stringify({ ...claims, k: 'someone/else/key.vcf' })).toString('base64url')}.${mac}`;
  const altered = await redeem(web, { ticket: forged });
  t.equal(altered.status, 400);
  t.match(altered.body.detail, /signature does not match/);
  // Bad requests for a ticket say what is wrong.
  t.equal((await askTicket(web, { file_name: 'x.vcf', size: 0, genome_build: 'GRCh37' })).status, 400);
  t.equal((await askTicket(web, { file_name: 'x.vcf', size: 10, genome_build: 'hg19' })).status, 400);
  t.equal((await askTicket(web, { size: 10, genome_build: 'GRCh37' })).status, 400);
  // And without the CSRF token a session gets nothing.
  t.equal((await askTicket(web, { file_name: 'x.vcf', size: 10, genome_build: 'GRCh37' }, 'wrong')).status, 403);
});

t.test('a big file: a multipart upload through presigned part URLs (premium user, operator token)', async (t) => {
  // 70 MB of records (more than one presigned POST takes): five 16 MiB parts.
  const header =
    (await readFile(PREMIUM_1, 'utf8'))
      .split('\n')
      .filter((l) => l.startsWith('#'))
      .join('\n') + '\n';
  const record = '1\t1000000\t.\tA\tG\t50\tPASS\tDP=10\n';
  const text = header + record.repeat(Math.ceil((70 * 1024 * 1024) / record.length));
  const bytes = Buffer.from(text);
  const user = stack.users[0]!;
  const auth = { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' };
  const ticket = (await (
    await fetch(`${stack.url}/api/v1/uploads`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ file_name: 'big.vcf', size: bytes.length, genome_build: 'GRCh37' }),
    })
  ).json()) as Ticket;
  t.equal(ticket.method, 'multipart');
  t.equal(ticket.parts.length, Math.ceil(bytes.length / ticket.part_size));
  const parts = [];
  for (const p of ticket.parts) {
    const slice = bytes.subarray((p.part_number - 1) * ticket.part_size, p.part_number * ticket.part_size);
    const res = await fetch(p.url, { method: 'PUT', body: slice });
    t.equal(res.status, 200, `part ${p.part_number}`);
    parts.push({ part_number: p.part_number, etag: res.headers.get('etag') });
    await res.body?.cancel();
  }
  const done = await fetch(`${stack.url}/api/v1/uploads/complete`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ ticket: ticket.ticket, parts }),
  });
  const job = (await done.json()) as { input_size: number; status: string };
  t.equal(done.status, 201);
  t.equal(job.input_size, bytes.length);
});

t.test('with the filesystem store the ticket says to send the file to the gateway', async (t) => {
  const fsStack = await startGasStack({ store: 'filesystem', services: ['job', 'gateway'] });
  t.teardown(() => fsStack.stop());
  const c = new WebClient(fsStack.url);
  const token = await c.signUp({ email: 'fs@example.org', password: 'files on disk here', name: 'Fs' });
  const res = await c.request('/api/v1/uploads', {
    method: 'POST',
    body: JSON.stringify({ file_name: 'a.vcf', size: 100, genome_build: 'GRCh37' }),
    headers: { 'content-type': 'application/json', 'x-csrf-token': token },
  });
  t.equal(res.status, 200);
  t.strictSame(JSON.parse(res.text), { method: 'stream', url: '/api/v1/jobs' });
});
