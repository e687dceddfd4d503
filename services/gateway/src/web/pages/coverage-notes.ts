// What the job page says about how far the results can be trusted: the job's warnings (another
// genome build, chromosomes the reference lacks), what the reference covers per chromosome of the
// input, and why coding consequences can be "unknown".
import { html } from '../html.ts';
import type { Html } from '../html.ts';
import type { AnnotationSummary, ChromosomeCoverage } from '@gas/anntools/format';

export function warningsCallout(warnings: ReadonlyArray<{ code: string; message: string }>): Html | '' {
  if (warnings.length === 0) return '';
  return html`<div class="callout warning" role="note"><strong>Check these results.</strong>
<ul class="warnings">${warnings.map((w) => html`<li data-code="${w.code}">${w.message}</li>`)}</ul></div>`;
}

const number = (n: number) => n.toLocaleString('en');
const percent = (n: number, total: number) => `${total > 0 ? Math.round((100 * n) / total) : 0}\u00a0%`;

function spansText(r: ChromosomeCoverage): string {
  return r.sequence.map(([a, b]) => `${r.chrom}:${number(a)}–${number(b)}`).join(', ');
}

/** Why the chart shows "unknown" coding consequences: codon changes need the reference sequence there. */
export function unknownConsequenceNote(s: AnnotationSummary): Html | '' {
  const n = s.functions['unknown'] ?? 0;
  if (n === 0) return '';
  const build = s.build ?? 'this';
  const withSequence = (s.coverage ?? []).filter((r) => r.sequence.length > 0);
  const where = !s.coverage
    ? `the ${build} reference GAS uses has sequence for a few regions only`
    : withSequence.length === 0
      ? `the ${build} reference has no sequence (FASTA) for any chromosome in this file`
      : `of this file's chromosomes, the ${build} reference has sequence only for ${withSequence.map(spansText).join(', ')}`;
  return html`<p class="muted note unknown-note"><strong>Unknown coding consequences</strong> (${number(n)} alleles): the codon
and amino-acid change of a coding variant is computed from the reference sequence around it, and ${where}. Region classes,
genes and rsIDs do not need the sequence.</p>`;
}

/** One line on what share of the variants the reference covers, and a table per chromosome behind it. */
export function coverageSection(s: AnnotationSummary): Html | '' {
  const rows = s.coverage;
  if (!rows || rows.length === 0) return '';
  const total = rows.reduce((sum, r) => sum + r.records, 0);
  const share = (has: (r: ChromosomeCoverage) => boolean) =>
    percent(
      rows.filter(has).reduce((sum, r) => sum + r.records, 0),
      total,
    );
  const yes = (b: boolean) => (b ? html`<td class="yes">yes</td>` : html`<td class="no">no</td>`);
  return html`<details class="coverage"><summary>Reference coverage (${s.build}): ${share((r) => r.genes)} of variants are on
chromosomes with gene models, ${share((r) => r.dbsnp)} with dbSNP, ${share((r) => r.sequence.length > 0)} with sequence</summary>
<div class="table-wrap"><table class="coverage-table">
<thead><tr><th>Chromosome</th><th>Variants</th><th>Gene models</th><th>dbSNP</th><th>Sequence</th></tr></thead>
<tbody>${rows.map(
    (r) =>
      html`<tr><td>${r.chrom}</td><td class="count">${number(r.records)}</td>${yes(r.genes)}${yes(r.dbsnp)}<td>${r.sequence.length > 0 ? spansText(r) : 'no'}</td></tr>`,
  )}</tbody>
</table></div>
<p class="muted small">A chromosome without gene models gives intergenic variants with no genes; without dbSNP, no rsIDs; without
sequence, unknown coding consequences. dbSNP data may cover only part of a chromosome.</p>
</details>`;
}

/**
 * The preview's genes cell for an intergenic variant: the engine writes the nearest gene on each
 * side, NONE where there is none. Said in words instead of a dash.
 */
export function flankingGenesText(cell: string): string {
  const [left = 'NONE', right = 'NONE'] = cell.split('&');
  if (left === 'NONE' && right === 'NONE') return 'none on this chromosome';
  return `${left === 'NONE' ? 'none before' : left}, ${right === 'NONE' ? 'none after' : right}`;
}
