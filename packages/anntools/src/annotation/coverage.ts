// After a run: which of the input's chromosomes the reference covers, and the warnings a user needs
// when the results cannot be what they expect (another genome build, records at positions their
// chromosome does not have, or most variants where the reference has no genes or dbSNP). The job
// completes either way; the warnings go with it.
import { canonicalChrom } from '../chrom-alias.ts';
import { buildMismatchWarning, detectBuild } from '../genome-build.ts';
import type { JobWarningText } from '../genome-build.ts';
import type { ReferenceCoverage } from '../reference.ts';
import type { AnnotationSummary, ChromosomeCoverage, OutsideChromosome } from './summary.ts';

/** A warning is given when at least this share of the records is on chromosomes without the data. */
export const UNCOVERED_WARNING_SHARE = 0.1;
/** Chromosomes named in a warning before "and N more". */
const NAMED = 5;

export function chromosomeCoverage(chromosomes: Record<string, number>, coverage: ReferenceCoverage): ChromosomeCoverage[] {
  const genes = new Set(coverage.genes);
  const dbsnp = new Set(coverage.dbsnp);
  return Object.entries(chromosomes).map(([chrom, records]) => {
    const c = canonicalChrom(chrom);
    return { chrom, records, genes: genes.has(c), dbsnp: dbsnp.has(c), sequence: coverage.sequence[c] ?? [] };
  });
}

function percent(n: number, total: number): string {
  let p = Math.round((100 * n) / total);
  // "100%" would say every variant when one is not.
  if (p === 100 && n < total) p = 99;
  return `${p}%`;
}

function names(list: string[]): string {
  return list.length <= NAMED ? list.join(', ') : `${list.slice(0, NAMED).join(', ')} and ${list.length - NAMED} more`;
}

function uncovered(
  rows: ChromosomeCoverage[],
  records: number,
  has: (r: ChromosomeCoverage) => boolean,
  code: JobWarningText['code'],
  what: string,
  consequence: string,
): JobWarningText | null {
  const missing = rows.filter((r) => !has(r));
  const n = missing.reduce((s, r) => s + r.records, 0);
  if (records === 0 || n / records < UNCOVERED_WARNING_SHARE) return null;
  return {
    code,
    message:
      `${percent(n, records)} of variants (${n.toLocaleString('en')} of ${records.toLocaleString('en')}) are on chromosomes ` +
      `this reference has no ${what} for (${names(missing.map((r) => r.chrom))}): ${consequence}.`,
  };
}

/** The warning for records whose POS or REF is not on their chromosome (they were not annotated). */
export function outsideChromosomeWarning(o: OutsideChromosome): JobWarningText {
  const n = o.records;
  const length =
    o.length === null
      ? null
      : `${o.chrom} is ${o.length.toLocaleString('en')} bp ${o.lengthFrom === 'header' ? "by this file's own ##contig header line" : `in ${o.lengthFrom}`}`;
  const reach = o.refEnd > o.pos && o.pos > 0 ? ` (its REF runs to ${o.refEnd})` : '';
  const first = `${n === 1 ? 'it is' : 'the first is'} on line ${o.line.toLocaleString('en')}, ${o.chrom}:${o.pos}${reach}`;
  const why =
    o.pos === 0
      ? `${first}, and POS 0 stands for the telomere before the first base, not a base${length ? ` (${length})` : ''}`
      : `${first}, but ${length}`;
  return {
    code: 'outside_chromosome',
    message:
      `${n.toLocaleString('en')} ${n === 1 ? 'record lies outside its chromosome and was' : 'records lie outside their chromosome and were'} ` +
      `not annotated (GAS_SKIP=outside_chromosome): ${why}. A file called against another genome build, or a damaged file, ` +
      `is the usual cause.`,
  };
}

/**
 * Fills the summary's header build, per-chromosome coverage and warnings. `header` is the input's
 * `##` lines; without a reference (a count-only run) only the header's build is recorded.
 * `outside`: the run's records outside their chromosome (the engine does not annotate them).
 */
export function checkCoverage(
  s: AnnotationSummary,
  header: string,
  coverage: ReferenceCoverage | undefined,
  outside: OutsideChromosome | null = null,
): void {
  const evidence = detectBuild(header);
  s.headerBuild = evidence.build ? { build: evidence.build, basis: evidence.basis! } : null;
  if (!s.build || !coverage) return;
  const warnings: JobWarningText[] = [];
  const mismatch = buildMismatchWarning(evidence, s.build);
  if (mismatch) warnings.push(mismatch);
  if (outside) warnings.push(outsideChromosomeWarning(outside));
  const rows = chromosomeCoverage(s.chromosomes, coverage);
  const genes = uncovered(
    rows,
    s.records,
    (r) => r.genes,
    'uncovered_chromosomes',
    `${s.build} gene models`,
    'they come out intergenic, with no genes',
  );
  const dbsnp = uncovered(rows, s.records, (r) => r.dbsnp, 'no_dbsnp_chromosomes', `${s.build} dbSNP data`, 'they get no rsID');
  for (const w of [genes, dbsnp]) if (w) warnings.push(w);
  s.coverage = rows;
  s.warnings = warnings;
}
