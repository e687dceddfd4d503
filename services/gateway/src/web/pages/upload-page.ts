import { html } from '../html.ts';
import type { Html } from '../html.ts';
import { page } from '../layout.ts';
import type { Viewer } from '../layout.ts';
import { formatBytes } from './job-status.ts';

export function uploadPage(o: { viewer: Viewer; limitBytes: number; samples: string[]; error?: string | null }): Html {
  const v = o.viewer;
  return page({
    title: 'Upload a VCF',
    viewer: v,
    nav: 'upload',
    scripts: ['upload.js'],
    body: html`<h1>Upload a VCF</h1>
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
<form class="card upload" method="post" action="/upload" enctype="multipart/form-data" data-limit="${o.limitBytes}">
  <input type="hidden" name="_csrf" value="${v.csrfToken}">
  <fieldset class="builds">
    <legend>Genome build</legend>
    <label class="choice"><input type="radio" name="genome_build" value="GRCh38" checked> GRCh38 / hg38</label>
    <label class="choice"><input type="radio" name="genome_build" value="GRCh37"> GRCh37 / hg19</label>
    <p class="build-hint muted" aria-live="polite" hidden></p>
  </fieldset>
  <label class="drop" for="file">
    <strong>Drop a VCF here</strong> or <span class="link">browse</span>
    <span class="muted">.vcf or .vcf.gz, up to ${formatBytes(o.limitBytes)} on your ${v.plan} plan${v.plan === 'free' ? html` (<a href="/subscribe">larger files with premium</a>)` : ''}</span>
    <input id="file" type="file" name="file" accept=".vcf,.gz,.bgz,text/x-vcf" required>
  </label>
  <p class="chosen muted" aria-live="polite"></p>
  <progress class="upload-progress" max="100" value="0" hidden></progress>
  <p class="upload-error error" role="alert" hidden></p>
  <button type="submit">Annotate</button>
</form>
${
  o.samples.length > 0
    ? html`<section class="samples"><h2>No VCF at hand?</h2><p>Try one of the original GAS course files (annotated against GRCh37; most were called on older builds, so treat their annotations as a demonstration):</p>
<form method="post" action="/upload/sample" class="sample-list">
  <input type="hidden" name="_csrf" value="${v.csrfToken}">
  ${o.samples.map((s) => html`<button type="submit" name="sample" value="${s}" class="secondary">${s}</button>`)}
</form></section>`
    : ''
}`,
  });
}
