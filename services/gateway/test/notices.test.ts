// The notice pieces of the pages, as pure functions: what the email statuses say, where a notice
// leads, the notices page, the header's unread badge, the job page's callout about emails that
// failed, and the profile's three email choices over the account's two switches, both ways.
import t from 'tap';
import { create, EmailStatus, GenomeBuild, JobSchema, JobStatus, NoticeKind, NoticeSchema, timestampFromDate } from '@gas/proto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { emailProblems, emailWords, isNewNotice, liveNotice, noticeLink, noticeView } from '../src/notice-view.ts';
import { jobView } from '../src/job-view.ts';
import { page } from '../src/web/layout.ts';
import type { Viewer } from '../src/web/layout.ts';
import { html } from '../src/web/html.ts';
import { liveKey } from '../src/web/viewer.ts';
import { noticesPage } from '../src/web/pages/notices-page.ts';
import { jobPage } from '../src/web/pages/job-page.ts';
import { emailChoiceOf, emailSwitchesOf, isEmailChoice, profilePage } from '../src/web/pages/account-pages.ts';

const JOB_ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
const viewer = (unreadNotices?: number): Viewer => ({
  email: 'a@example.org',
  name: 'A',
  plan: 'free',
  csrfToken: 'csrf-of-a',
  liveKey: liveKey('u1'),
  unreadNotices,
});
/** The text a reader sees: tags dropped, spaces folded. */
const text = (markup: string) =>
  markup
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

let seq = 0;
const notice = (o: MessageInitShape<typeof NoticeSchema> = {}) =>
  create(NoticeSchema, {
    noticeId: `01HZZZZZZZZZZZZZZZZZZZZZ${String(seq++).padStart(2, '0')}`,
    userId: 'u1',
    eventId: 'e',
    kind: NoticeKind.JOB_COMPLETED,
    jobId: JOB_ID,
    title: 'a.vcf is annotated',
    text: 'The GRCh38 annotation of a.vcf is done: 3 variants.',
    occurredAt: timestampFromDate(new Date('2026-12-07T04:01:00Z')),
    ...o,
  });

t.test('each email status in words; refusals and give-ups say why', async (t) => {
  const words = (emailStatus: EmailStatus, emailDetail = '') => emailWords(notice({ emailStatus, emailDetail }));
  t.equal(words(EmailStatus.SENT), 'Emailed');
  t.equal(words(EmailStatus.NOT_WANTED), 'Not emailed (your preference)');
  t.equal(
    words(EmailStatus.REFUSED, 'the mail server refused it: 550 5.1.1 <a***@example.org>: no such user.'),
    'The email was refused: the mail server refused it: 550 5.1.1 <a***@example.org>: no such user',
  );
  t.equal(
    words(EmailStatus.GAVE_UP, 'the mail server could not be reached (ECONNREFUSED): connect ECONNREFUSED'),
    'The email could not be sent: the mail server could not be reached (ECONNREFUSED): connect ECONNREFUSED',
  );
  t.equal(words(EmailStatus.REFUSED), 'The email was refused');
  t.equal(words(EmailStatus.NO_ADDRESS), 'No email address');
  t.equal(words(EmailStatus.PENDING), 'Email being sent');
  t.equal(words(EmailStatus.UNSPECIFIED), 'Email being sent');
});

t.test('a notice leads to its job; account notices (and anything but a job id) to the notices page', async (t) => {
  t.equal(noticeLink(notice()), `/jobs/${JOB_ID}`);
  t.equal(noticeLink(notice({ kind: NoticeKind.PLAN_UPGRADED, jobId: '' })), '/notices');
  t.equal(noticeLink(notice({ jobId: '../signout' })), '/notices');
  t.strictSame(liveNotice(notice({ noticeId: '01HZZZZZZZZZZZZZZZZZZZZZZZ', title: '<b>x</b>' }), 4), {
    id: '01HZZZZZZZZZZZZZZZZZZZZZZZ',
    title: '<b>x</b>',
    text: 'The GRCh38 annotation of a.vcf is done: 3 variants.',
    link: `/jobs/${JOB_ID}`,
    unread: 4,
  });
});

t.test('a notice is new until its email status is recorded; after that it only moves the badge', async (t) => {
  t.ok(isNewNotice(notice()));
  t.ok(isNewNotice(notice({ emailStatus: EmailStatus.PENDING })));
  for (const s of [EmailStatus.SENT, EmailStatus.NOT_WANTED, EmailStatus.REFUSED, EmailStatus.GAVE_UP, EmailStatus.NO_ADDRESS])
    t.notOk(isNewNotice(notice({ emailStatus: s })), EmailStatus[s]);
});

t.test('the notices page: newest first as given, every status in words, unread marked, text escaped', async (t) => {
  const statuses: Array<[EmailStatus, string, string]> = [
    [EmailStatus.SENT, '', 'Emailed'],
    [EmailStatus.NOT_WANTED, '', 'Not emailed (your preference)'],
    [
      EmailStatus.REFUSED,
      'the mail server refused it: 550 no such user',
      'The email was refused: the mail server refused it: 550 no such user',
    ],
    [
      EmailStatus.GAVE_UP,
      'the mail server asked to try later: 451 busy',
      'The email could not be sent: the mail server asked to try later: 451 busy',
    ],
    [EmailStatus.NO_ADDRESS, '', 'No email address'],
  ];
  const list = statuses.map(([emailStatus, emailDetail], i) =>
    noticeView(
      notice({ emailStatus, emailDetail, read: i >= 2, title: i === 0 ? '<img src=x onerror=alert(1)>.vcf is annotated' : `n${i}` }),
    ),
  );
  list.push(noticeView(notice({ kind: NoticeKind.PLAN_UPGRADED, jobId: '', title: 'You are on premium', read: true })));
  const markup = noticesPage({ viewer: viewer(2), notices: list }).text;
  const items = [...markup.matchAll(/<li class="notice-item( unread)?" data-notice="([0-9A-Z]{26})">([\s\S]*?)<\/li>/g)];
  t.equal(items.length, 6);
  t.strictSame(
    items.map((m) => m[2]),
    list.map((n) => n.id),
    'in the order the service gave (newest first)',
  );
  t.strictSame(
    items.map((m) => Boolean(m[1])),
    [true, true, false, false, false, false],
    'unread ones marked',
  );
  t.strictSame(
    items.map((m) => /<span class="badge new">New<\/span>/.test(m[3]!)),
    [true, true, false, false, false, false],
  );
  statuses.forEach(([, , words], i) => t.match(text(items[i]![3]!), words, `status ${i}`));
  t.match(items[2]![3], /<span class="email-status error">The email was refused/, 'a refusal stands out');
  t.match(items[0]![3], `<a href="/jobs/${JOB_ID}">Open the job</a>`);
  t.match(items[5]![3], '<a href="/notices">Your account</a>');
  t.match(items[0]![3], '<time datetime="2026-12-07T04:01:00.000Z">2026-12-07 04:01 UTC</time>');
  t.notMatch(markup, /<img/, 'a file name with markup is text');
  t.match(markup, '&lt;img src=x onerror=alert(1)&gt;.vcf is annotated');
  // Marked read by the page script on load, or by this form without script: up to the newest shown.
  t.match(
    markup,
    `<form method="post" action="/notices/read" class="inline mark-read">
  <input type="hidden" name="_csrf" value="csrf-of-a">
  <input type="hidden" name="up_to" value="${list[0]!.id}">`,
  );
  t.match(markup, '<script src="/static/notices.js" defer></script>');
  t.match(markup, /<a href="\/notices" aria-current="page">Notices <span class="badge unread">2<\/span><\/a>/);

  const allRead = noticesPage({ viewer: viewer(0), notices: list.map((n) => ({ ...n, read: true })) }).text;
  t.notMatch(allRead, /mark-read/, 'nothing to mark: no button, no post');
  t.match(text(noticesPage({ viewer: viewer(0), notices: [] }).text), 'No notices yet.');
  const away = noticesPage({ viewer: viewer(), notices: null }).text;
  t.match(away, '<p class="error" role="alert">Your notices cannot be shown right now.');
  t.notMatch(away, /mark-read/);
});

t.test('the header: a Notices link with the unread badge, hidden at 0 and when the count is unknown', async (t) => {
  const header = (v: Viewer | null) => page({ title: 'x', viewer: v, body: html`` }).text;
  t.match(header(viewer(3)), '<a href="/notices">Notices <span class="badge unread">3</span></a>');
  t.match(header(viewer(0)), '<span class="badge unread" hidden>0</span>');
  t.match(header(viewer()), '<span class="badge unread" hidden>0</span>', 'no count: no badge (the live stream may show one)');
  t.notMatch(header(null), /Notices|toasts/, 'signed out: no link');
  // Every signed-in page takes live updates (toasts and the badge), before its own scripts.
  const scripts = (markup: string) => [...markup.matchAll(/<script src="\/static\/([^"]+)"/g)].map((m) => m[1]);
  t.strictSame(scripts(page({ title: 'x', viewer: viewer(0), body: html``, scripts: ['upload.js'] }).text), [
    'live-stream.js',
    'live.js',
    'upload.js',
  ]);
  t.strictSame(scripts(page({ title: 'x', body: html`` }).text), []);
  t.match(header(viewer(0)), '<div class="toasts" role="status" aria-live="polite"></div>');
});

t.test('the job page says when emails about the job were refused or given up', async (t) => {
  const render = (problems: string[]) =>
    jobPage({
      viewer: viewer(0),
      job: jobView(create(JobSchema, { jobId: JOB_ID, status: JobStatus.FAILED, genomeBuild: GenomeBuild.GRCH38, inputName: 'a.vcf' })),
      summary: null,
      preview: null,
      log: null,
      retentionSeconds: 1800,
      archiveDueAt: null,
      now: new Date(),
      emailProblems: problems,
    }).text;
  const notices = [
    notice({ emailStatus: EmailStatus.REFUSED, emailDetail: 'the mail server refused it: 550 <b>no</b> such user.' }),
    notice({ emailStatus: EmailStatus.REFUSED, emailDetail: 'the mail server refused it: 550 <b>no</b> such user' }),
    notice({ emailStatus: EmailStatus.GAVE_UP, emailDetail: '' }),
    notice({ emailStatus: EmailStatus.SENT }),
    notice({ emailStatus: EmailStatus.NOT_WANTED }),
  ];
  const problems = emailProblems(notices);
  t.strictSame(problems, ['the mail server refused it: 550 <b>no</b> such user', 'the mail server did not take it'], 'one per reason');
  const markup = render(problems);
  const callouts = [...markup.matchAll(/<div class="callout error email-problem">([\s\S]*?)<\/div>/g)].map((m) =>
    m[1]!.replace(/<[^>]+>/g, ''),
  );
  t.strictSame(callouts, [
    'We could not email you about this job: the mail server refused it: 550 &lt;b&gt;no&lt;/b&gt; such user. Check your address on the profile page.',
    'We could not email you about this job: the mail server did not take it. Check your address on the profile page.',
  ]);
  t.match(markup, '<a href="/profile#notifications">profile page</a>');
  t.notMatch(render([]), /email-problem/);
});

t.test('the profile: three email choices over the two switches, both ways', async (t) => {
  t.equal(emailChoiceOf({ emailOnCompletion: true, emailOnFailure: true }), 'all');
  t.equal(emailChoiceOf({ emailOnCompletion: false, emailOnFailure: true }), 'failures');
  t.equal(emailChoiceOf({ emailOnCompletion: false, emailOnFailure: false }), 'none');
  // Only older records hold it; it reads as all, as the notification service reads it.
  t.equal(emailChoiceOf({ emailOnCompletion: true, emailOnFailure: false }), 'all');
  t.strictSame(emailSwitchesOf('all'), { emailOnCompletion: true, emailOnFailure: true });
  t.strictSame(emailSwitchesOf('failures'), { emailOnCompletion: false, emailOnFailure: true });
  t.strictSame(emailSwitchesOf('none'), { emailOnCompletion: false, emailOnFailure: false });
  for (const c of ['all', 'failures', 'none'] as const) t.equal(emailChoiceOf(emailSwitchesOf(c)), c, `${c} round-trips`);
  t.ok(isEmailChoice('failures'));
  for (const bad of [undefined, '', 'ALL', 'some', ['all']]) t.notOk(isEmailChoice(bad), String(bad));

  const render = (emailOnCompletion: boolean, emailOnFailure: boolean) =>
    profilePage({
      viewer: viewer(0),
      profile: { name: 'A', email: 'a@example.org', institution: '', emailOnCompletion, emailOnFailure },
    }).text;
  const radios = (markup: string) =>
    [...markup.matchAll(/<input type="radio" name="email" value="(\w+)"( checked)?>/g)].map((m) => `${m[1]}${m[2] ? '*' : ''}`);
  t.strictSame(radios(render(true, true)), ['all*', 'failures', 'none']);
  t.strictSame(radios(render(false, true)), ['all', 'failures*', 'none']);
  t.strictSame(radios(render(false, false)), ['all', 'failures', 'none*']);
  t.match(render(true, true), '<fieldset id="notifications">', 'emails link to /profile#notifications');
  t.notMatch(render(true, true), /checkbox/);
});
