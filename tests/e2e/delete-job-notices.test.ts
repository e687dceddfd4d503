// A deleted job's notices on the real stack (nats-server, the five services, the filesystem store),
// as the gateway shows them: after DELETE /api/v1/jobs/{id}, the notices page no longer lists the
// job's notice (whose title names the uploaded file), the header's badge counts one fewer, and an
// open live stream (/jobs/events, at the SSE level) says the new unread count; the user's other
// job keeps its notice.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { sharedDataPath, startGasStack, WebClient } from '@gas/testing';

const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
const GONE = 'Jane Doe 1961.vcf';
const KEPT = 'kept.vcf';

const stack = await startGasStack({ store: 'filesystem' });
t.teardown(() => stack.stop());
const vcf = new Blob([await readFile(FREE_1)]);

const web = new WebClient(stack.url);
const csrf = await web.signUp({ email: 'jane@example.org', password: 'password of jane', name: 'jane' });

async function completedJob(name: string): Promise<string> {
  const res = await web.upload(name, vcf, 'GRCh37', csrf);
  if (res.status !== 201) throw new Error(`upload of ${name} answered ${res.status}: ${res.text}`);
  const id = (JSON.parse(res.text) as { id: string }).id;
  const status = await stack.eventually(
    async () => (JSON.parse((await web.get(`/api/v1/jobs/${id}`)).text) as { status: string }).status,
    (s) => s === 'COMPLETED',
    90_000,
  );
  if (status !== 'COMPLETED') throw new Error(`job ${name} is ${status}`);
  return id;
}

/** The notices page's text and its header badge's count. */
async function noticesPage(): Promise<{ text: string; badge: number | null }> {
  const res = await web.get('/notices');
  if (res.status !== 200) throw new Error(`/notices answered ${res.status}`);
  const badge = /<span class="badge unread"( hidden)?>(\d+)<\/span>/.exec(res.text);
  return { text: res.text, badge: badge && !badge[1] ? Number(badge[2]) : null };
}

t.test('deleting a job: its notice leaves the notices page, the badge and the live stream count one fewer', async (t) => {
  const [gone, kept] = await Promise.all([completedJob(GONE), completedJob(KEPT)]);
  const before = await stack.eventually(
    noticesPage,
    (p) => p.text.includes(`${GONE} is annotated`) && p.text.includes(`${KEPT} is annotated`) && p.badge === 2,
    30_000,
  );
  t.match(before.text, `${GONE} is annotated`, 'the notice names the file');
  t.match(before.text, `href="/jobs/${gone}"`, 'and links to the job');
  t.equal(before.badge, 2, 'two unread');

  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const res = await fetch(`${stack.url}/jobs/events`, {
    headers: { cookie: `gas_session=${web.cookies.get('gas_session')}` },
    signal: ac.signal,
  });
  t.equal(res.status, 200);
  let stream = '';
  void (async () => {
    for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) stream += chunk;
  })().catch(() => undefined);
  await stack.eventually(
    async () => stream,
    (s) => /^event: hello$/m.test(s),
    5_000,
  );
  // The gateway's notice watch is in place once a third job's notice comes through it.
  await completedJob('probe.vcf');
  await stack.eventually(
    async () => stream,
    (s) => /^event: notice\ndata: .*probe\.vcf is annotated/m.test(s),
    30_000,
  );

  // The stream opened with the user's jobs, names and all; what matters is what comes after the delete.
  const from = stream.length;
  const del = await web.request(`/api/v1/jobs/${gone}`, { method: 'DELETE', headers: { 'X-CSRF-Token': csrf } });
  t.equal(del.status, 204, 'deleted');

  const live = await stack.eventually(
    async () => stream,
    (s) => /^event: unread\ndata: \{"unread":2\}$/m.test(s.slice(from)),
    10_000,
  );
  t.match(live.slice(from), /^event: unread\ndata: \{"unread":2\}$/m, 'the live stream says one fewer unread');
  t.notMatch(live.slice(from), GONE, 'and says nothing more of the deleted file');

  const after = await stack.eventually(noticesPage, (p) => !p.text.includes(GONE) && p.badge === 2, 10_000);
  t.notMatch(after.text, GONE, 'the notices page no longer names the file');
  t.notMatch(after.text, `/jobs/${gone}`, 'nor links to the deleted job');
  t.match(after.text, `${KEPT} is annotated`, 'the other job keeps its notice');
  t.match(after.text, `href="/jobs/${kept}"`);
  t.equal(after.badge, 2, 'the badge counts one fewer');
  ac.abort();
});
