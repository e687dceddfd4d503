// An admin deletes a user's account on request, in a real Chromium, on the real stack (nats-server,
// the five services, the filesystem store). The user signed up on the web and has a finished job.
// The admin (listed in GATEWAY_ADMIN_EMAILS, address confirmed by the mailed link) types the user's
// address into the admin page's lookup while the page refreshes its queue figures (the address
// must survive that), sees the account's figures, is refused with a wrong typed address, then
// deletes. The user's open page then leads to the sign-in page, the password no longer signs in,
// the job's files are gone and the user has the goodbye mail. Screenshots under
// .artifacts/screenshots/admin-delete-account.test/.
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BLOB_AREAS, FileBlobStore } from '@gas/storage';
import { launchBrowser, newPage, pageErrors, parseMail, screenshot, sharedDataPath, startGasStack, DESKTOP } from '@gas/testing';
import type { Page } from '@gas/testing';

const ADMIN = { email: 'support@example.org', name: 'Sam Support', password: 'helping people 2026' };
const USER = { email: 'lost.mailbox@example.org', name: 'Lou Lost', password: 'forgotten by now 2026' };
const GIAB = sharedDataPath('vcf/grch37/GIAB_NA12878_hg19_chr20_10.0-10.1Mb.vcf.gz');

const stack = await startGasStack({ store: 'filesystem', env: { gateway: { GATEWAY_ADMIN_EMAILS: ADMIN.email } } });
t.teardown(() => stack.stop());
const browser = await launchBrowser();
t.teardown(() => browser.close());
const shot = (page: Page, step: string) => screenshot(page, import.meta.filename, step);
const store = new FileBlobStore({ root: join(stack.stateDir, 'blobs') });

/** The mails in the outbox to `email` with this subject. */
async function mailsTo(email: string, subject: string) {
  const found = [];
  for (const name of await readdir(stack.outboxDir).catch(() => [] as string[])) {
    if (!name.endsWith('.eml')) continue;
    const mail = await parseMail(await readFile(join(stack.outboxDir, name)));
    if (mail.subject === subject && mail.headers.get('to')?.includes(email)) found.push(mail);
  }
  return found;
}

async function signUpAndIn(who: typeof ADMIN): Promise<Page> {
  const page = await newPage(browser, DESKTOP);
  await page.goto(`${stack.url}/signup`);
  await page.getByLabel('Name').fill(who.name);
  await page.getByLabel('E-mail').fill(who.email);
  await page.getByLabel(/^Password/).fill(who.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/jobs\?welcome=1$/);
  return page;
}

t.test('in Chromium: an admin looks the account up, is refused a wrong address, then deletes it and everything of it', async (t) => {
  const user = await signUpAndIn(USER);
  await user.goto(`${stack.url}/upload`);
  await user.setInputFiles('input[type=file]', GIAB);
  await user.getByRole('button', { name: 'Annotate' }).click();
  await user.waitForURL(/\/jobs\/[0-9A-Z]{26}$/);
  const jobId = /\/jobs\/([0-9A-Z]{26})$/.exec(user.url())![1]!;
  const userId = await stack.eventually(
    async () => {
      for (const u of await readdir(join(stack.stateDir, 'blobs', 'inputs')))
        if ((await readdir(join(stack.stateDir, 'blobs', 'inputs', u))).includes(jobId)) return u;
      return '';
    },
    (u) => u !== '',
    10_000,
  );
  const filesOf = async () => {
    const out: string[] = [];
    for (const area of BLOB_AREAS) out.push(...(await store.list(area, `${userId}/`)));
    return out;
  };
  t.ok((await stack.eventually(filesOf, (f) => f.length >= 4, 60_000)).length >= 4, "the user's input and results are stored");

  const admin = await signUpAndIn(ADMIN);
  const link = await stack.eventually(
    async () => (await mailsTo(ADMIN.email, 'GAS: Confirm your email address'))[0]?.text,
    (text) => text !== undefined,
    30_000,
  );
  await admin.goto(/^(http\S+\/confirm-email\?token=\S+)$/m.exec(link!)![1]!);
  await admin.getByRole('button', { name: 'Confirm my address' }).click();
  await admin.waitForURL(/\/profile\?confirmed=1$/);
  await admin.getByRole('link', { name: 'Admin', exact: true }).click();
  await admin.waitForURL(/\/admin$/);

  const lookup = admin.getByLabel('E-mail address');
  await lookup.fill(USER.email);
  // The queue figures above are swapped in every 5 s; what the admin is typing stays.
  const readAt = await admin.locator('#admin-state').getAttribute('data-read-at');
  await stack.eventually(
    () => admin.locator('#admin-state').getAttribute('data-read-at'),
    (at) => at !== readAt,
    15_000,
  );
  t.equal(await lookup.inputValue(), USER.email, 'the address being typed survives the refresh');
  await admin.getByRole('button', { name: 'Look up' }).click();
  await admin.getByRole('heading', { name: 'Account' }).waitFor();
  const facts = await admin.locator('main').innerText();
  t.match(facts, userId, "the account's user id");
  t.match(facts, /Jobs\s+1\b/, 'its one job');
  t.match(facts, /Active jobs\s+0\b/);
  await shot(admin, 'lookup');

  await admin.getByRole('link', { name: 'Delete this account…' }).click();
  await admin.waitForURL(new RegExp(`/admin/accounts/${userId}/delete$`));
  await admin.getByLabel("The account's e-mail address, typed again").fill('someone.else@example.org');
  await admin.getByLabel('Your own password').fill(ADMIN.password);
  await admin.getByRole('button', { name: 'Delete this account and all its data' }).click();
  await admin.getByText("That is not this account's e-mail address; nothing was deleted.").waitFor();
  t.ok((await filesOf()).length >= 4, 'a wrong address deletes nothing');
  await shot(admin, 'wrong-address');

  await admin.getByLabel("The account's e-mail address, typed again").fill(USER.email);
  await admin.getByLabel('Your own password').fill(ADMIN.password);
  await admin.getByRole('button', { name: 'Delete this account and all its data' }).click();
  await admin.getByRole('heading', { name: 'Account deleted' }).waitFor();
  t.match(await admin.locator('main').innerText(), /1 job/, 'the page says what went');
  await shot(admin, 'deleted');

  t.same(await stack.eventually(filesOf, (f) => f.length === 0, 20_000), [], "the job's files are deleted");
  await user.reload();
  await user.waitForURL(/\/signin/);
  t.pass("the user's open page leads to the sign-in page: the session is ended");
  await user.getByLabel('E-mail').fill(USER.email);
  await user.getByLabel('Password').fill(USER.password);
  await user.getByRole('button', { name: 'Sign in' }).click();
  await user.locator('.error, [role=alert]').first().waitFor();
  t.match(user.url(), /\/signin/, 'the password no longer signs in');
  const goodbye = await stack.eventually(
    () => mailsTo(USER.email, 'GAS: Your account was deleted'),
    (m) => m.length === 1,
    30_000,
  );
  t.equal(goodbye.length, 1, 'the owner gets the goodbye mail');
  // The refused post is a page answered 400, which Chromium reports as a failed load; nothing else.
  const errors = pageErrors(admin).filter((e) => !/status of 400 .*\/admin\/accounts\/[^/]+\/delete/.test(e));
  t.same(errors, [], 'no script error on the admin pages');
  await Promise.all([admin.close(), user.close()]);
});
