// Pairwise comparison of the three tools' calls on one window, and the grouping of every
// disagreement into a class with a count, examples and the reason (bench/agreement-explain.ts).
import type { Dataset } from './agreement-data.ts';
import { inCds, isCodingModel } from './agreement-models.ts';
import type { ModelTranscript } from './agreement-models.ts';
import { mostSevereTerm, OUTSIDE } from './agreement-calls.ts';
import type { RegionClass, ToolName, TranscriptCall, VariantCall } from './agreement-calls.ts';
import type { TestVariant, VariantKind } from './agreement-variants.ts';
import { explain } from './agreement-explain.ts';
import type { Explanation } from './agreement-explain.ts';

export type Pair = [ToolName, ToolName];
export const PAIRS: Pair[] = [
  ['ours', 'snpeff'],
  ['ours', 'csq'],
  ['snpeff', 'csq'],
];

export type MetricName =
  | 'consequence'
  | 'consequence per transcript'
  | 'most severe term'
  | 'most severe term per transcript'
  | 'region class'
  | 'HGVS p.'
  | 'protein change'
  | 'HGVS c.';

export const METRIC_HELP: Record<MetricName, string> = {
  consequence: 'most severe coding consequence over transcripts, for variants in the CDS of at least one model',
  'consequence per transcript': 'coding consequence on each transcript whose CDS holds the variant',
  'most severe term':
    "the most severe of VEP's terms over all transcripts, every variant (harmonised: VEP 105's splice terms read as splice_region / intron, flanks and intergenic as 'outside'; see agreement-calls.ts)",
  'most severe term per transcript':
    'the most severe harmonised VEP term on each transcript both tools name, where at least one puts the variant inside it (csq names only coding transcripts)',
  'region class':
    "strongest region class by ANNOVAR's precedence (against csq: up/downstream and intergenic read as 'outside', the ncRNA classes as one 'ncRNA')",
  'HGVS p.': 'HGVS p. per transcript where both tools give one',
  'protein change': 'first residue changed (position, reference, new) per transcript where both give one',
  'HGVS c.': 'HGVS c. per transcript where both tools give one',
};

/** Which pairs a metric applies to (csq writes neither HGVS p. nor c.; SnpEff and ours both do). */
const METRIC_PAIRS: Record<MetricName, Pair[]> = {
  consequence: PAIRS,
  'consequence per transcript': PAIRS,
  'most severe term': PAIRS,
  'most severe term per transcript': PAIRS,
  'region class': PAIRS,
  'HGVS p.': [['ours', 'snpeff']],
  'protein change': [
    ['ours', 'csq'],
    ['snpeff', 'csq'],
  ],
  'HGVS c.': [['ours', 'snpeff']],
};
export const METRICS = Object.keys(METRIC_PAIRS) as MetricName[];

export interface Example {
  variant: string;
  transcript?: string;
  values: [string, string];
  raw: Partial<Record<ToolName, string>>;
}

export interface DisagreementClass extends Explanation {
  metric: MetricName;
  kindOfVariant: VariantKind;
  pair: string;
  /** How often each pair of values ("first tool's → second tool's") occurs in the class. */
  values: Record<string, number>;
  count: number;
  examples: Example[];
}

export interface Tally {
  compared: number;
  agreed: number;
}

export interface Comparison {
  /** metric → variant kind → "ours/snpeff" → tally. */
  tallies: Record<string, Record<string, Record<string, Tally>>>;
  classes: DisagreementClass[];
  /** Our FUNCTION column against the most severe of our own per-transcript p. (a self-check). */
  ourFunctionConsistency: Tally & { examples: Example[] };
  /** Terms a tool wrote that have no place in the unified vocabulary. */
  unmappedTerms: Record<string, number>;
}

const EXAMPLES = 3;

/**
 * The region value compared. csq has no word for some distinctions, so against csq they are
 * compared at its resolution: it annotates only variants that overlap a transcript (upstream,
 * downstream and intergenic are all "no BCSQ": 'outside'), and its non_coding covers exons,
 * introns and splice sites of a non-coding transcript alike ('ncRNA').
 */
function regionValue(regions: RegionClass[], withCsq: boolean): string {
  if (!withCsq) return regions.length ? regions.join('+') : 'none';
  if (regions.every((r) => r === 'upstream' || r === 'downstream' || r === 'intergenic')) return 'outside';
  return [...new Set(regions.map((r) => (r.startsWith('ncRNA') ? 'ncRNA' : r)))].join('+');
}

export function compare(ds: Dataset, variants: TestVariant[], calls: Record<ToolName, Map<string, VariantCall>>): Comparison {
  const codingModels = ds.transcripts.filter(isCodingModel);
  const nonCoding = new Set(ds.transcripts.filter((t) => !isCodingModel(t)).map((t) => t.id));
  /**
   * The most severe term at csq's resolution: csq says only "non_coding" for a non-coding
   * transcript, whatever part of it the variant is in, so every term of such a transcript reads as
   * that one (non_coding_transcript_exon_variant stands for it), as the region class does with ncRNA.
   */
  const severeForCsq = (call: VariantCall): string =>
    mostSevereTerm(
      [...call.terms].flatMap(([tx, terms]) =>
        nonCoding.has(tx) && terms.some((t) => t !== OUTSIDE) ? ['non_coding_transcript_exon_variant'] : terms,
      ),
    );
  const tallies: Comparison['tallies'] = {};
  const classes = new Map<string, DisagreementClass>();
  const unmappedTerms: Record<string, number> = {};
  const consistency: Comparison['ourFunctionConsistency'] = { compared: 0, agreed: 0, examples: [] };

  const tally = (metric: MetricName, kind: string, pair: Pair, agreed: boolean) => {
    const t = (((tallies[metric] ??= {})[kind] ??= {})[pair.join('/')] ??= { compared: 0, agreed: 0 });
    t.compared++;
    if (agreed) t.agreed++;
  };
  let real = false;
  // Records from the real call sets are also counted on their own ("real snv"), so their share of
  // the figures is visible next to the generated positions.
  const count = (metric: MetricName, kind: VariantKind, pair: Pair, agreed: boolean) => {
    tally(metric, kind, pair, agreed);
    if (real) tally(metric, `real ${kind}`, pair, agreed);
  };
  const disagree = (
    metric: MetricName,
    v: TestVariant,
    pair: Pair,
    values: [string, string],
    cs: [VariantCall, VariantCall],
    tx?: ModelTranscript,
  ) => {
    const { transcript, ...why } = explain(ds, { metric, variant: v, pair, values, calls: cs, transcript: tx });
    const key = `${metric}|${v.kind}|${pair.join('/')}|${why.id}`;
    let c = classes.get(key);
    if (!c) classes.set(key, (c = { ...why, metric, kindOfVariant: v.kind, pair: pair.join('/'), values: {}, count: 0, examples: [] }));
    c.count++;
    const pairKey = `${values[0]} → ${values[1]}`;
    c.values[pairKey] = (c.values[pairKey] ?? 0) + 1;
    // Several value pairs may share one reason: keep the examples varied.
    if (c.examples.length < EXAMPLES && !c.examples.some((e) => e.values.join() === values.join())) {
      c.examples.push({
        variant: `${ds.chrom}:${v.pos} ${v.ref}>${v.alt}`,
        ...(transcript ? { transcript } : {}),
        values,
        raw: { [pair[0]]: cs[0].raw, [pair[1]]: cs[1].raw },
      });
    }
  };

  for (const v of variants) {
    const c = { ours: calls.ours.get(v.id), snpeff: calls.snpeff.get(v.id), csq: calls.csq.get(v.id) };
    if (!c.ours || !c.snpeff || !c.csq)
      throw new Error(
        `${v.id} (${ds.chrom}:${v.pos} ${v.ref}>${v.alt}) is missing from ${Object.entries(c)
          .filter(([, x]) => !x)
          .map(([k]) => k)
          .join(', ')}'s output`,
      );
    const cs = c as Record<ToolName, VariantCall>;
    for (const [tool, call] of Object.entries(cs))
      for (const term of call.unmapped) unmappedTerms[`${tool}: ${term}`] = (unmappedTerms[`${tool}: ${term}`] ?? 0) + 1;
    if (v.kind === 'mnv') continue;
    real = v.sources.some((x) => x.startsWith('vcf:'));

    // The CDS of which models holds the variant (for an indel: its first changed base).
    const at = v.kind === 'snv' ? v.pos : v.pos + 1;
    const inCdsOf = codingModels.filter((t) => inCds(t, at));

    for (const pair of PAIRS) {
      const [a, b] = [cs[pair[0]], cs[pair[1]]];
      const withCsq = pair.includes('csq');
      const ta = withCsq ? severeForCsq(a) : a.severeTerm;
      const tb = withCsq ? severeForCsq(b) : b.severeTerm;
      count('most severe term', v.kind, pair, ta === tb);
      if (ta !== tb) disagree('most severe term', v, pair, [ta, tb], [a, b]);
      if (v.kind === 'snv') {
        for (const [tx, termsA] of a.terms) {
          const termsB = b.terms.get(tx);
          if (tx === OUTSIDE || !termsB) continue;
          const xa = mostSevereTerm(termsA);
          const xb = mostSevereTerm(termsB);
          if (xa === OUTSIDE && xb === OUTSIDE) continue;
          count('most severe term per transcript', v.kind, pair, xa === xb);
          if (xa !== xb)
            disagree(
              'most severe term per transcript',
              v,
              pair,
              [xa, xb],
              [a, b],
              ds.transcripts.find((t) => t.id === tx),
            );
        }
      }

      const ra = regionValue(a.regions, withCsq);
      const rb = regionValue(b.regions, withCsq);
      count('region class', v.kind, pair, ra === rb);
      if (ra !== rb) disagree('region class', v, pair, [ra, rb], [a, b]);

      if (inCdsOf.length === 0) continue;
      const sa = a.severe ?? 'none';
      const sb = b.severe ?? 'none';
      count('consequence', v.kind, pair, sa === sb);
      if (sa !== sb) disagree('consequence', v, pair, [sa, sb], [a, b]);

      if (v.kind !== 'snv') continue;
      for (const t of inCdsOf) {
        const ta: TranscriptCall | undefined = a.transcripts.get(t.id);
        const tb: TranscriptCall | undefined = b.transcripts.get(t.id);
        const ca = ta?.coding ?? 'none';
        const cb = tb?.coding ?? 'none';
        count('consequence per transcript', v.kind, pair, ca === cb);
        if (ca !== cb) disagree('consequence per transcript', v, pair, [ca, cb], [a, b], t);
        for (const [metric, field] of [
          ['HGVS p.', 'hgvsP'],
          ['protein change', 'protein'],
          ['HGVS c.', 'hgvsC'],
        ] as const) {
          if (!METRIC_PAIRS[metric].some((p) => p.join() === pair.join())) continue;
          const xa = ta?.[field];
          const xb = tb?.[field];
          if (!xa || !xb) continue;
          count(metric, v.kind, pair, xa === xb);
          if (xa !== xb) disagree(metric, v, pair, [xa, xb], [a, b], t);
        }
      }
    }

    if (c.ours.severe || c.ours.reported) {
      consistency.compared++;
      if (c.ours.severe === c.ours.reported) consistency.agreed++;
      else if (consistency.examples.length < EXAMPLES) {
        consistency.examples.push({
          variant: `${ds.chrom}:${v.pos} ${v.ref}>${v.alt}`,
          values: [c.ours.reported ?? 'none', c.ours.severe ?? 'none'],
          raw: { ours: c.ours.raw },
        });
      }
    }
  }
  const ordered = [...classes.values()].sort(
    (x, y) => METRICS.indexOf(x.metric) - METRICS.indexOf(y.metric) || x.pair.localeCompare(y.pair) || y.count - x.count,
  );
  return { tallies, classes: ordered, ourFunctionConsistency: consistency, unmappedTerms };
}
