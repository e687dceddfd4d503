// A GRCh37 file submitted as GRCh38, on the real stack: the job completes, and the API, the summary
// and the job page say the file looks like GRCh37 and that its chromosome has no GRCh38 gene
// models here. In Chromium, choosing the same file on the upload page preselects GRCh37 and says why.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { launchBrowser, newPage, pageErrors, screenshot, sharedDataPath, startGasStack, WebClient, DESKTOP } from '@gas/testing';
import type { Page } from '@gas/testing';

// GIAB NA12878, hg19 chr20 10.0-10.1 Mb: BGZF, 221 records, `##contig` lines at GRCh37 lengths.
const GRCH37_GZ = sharedDataPath('vcf/grch37/GIAB_NA12878_hg19_chr20_10.0-10.1Mb.vcf.gz');
const RECORDS = 221;
const EMAIL = 'barbara@example.org';
const PASSWORD = 'jumping genes 1950';

const stack = await startGasStack({ store: 'filesystem' });
t.teardown(() => stack.stop());
const browser = await launchBrowser();
t.teardown(() => browser.close());
const shot = (page: Page, step: string) => screenshot(page, import.meta.filename, step);

interface Warning {
  code: string;
  message: string;
}

t.test('through the API: accepted as GRCh38 with the warning, completed with it and the coverage warnings', async (t) => {
  const user = stack.users[0]!;
  const res = await stack.submit(user, GRCH37_GZ, { genomeBuild: 'GRCh38' });
  t.equal(res.status, 201, await res.clone().text());
  const created = (await res.json()) as { id: string; genome_build: string; warnings: Warning[] };
  t.equal(created.genome_build, 'GRCh38', 'the build chosen stands');
  t.match(created.warnings, [
    { code: 'build_mismatch', message: /^This file looks like GRCh37 \(contig lengths\), but it was annotated as GRCh38/ },
  ]);

  const job = await stack.waitForJob(user, created.id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED');
  t.equal(job.status, 'COMPLETED', JSON.stringify(job));
  const warnings = (job as unknown as { warnings: Warning[] }).warnings;
  t.strictSame(
    warnings.map((w) => w.code),
    ['build_mismatch', 'uncovered_chromosomes', 'no_dbsnp_chromosomes'],
  );
  t.equal(
    warnings[1]!.message,
    `100% of variants (${RECORDS} of ${RECORDS}) are on chromosomes this reference has no GRCh38 gene models for (chr20): ` +
      'they come out intergenic, with no genes.',
  );

  const summary = (await (await stack.api(user, `/api/v1/jobs/${created.id}/summary`)).json()) as {
    headerBuild: { build: string; basis: string };
    coverage: Array<{ chrom: string; records: number; genes: boolean; dbsnp: boolean }>;
    warnings: Warning[];
  };
  t.strictSame(summary.headerBuild, { build: 'GRCh37', basis: 'contig lengths' });
  t.match(summary.coverage, [{ chrom: 'chr20', records: RECORDS, genes: false, dbsnp: false }]);
  t.strictSame(summary.warnings, warnings, 'the summary and the job say the same');
});

t.test('the build hint the upload page asks for: the same detection as the upload check, behind sign-in and CSRF', async (t) => {
  const hint = (web: WebClient, body: Uint8Array, csrf?: string) =>
    web.request('/upload/build-hint', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/octet-stream', ...(csrf ? { 'x-csrf-token': csrf } : {}) },
    });
  const head = (await readFile(GRCH37_GZ)).subarray(0, 64 * 1024);
  const anonymous = new WebClient(stack.url);
  t.equal((await hint(anonymous, head)).status, 401, 'signed out');
  const web = new WebClient(stack.url);
  const csrf = await web.signUp({ email: 'hint@example.org', password: 'hinting at builds', name: 'Hint' });
  t.equal((await hint(web, head)).status, 403, 'without the CSRF token');
  const gz = await hint(web, head, csrf);
  t.equal(gz.status, 200);
  t.strictSame(JSON.parse(gz.text), { build: 'GRCh37', basis: 'contig lengths' }, 'BGZF head, inflated on the server');
  const plain = await hint(web, new TextEncoder().encode('##fileformat=VCFv4.2\n##reference=GRCh38.fa\n#CHROM\tPOS\n'), csrf);
  t.strictSame(JSON.parse(plain.text), { build: 'GRCh38', basis: '##reference line' });
  const none = await hint(web, new TextEncoder().encode('##fileformat=VCFv4.2\n#CHROM\tPOS\n'), csrf);
  t.strictSame(JSON.parse(none.text), { build: null, basis: null });
  t.equal((await hint(web, new Uint8Array(64 * 1024 + 1), csrf)).status, 413, 'more than the head is refused');
});

t.test('in Chromium: choosing the GRCh37 file preselects GRCh37; sent as GRCh38 anyway, the job page warns', async (t) => {
  const page = await newPage(browser, DESKTOP);
  t.teardown(() => page.close());
  const errors = pageErrors(page);
  await page.goto(`${stack.url}/signup`);
  await page.getByLabel('Name').fill('Barbara McClintock');
  await page.getByLabel('E-mail').fill(EMAIL);
  await page.getByLabel('Institution').fill('Cold Spring Harbor');
  await page.getByLabel(/^Password/).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/jobs/);

  await page.goto(`${stack.url}/upload`);
  t.ok(await page.getByLabel('GRCh38 / hg38').isChecked(), 'GRCh38 before a file is chosen');
  await page.setInputFiles('input[type=file]', GRCH37_GZ);
  const hint = page.locator('.build-hint');
  await hint.waitFor({ state: 'visible' });
  t.equal(await hint.innerText(), "The file's header says GRCh37 (contig lengths), so GRCh37 is selected.");
  t.ok(await page.getByLabel('GRCh37 / hg19').isChecked(), 'GRCh37 preselected from the header (a BGZF file, read in the page)');
  await shot(page, 'GRCh37 preselected');

  // The user overrides the choice: the job runs as GRCh38 and says what it found.
  await page.getByLabel('GRCh38 / hg38').check();
  await page.getByRole('button', { name: 'Annotate' }).click();
  await page.waitForURL(/\/jobs\/[0-9A-Z]{26}$/);
  await page.locator('section.job[data-status="COMPLETED"]').waitFor({ timeout: 60_000 });
  const callout = page.locator('.callout.warning');
  t.match(await callout.innerText(), /Check these results\./);
  t.match(await callout.innerText(), /This file looks like GRCh37 \(contig lengths\), but it was annotated as GRCh38/);
  t.match(
    await callout.innerText(),
    /100% of variants \(221 of 221\) are on chromosomes this reference has no GRCh38 gene models for \(chr20\)/,
  );
  t.match(
    await page.locator('details.coverage summary').innerText(),
    /Reference coverage \(GRCh38\): 0\s%\sof variants are on chromosomes with gene models, 0\s%\swith dbSNP, 100\s%\swith sequence/,
  );
  // The flanking genes of an intergenic variant on a chromosome without gene models, in words.
  t.match(await page.locator('.preview-table tbody tr').first().innerText(), /intergenic\s+none on this chromosome/);
  await shot(page, 'job page with warnings');

  const id = page.url().split('/').at(-1)!;
  const api = await page.request.get(`${stack.url}/api/v1/jobs/${id}`);
  t.equal(api.status(), 200);
  t.match(((await api.json()) as { warnings: Warning[] }).warnings, [{ code: 'build_mismatch' }, { code: 'uncovered_chromosomes' }]);
  t.strictSame(errors, [], 'no script errors');
});
