// The upload page with the S3 store, in a real Chromium: the file goes from the browser straight
// to the bucket on a ticket (CORS and the page's CSP allow exactly that), and the job completes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, pageErrors, screenshot, sharedDataPath, startGasStack, DESKTOP } from '@gas/testing';
import type { Browser, GasStack } from '@gas/testing';

const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');

let stack: GasStack;
let browser: Browser;

before(async () => {
  stack = await startGasStack({ store: 's3', services: ['job', 'annotator', 'gateway'] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('a VCF uploaded on the page goes straight to the bucket and becomes a job that completes', async () => {
  const page = await newPage(browser, DESKTOP);
  const sent: string[] = [];
  page.on('request', (r) => sent.push(`${r.method()} ${r.url()}`));
  await page.goto(`${stack.url}/signup`);
  await page.getByLabel('Name').fill('Barbara McClintock');
  await page.getByLabel('E-mail').fill('barbara@example.org');
  await page.getByLabel(/^Password/).fill('jumping genes 1983');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/\/jobs/);
  await page.goto(`${stack.url}/upload`);
  await page.getByLabel('GRCh37 / hg19').check();
  await page.setInputFiles('input[type=file]', FREE_1);
  await page.getByRole('button', { name: 'Annotate' }).click();
  await page.waitForURL(/\/jobs\/[0-9A-Z]{26}$/);
  await page.locator('section.job[data-status="COMPLETED"]').waitFor({ timeout: 60_000 });
  assert.match(await page.locator('dl.stats').innerText(), /Variants\s+1,141/);
  await screenshot(page, import.meta.filename, 'job done from a direct upload');
  const s3 = stack.s3!.endpoint;
  assert.ok(sent.some((r) => r === `POST ${s3}/${stack.s3!.buckets.inputs}` || r.startsWith(`POST ${s3}/${stack.s3!.buckets.inputs}`)), `the file went to the bucket:\n${sent.join('\n')}`);
  assert.ok(sent.includes(`POST ${stack.url}/api/v1/uploads/complete`));
  assert.ok(!sent.includes(`POST ${stack.url}/api/v1/jobs`), 'not through the gateway');
  assert.deepEqual(pageErrors(page), []);
  await page.close();
});
