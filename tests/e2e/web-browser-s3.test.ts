// The upload page with the S3 store, in a real Chromium: the file goes from the browser straight
// to the bucket on a ticket (CORS and the page's CSP allow exactly that), and the job completes.
import t from 'tap';
import { launchBrowser, newPage, pageErrors, screenshot, sharedDataPath, startGasStack, DESKTOP } from '@gas/testing';

const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');

const stack = await startGasStack({ store: 's3', services: ['job', 'annotator', 'gateway'] });
t.teardown(() => stack.stop());
const browser = await launchBrowser();
// Teardowns run last-added first: the browser closes before the stack stops.
t.teardown(() => browser.close());

t.test('a VCF uploaded on the page goes straight to the bucket and becomes a job that completes', async (t) => {
  const page = await newPage(browser, DESKTOP);
  t.teardown(() => page.close());
  const sent: string[] = [];
  page.on('request', (r) => sent.push(`${r.method()} ${r.url()}`));
  await page.goto(`${stack.url}/signup`);
  await page.getByLabel('Name').fill('Barbara McClintock');
  await page.getByLabel('E-mail').fill('barbara@example.org');
  await page.getByLabel(/^Password/).fill('jumping genes 1983');
  await page.getByRole('button', { name: 'Create account' }).click();
  // Sign-up signs nobody in (it answers alike for taken addresses): the sign-in form follows.
  await page.locator('.notice').waitFor();
  await page.getByLabel('Password').fill('jumping genes 1983');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/jobs/);
  await page.goto(`${stack.url}/upload`);
  await page.getByLabel('GRCh37 / hg19').check();
  await page.setInputFiles('input[type=file]', FREE_1);
  await page.getByRole('button', { name: 'Annotate' }).click();
  await page.waitForURL(/\/jobs\/[0-9A-Z]{26}$/);
  await page.locator('section.job[data-status="COMPLETED"]').waitFor({ timeout: 60_000 });
  t.match(await page.locator('dl.stats').innerText(), /Variants\s+1,141/);
  await screenshot(page, import.meta.filename, 'job done from a direct upload');
  const s3 = stack.s3!.endpoint;
  t.ok(
    sent.some((r) => r === `POST ${s3}/${stack.s3!.buckets.inputs}` || r.startsWith(`POST ${s3}/${stack.s3!.buckets.inputs}`)),
    'the file went to the bucket',
    { sent },
  );
  t.ok(sent.includes(`POST ${stack.url}/api/v1/uploads/complete`), 'the ticket was redeemed', { sent });
  t.notOk(sent.includes(`POST ${stack.url}/api/v1/jobs`), 'not through the gateway', { sent });
  t.strictSame(pageErrors(page), [], 'no script or console errors');
});
