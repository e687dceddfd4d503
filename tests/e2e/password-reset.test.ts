// A forgotten password on the real stack (nats-server, the five services, the filesystem store, an
// SMTP server), in Chromium: from the sign-in page's "Forgot your password?" to the mailed link, a
// new password, and signing in with it; then changing it again on the profile. The old password
// stops working each time, and each change is mailed to the address.
import t from 'tap';
import { launchBrowser, newPage, screenshot, startGasStack, startSmtpServer, WebClient, DESKTOP } from '@gas/testing';
import type { ReceivedMail } from '@gas/testing';

const EMAIL = 'forgetful@example.org';
const FIRST = 'the password from sign-up';
const SECOND = 'the password set through the link';
const THIRD = 'the password set on the profile';

const smtp = await startSmtpServer();
t.teardown(() => smtp.stop());
const stack = await startGasStack({ store: 'filesystem', env: { notification: { SMTP_URL: smtp.url, SMTP_REQUIRE_TLS: 'false' } } });
t.teardown(() => stack.stop());

const mailsWith = (subject: string) => (ms: ReceivedMail[]) => ms.filter((m) => m.envelope.to.includes(EMAIL) && m.subject === subject);
async function mail(subject: string, n = 1): Promise<ReceivedMail> {
  const all = await smtp.waitFor((ms) => mailsWith(subject)(ms).length >= n, 30_000);
  return mailsWith(subject)(all)[n - 1]!;
}
const signsIn = async (password: string) => (await new WebClient(stack.url).signIn(EMAIL, password)).status === 303;

t.test('forgot, mailed link, new password, sign in; then changed on the profile', async (t) => {
  await new WebClient(stack.url).signUp({ email: EMAIL, password: FIRST, name: 'Forgetful' });
  const browser = await launchBrowser();
  t.teardown(() => browser.close());
  const page = await newPage(browser, DESKTOP);
  t.teardown(() => page.close());

  await page.goto(`${stack.url}/signin`);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.waitForURL(`${stack.url}/password/forgot`);
  await page.getByLabel('E-mail').fill(EMAIL);
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await page.locator('.notice').waitFor();
  t.match(await page.locator('.notice').innerText(), /a link to set a new password is on its way there; it works for one hour/);
  await screenshot(page, import.meta.filename, 'link asked for');

  const reset = await mail('GAS: Reset your password');
  const link = /^(http\S+\/password\/reset\?token=\S+)$/m.exec(reset.text)?.[1];
  t.ok(link, 'the mail has the link');
  // The mail names the address the stack was told is public; the test's gateway is elsewhere.
  const url = new URL(link!);
  await page.goto(`${stack.url}${url.pathname}${url.search}`);
  await page.getByLabel('New password').fill(SECOND);
  await page.getByLabel('The same again').fill(`${SECOND}.`);
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await page.locator('p.error').waitFor();
  t.equal(await page.locator('p.error').innerText(), 'The two new passwords are not the same.');
  await page.getByLabel('New password').fill(SECOND);
  await page.getByLabel('The same again').fill(SECOND);
  await screenshot(page, import.meta.filename, 'new password');
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await page.locator('.notice').waitFor();
  t.match(await page.locator('.notice').innerText(), /Your password was changed, and every session of the account was signed out/);
  t.equal(await page.locator('h1').innerText(), 'Sign in', 'the sign-in page, to use it at once');
  t.notOk(await signsIn(FIRST), 'the old password no longer signs in');
  t.match((await mail('GAS: Your password was changed')).text, /changed/);

  await page.getByLabel('E-mail').fill(EMAIL);
  await page.getByLabel('Password').fill(SECOND);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/jobs/);

  await page.goto(`${stack.url}/profile`);
  await page.getByLabel('Current password').fill(SECOND);
  await page.getByLabel('New password').fill(THIRD);
  await page.getByLabel('The same again').fill(THIRD);
  await page.getByRole('button', { name: 'Change the password' }).click();
  await page.waitForURL(`${stack.url}/profile?password=changed#password`);
  t.match(await page.locator('.notice').innerText(), /Your password was changed; your other sessions were signed out\./);
  await screenshot(page, import.meta.filename, 'changed on the profile');
  t.notOk(await signsIn(SECOND));
  t.ok(await signsIn(THIRD));
  await mail('GAS: Your password was changed', 2);
});
