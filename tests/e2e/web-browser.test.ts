// The web experience in a real Chromium, end to end on the real stack: sign up, upload a shared
// VCF, watch it finish live, read the summary and log, download, be refused an over-limit upload,
// upgrade, and upload the large file. Then the same pages at phone width. Every page is
// screenshotted under .artifacts/screenshots/web-browser.test/.
import t from 'tap';
import type { Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { launchBrowser, newPage, pageErrors, screenshot, sharedDataPath, startGasStack, DESKTOP, PHONE } from '@gas/testing';
import type { Page } from '@gas/testing';
import { create, JobSchema, JobStatus } from '@gas/proto';
import { jobView } from '../../services/gateway/src/job-view.ts';
import { statusCell } from '../../services/gateway/src/web/pages/job-status.ts';

const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
// 175,701 bytes: over the free plan's 150 KB.
const PREMIUM_1 = sharedDataPath('vcf/gas_anntools/premium_1.vcf');
const EMAIL = 'rosalind@example.org';
const PASSWORD = 'double helix 1953';

const stack = await startGasStack({ store: 'filesystem' });
t.teardown(() => stack.stop());
const browser = await launchBrowser();
// Teardowns run last-added first: the browser closes before the stack stops.
t.teardown(() => browser.close());

const shot = (page: Page, step: string) => screenshot(page, import.meta.filename, step);

/** No part of the page is wider than the window (nothing to scroll sideways but tables). */
async function fitsWidth(t: Test, page: Page): Promise<void> {
  // Expressions as strings: they run in the page, whose DOM types this Node project does not load.
  const { scroll, width } = await page.evaluate<{ scroll: number; width: number }>(
    '({ scroll: document.documentElement.scrollWidth, width: window.innerWidth })',
  );
  t.ok(scroll <= width, `the page is ${scroll} px wide in a ${width} px window`);
}

t.test('sign up, upload, watch it finish live, read summary and log, download, over-limit refused, upgrade, large upload', async (t) => {
  const page = await newPage(browser, DESKTOP);
  t.teardown(() => page.close());
  await page.goto(stack.url);
  await shot(page, 'landing');
  await page.getByRole('link', { name: 'Create a free account' }).click();
  await page.getByLabel('Name').fill('Rosalind Franklin');
  await page.getByLabel('E-mail').fill(EMAIL);
  await page.getByLabel('Institution').fill("King's College London");
  await page.getByLabel(/^Password/).fill(PASSWORD);
  await shot(page, 'sign up');
  await page.getByRole('button', { name: 'Create account' }).click();
  // Sign-up answers alike whether or not the address has an account, so it signs nobody in: the
  // sign-in form follows, with the address filled in.
  t.match(
    await page.locator('.notice').innerText(),
    /^If this address is new, your account is ready: sign in with the password you chose\./,
  );
  t.equal(await page.getByLabel('E-mail').inputValue(), EMAIL);
  await shot(page, 'signed up');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/jobs\?welcome=1$/);
  t.match(await page.locator('.notice').innerText(), /Welcome to GAS/);
  await shot(page, 'jobs empty');

  // A second tab stays on the jobs page: the new job must appear there and finish without a reload.
  const watcher = await page.context().newPage();
  t.teardown(() => watcher.close());
  await watcher.goto(`${stack.url}/jobs`);
  await watcher.evaluate('window.stayed = true');
  await watcher.waitForSelector('.live-note:not([hidden])');

  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.waitForURL(/\/upload$/);
  await page.getByLabel('GRCh37 / hg19').check();
  await page.setInputFiles('input[type=file]', FREE_1);
  t.match(await page.locator('.chosen').innerText(), /free_1\.vcf \(32 KB\)/);
  await shot(page, 'upload chosen');
  await page.getByRole('button', { name: 'Annotate' }).click();
  await page.waitForURL(/\/jobs\/[0-9A-Z]{26}$/);
  const jobId = page.url().split('/').at(-1)!;

  // The watching tab: the row arrives and turns Done, and the tab was never reloaded.
  const row = watcher.locator(`tr[data-job="${jobId}"]`);
  await row.locator('.badge.completed').waitFor({ timeout: 60_000 });
  t.equal(await watcher.evaluate('window.stayed'), true, 'updated live, not by a reload');
  t.match(await row.locator('td.name').innerText(), /free_1\.vcf/);
  await shot(watcher, 'jobs live done');

  // The job page reloads itself once when the job is done: summary, charts, preview and log.
  await page.locator('section.job[data-status="COMPLETED"]').waitFor({ timeout: 60_000 });
  await page.locator('section.summary').waitFor();
  t.match(await page.locator('dl.stats').innerText(), /Variants\s+1,141/);
  t.equal(await page.locator('figure.chart').count(), 2, 'region classes and chromosomes (no coding consequences without genes on MT)');
  t.match(await page.locator('section.log pre').innerText(), /1141/);
  t.ok((await page.locator('.preview-table tbody tr').count()) > 10);
  await shot(page, 'job done');
  // The preview filter narrows the rows.
  await page.getByLabel('Class').selectOption('intergenic');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/region=intergenic/);
  t.ok((await page.locator('.preview-table tbody tr').count()) > 0);

  // Download the annotated VCF through the page's link.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Annotated VCF' }).click()]);
  t.equal(download.suggestedFilename(), 'free_1.annot.vcf.gz');
  const vcf = gunzipSync(await readFile(await download.path())).toString('utf8');
  t.equal(vcf.split('\n').filter((l) => l && !l.startsWith('#')).length, 1141);
  t.match(vcf, /##INFO=<ID=GAS_REGION/);

  // Over the free limit: the page says so before sending, and the server refuses it too.
  await page.goto(`${stack.url}/upload`);
  await page.getByLabel('GRCh37 / hg19').check();
  await page.setInputFiles('input[type=file]', PREMIUM_1);
  t.match(await page.locator('.upload-error').innerText(), /This file is 172 KB; your plan accepts up to 150 KB/);
  await page.getByRole('button', { name: 'Annotate' }).click();
  await page.locator('.upload-error a[href="/subscribe"]').waitFor();
  t.match(
    await page.locator('.upload-error').innerText(),
    /^The file is larger than 150 KB, the free plan's limit; upgrade to premium to annotate larger files\. See the plans$/,
  );
  await shot(page, 'upload over limit');
  const listed = await page.evaluate(async () => ((await (await fetch('/api/v1/jobs')).json()) as { jobs: unknown[] }).jobs.length);
  t.equal(listed, 1, 'nothing was created for the refused upload');

  // Upgrade through the built-in billing provider.
  await page.locator('.upload-error a[href="/subscribe"]').click();
  await page.waitForURL(/\/subscribe$/);
  await shot(page, 'plans');
  await page.getByRole('button', { name: 'Upgrade' }).click();
  await page.waitForURL(/\/billing\/builtin\/checkout\?token=/);
  await shot(page, 'checkout');
  await page.getByRole('button', { name: 'Confirm upgrade' }).click();
  await page.waitForURL(/\/subscribe\?upgraded=1$/);
  t.match(await page.locator('h1').innerText(), /You are on premium/);
  await shot(page, 'premium');

  // Now the large file goes through and is annotated.
  await page.goto(`${stack.url}/upload`);
  await page.getByLabel('GRCh37 / hg19').check();
  await page.setInputFiles('input[type=file]', PREMIUM_1);
  t.equal(await page.locator('.upload-error').isHidden(), true);
  await page.getByRole('button', { name: 'Annotate' }).click();
  await page.waitForURL(/\/jobs\/[0-9A-Z]{26}$/);
  await page.locator('section.job[data-status="COMPLETED"]').waitFor({ timeout: 60_000 });
  t.match(await page.locator('dl.stats').innerText(), /Variants\s+3,000/);
  await shot(page, 'large job done');
  // The preview filters by gene and by rsID too.
  const genes = (await page.locator('.preview-table tbody tr td:nth-child(6)').allInnerTexts())
    .flatMap((g) => g.split(', '))
    .filter((g) => g && g !== '–');
  const gene = genes[0]!;
  await page.getByLabel('Gene').fill(gene);
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(new RegExp(`gene=${gene}`));
  const filtered = await page.locator('.preview-table tbody tr td:nth-child(6)').allInnerTexts();
  t.ok(filtered.length > 0 && filtered.every((g) => g.split(', ').includes(gene)), `${gene}: ${filtered.join(' | ')}`);
  await page.getByLabel('Gene').fill('');
  await page.getByLabel('rsID').fill('rs999999999999');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/rsid=rs999999999999/);
  t.match(await page.locator('section.preview .empty').innerText(), /No rows match among the first/);

  // The browser logs the refused upload's 413 itself; nothing else may appear.
  t.strictSame(
    pageErrors(page).filter((e) => !/status of 413 .*\/api\/v1\/uploads/.test(e)),
    [],
    `no script or console errors on ${page.url()}`,
  );
});

t.test('the pages work at phone width: nothing wider than the screen, navigation reachable', async (t) => {
  const page = await newPage(browser, PHONE);
  t.teardown(() => page.close());
  await page.goto(`${stack.url}/signin`);
  await fitsWidth(t, page);
  await shot(page, 'phone sign in');
  await page.getByLabel('E-mail').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/jobs$/);
  await fitsWidth(t, page);
  await shot(page, 'phone jobs');
  // A running job's "1 %" (the server's markup for it) stays on one line in the narrow status column.
  const running = statusCell(
    jobView(create(JobSchema, { jobId: '01ARZ3NDEKTSV4RRFFQ69G5FAV', status: JobStatus.RUNNING, progressDone: 1n, progressTotal: 100n })),
  ).text;
  const pctLines = await page.evaluate<number>(
    `(() => { const cell = document.querySelector('table.jobs td.status'); cell.innerHTML = ${JSON.stringify(running)};
      return cell.querySelector('.pct').getClientRects().length; })()`,
  );
  t.equal(pctLines, 1, '"1 %" is not broken across lines');
  const first = page.locator('table.jobs td.name a').first();
  await first.click();
  await page.waitForURL(/\/jobs\/[0-9A-Z]{26}$/);
  await fitsWidth(t, page);
  await shot(page, 'phone job');
  // A long log line (no spaces to break at, as a long file name or list) stays inside the log box.
  const log = await page.evaluate<{ scroll: number; client: number; right: number; box: number }>(
    `(() => { const pre = document.querySelector('section.log pre');
      pre.textContent += '\\nfile: ' + 'a_very_long_file_name_'.repeat(20) + '.vcf';
      return { scroll: pre.scrollWidth, client: pre.clientWidth, right: pre.getBoundingClientRect().right,
        box: pre.closest('section').getBoundingClientRect().right }; })()`,
  );
  t.ok(log.scroll <= log.client && log.right <= log.box + 0.5, `the log box holds its lines: ${JSON.stringify(log)}`);
  await fitsWidth(t, page);
  for (const path of ['/upload', '/profile', '/tokens', '/subscribe']) {
    await page.goto(stack.url + path);
    await fitsWidth(t, page);
    await shot(page, `phone ${path.slice(1).replace(/\//g, ' ')}`);
  }
  // Every navigation entry is visible and tappable at this width.
  for (const name of ['Jobs', 'Upload', 'API tokens', 'Profile', /^(Premium|Upgrade)$/, 'Sign out']) {
    t.equal(await page.getByRole('navigation', { name: 'Main' }).getByText(name, { exact: true }).isVisible(), true, String(name));
  }
  t.strictSame(pageErrors(page), [], 'no script or console errors');
  // The error page too (its own 404 is the one console message).
  await page.goto(`${stack.url}/no/such/page`);
  await fitsWidth(t, page);
  await shot(page, 'phone not found');
  t.strictSame(
    pageErrors(page).filter((e) => !e.includes('/no/such/page')),
    [],
    'only the 404 of the missing page',
  );
});
