// Changing an account's e-mail address on the real stack (nats-server, the job, notification and
// gateway services, an SMTP server), in Chromium: from the profile's link to the form, the link
// mailed to the new address, its button, and the profile with the new address; the old address is
// told and no longer signs in.
import t from 'tap';
import { launchBrowser, newPage, screenshot, startGasStack, startSmtpServer, WebClient, DESKTOP } from '@gas/testing';
import type { ReceivedMail } from '@gas/testing';

const OLD = 'moving@example.org';
const NEW = 'moved@example.net';
const PASSWORD = 'the password from sign-up';

const smtp = await startSmtpServer();
t.teardown(() => smtp.stop());
const stack = await startGasStack({
  store: 'filesystem',
  services: ['job', 'notification', 'gateway'],
  env: { notification: { SMTP_URL: smtp.url, SMTP_REQUIRE_TLS: 'false' } },
});
t.teardown(() => stack.stop());

async function mail(to: string, subject: string): Promise<ReceivedMail> {
  const wanted = (m: ReceivedMail) => m.envelope.to.includes(to) && m.subject === subject;
  return (await smtp.waitFor((ms) => ms.some(wanted), 30_000)).find(wanted)!;
}
const signsIn = async (email: string) => (await new WebClient(stack.url).signIn(email, PASSWORD)).status === 303;

t.test('profile, form, link at the new address, button: the account signs in with the new address', async (t) => {
  await new WebClient(stack.url).signUp({ email: OLD, password: PASSWORD, name: 'Moving' });
  const browser = await launchBrowser();
  t.teardown(() => browser.close());
  const page = await newPage(browser, DESKTOP);
  t.teardown(() => page.close());

  await page.goto(`${stack.url}/signin`);
  await page.getByLabel('E-mail').fill(OLD);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/jobs/);

  await page.goto(`${stack.url}/profile`);
  await page.getByRole('link', { name: 'Change your e-mail address' }).click();
  await page.waitForURL(`${stack.url}/profile/email`);
  await page.getByLabel('New e-mail address').fill(NEW);
  await page.getByLabel('Your password').fill('not the password');
  await page.getByRole('button', { name: 'Send the link' }).click();
  await page.locator('p.error').waitFor();
  t.equal(await page.locator('p.error').innerText(), 'The password is not right; nothing was changed.');
  t.equal(await page.getByLabel('New e-mail address').inputValue(), NEW, 'the typed address stays in the form');
  await page.getByLabel('Your password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Send the link' }).click();
  await page.locator('.email-change-pending').waitFor();
  t.match(await page.locator('.email-change-pending').innerText(), new RegExp(`A link to move your account to ${NEW} is on its way`));
  await screenshot(page, import.meta.filename, 'link asked for');

  const sent = await mail(NEW, 'GAS: Confirm your new email address');
  const link = /(http\S+\/change-email\?token=[A-Za-z0-9._%-]+)/.exec(sent.text)?.[1];
  t.ok(link, 'the mail at the new address has the link');
  t.ok(await signsIn(OLD), 'until it is opened, nothing changed');
  // The mail names the address the stack was told is public; the test's gateway is elsewhere.
  const url = new URL(link!);
  await page.goto(`${stack.url}${url.pathname}${url.search}`);
  t.match(await page.locator('main').innerText(), new RegExp(`Move your GAS account from ${OLD} to ${NEW}\\?`));
  await screenshot(page, import.meta.filename, 'the link');
  await page.getByRole('button', { name: 'Change my address' }).click();
  await page.waitForURL(`${stack.url}/profile?email=changed`);
  t.match(await page.locator('.notice').innerText(), new RegExp(`Your e-mail address is now ${NEW}; we told your old address`));
  t.equal(await page.getByLabel('E-mail', { exact: true }).inputValue(), NEW, 'the profile shows the new address');
  await screenshot(page, import.meta.filename, 'changed');

  t.notOk(await signsIn(OLD), 'the old address no longer signs in');
  t.ok(await signsIn(NEW), 'the new one does, with the same password');
  const told = await mail(OLD, 'GAS: The address of your account was changed');
  t.match(told.text, new RegExp(NEW.replace('.', '\\.')), 'the old address is told where the account went');

  // Had it not been the owner: the link in that mail takes the account back, in a browser with no session.
  const undo = /(http\S+\/undo-email-change\?token=[A-Za-z0-9._%-]+)/.exec(told.text)?.[1];
  t.ok(undo, 'the mail to the old address has the link back');
  const owner = await newPage(browser, DESKTOP);
  t.teardown(() => owner.close());
  const undoUrl = new URL(undo!);
  await owner.goto(`${stack.url}${undoUrl.pathname}${undoUrl.search}`);
  t.match(await owner.locator('main').innerText(), new RegExp(`was changed to ${NEW}`));
  await screenshot(owner, import.meta.filename, 'take it back');
  await owner.getByRole('button', { name: 'Take my account back' }).click();
  await owner.locator('.notice').waitFor();
  t.match(await owner.locator('.notice').innerText(), new RegExp(`The account is back at ${OLD}\\.`));
  await screenshot(owner, import.meta.filename, 'taken back');
  t.notOk(await signsIn(NEW), 'the new address no longer signs in');
  t.notOk(await signsIn(OLD), 'nor does the old password');
  await mail(OLD, 'GAS: Reset your password');
  await page.reload();
  t.match(page.url(), /\/signin/, 'the browser that made the change is signed out');
});
