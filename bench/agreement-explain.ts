// Why two tools disagree on a variant. Each rule checks a fact about the models or the sequence
// (not just the two values), so a class only takes the disagreements its reason really covers;
// whatever no rule covers stays "unexplained" and shows up in the report.
//
// Causes: `definition` (the tools define the term differently, neither is wrong), `model` (an
// incomplete model that the tools treat differently), `ours` (a shortcoming of our engine), `peer`
// (a shortcoming of SnpEff or csq).
import type { Dataset } from './agreement-data.ts';
import { cdsIndex, cdsSequence, distanceTo, inExon, isCleanModel, isCodingModel, modelFacts, threePrimeTail } from './agreement-models.ts';
import type { ModelFacts, ModelTranscript } from './agreement-models.ts';
import { mostSevere, mostSevereTerm, OUTSIDE } from './agreement-calls.ts';
import type { Coding, ToolName, VariantCall } from './agreement-calls.ts';
import type { MetricName } from './agreement-compare.ts';
import type { TestVariant } from './agreement-variants.ts';

export type Cause = 'definition' | 'model' | 'ours' | 'peer' | 'unexplained';

export interface Explanation {
  /** Short, stable name of the class. */
  id: string;
  cause: Cause;
  reason: string;
}

export interface Disagreement {
  metric: MetricName;
  variant: TestVariant;
  pair: [ToolName, ToolName];
  values: [string, string];
  calls: [VariantCall, VariantCall];
  /** The transcript compared (per-transcript metrics), or the only model whose CDS holds the variant. */
  transcript?: ModelTranscript;
}

const CLASSES = {
  snpeffNmd: {
    id: 'SnpEff: NMD transcripts are non-coding',
    cause: 'definition',
    reason:
      'SnpEff treats a transcript whose biotype is not protein_coding (here nonsense_mediated_decay) as non-coding even when ' +
      'it has a CDS: it writes n. positions, adds non_coding_transcript_exon_variant and gives no protein consequence. ' +
      'Ours and csq translate every transcript that has a CDS. ANNOVAR precedence then ranks the ncRNA exon above UTR/intron.',
  },
  oursIgnoresPhase: {
    id: '5′-incomplete CDS (GFF3 phase ≠ 0): ours gives unknown',
    cause: 'ours',
    reason:
      'The first CDS piece has phase 1 or 2: the model starts inside a codon (Ensembl cds_start_NF). csq and SnpEff skip the ' +
      'phase bases and translate from the first whole codon. Our engine keeps no phase (Transcript has none; the GFF3 loader ' +
      'drops it), reads codons from the first CDS base, finds an internal stop or a length that is not a multiple of 3, and ' +
      'answers coding_sequence_variant / p.? (unknown). Not a wrong call, but no call.',
  },
  phaseNumbering: {
    id: '5′-incomplete CDS (phase ≠ 0): c. numbering offset',
    cause: 'model',
    reason:
      'With GFF3 phase p on the first CDS piece, ours numbers c.1 at the first annotated CDS base and SnpEff at the first ' +
      'base of the first whole codon, so every c. position differs by p. HGVS has no c.1 for a CDS without its start codon.',
  },
  phasePartialCodon: {
    id: '5′-incomplete CDS: bases before the first whole codon',
    cause: 'model',
    reason:
      'The variant is in the phase bases of a 5′-incomplete CDS, which belong to no whole codon: the tools call them differently or not at all.',
  },
  startNotAtg: {
    id: 'codon 1 is not ATG: ours calls start_lost',
    cause: 'ours',
    reason:
      "The model's CDS begins, at phase 0, with a codon that is not ATG (a 5′-incomplete model: GTG, CCT, ACA, GAA here). " +
      'Our engine calls every change of codon 1 start_lost (p.Xaa1?), even GTG→GTA, which changes nothing; csq and ' +
      'SnpEff translate codon 1 as an ordinary codon (missense, synonymous, stop_gained). There is no start codon to lose: ' +
      'start_lost should require a start codon (ATG, or the M the reference translates to) at codon 1.',
  },
  partialLastCodon: {
    id: '3′-incomplete CDS: trailing partial codon',
    cause: 'model',
    reason:
      'The CDS length (after the phase) is not a multiple of 3 and has no stop: the last 1-2 bases are an incomplete codon. ' +
      'csq gives them no coding consequence, SnpEff translates them with N (p.???…), ours says unknown.',
  },
  incompleteUnknown: {
    id: 'incomplete model: ours gives unknown',
    cause: 'model',
    reason:
      'The CDS is not a clean ORF (length not a multiple of 3, no stop codon at the end, or an internal stop when read ' +
      'from the first base). Ours refuses to translate it and answers coding_sequence_variant / p.? (documented); csq and ' +
      'SnpEff translate the codons as framed anyway.',
  },
  snpeffExtUnknown: {
    id: 'stop_lost: SnpEff does not look for the new stop',
    cause: 'definition',
    reason:
      'For a lost stop ours reads on into the 3′ UTR and writes where the new stop falls (p.Ter777TyrextTer51); SnpEff always ' +
      'writes ext*? ("new stop not searched"). The script re-derives the extension from the 3′ UTR sequence: ours is right in every case.',
  },
  oursExtWrong: {
    id: 'stop_lost: ours writes the wrong extension length',
    cause: 'ours',
    reason: 'Ours gives an extTerN that does not match the first in-frame stop in the 3′ UTR sequence.',
  },
  flank5kb: {
    id: 'upstream/downstream: SnpEff 5 kb vs ANNOVAR 1 kb',
    cause: 'definition',
    reason:
      'SnpEff calls a variant upstream/downstream of every transcript within 5 kb (and adds intergenic_region); ANNOVAR, ' +
      'and our engine with it, within 1 kb. Between 1 and 5 kb ours says intergenic or only the nearer flank.',
  },
  csqCascade: {
    id: 'csq reports only its first consequence stage',
    cause: 'definition',
    reason:
      'csq tests a variant in stages: CDS, then UTR, then splice sites/regions, then "in the transcript" (intron or ' +
      'non_coding); a stage runs only when the earlier ones found nothing for any transcript (bcftools csq.c, process()). ' +
      'So a UTR or splice-region hit on a coding transcript hides the non-coding transcript the variant is also in, and a ' +
      'UTR hit hides a splice site on another transcript. ANNOVAR precedence ranks ncRNA above UTR and intron, and splice ' +
      'sites above UTR.',
  },
  csqIgnoredBiotype: {
    id: 'csq ignores TEC transcripts',
    cause: 'peer',
    reason: 'The only transcript at the variant has biotype TEC, which csq 1.16 does not load ("Ignored the following biotypes: TEC").',
  },
  snpeffSpliceAtTranscriptEnd: {
    id: "SnpEff: splice_region at a transcript's own ends",
    cause: 'definition',
    reason:
      "SnpEff 5.1 calls the 1-3 exon bases at the very start and end of a transcript (its first and last exon's outer edges, " +
      'where no intron is) splice_region_variant; VEP, and ours with it, call splice regions only beside an intron ' +
      '(BaseTranscriptVariationAllele::_intron_effects), and csq likewise.',
  },
  unexplained: { id: 'unexplained', cause: 'unexplained', reason: 'No rule covers this disagreement.' },
} satisfies Record<string, Explanation>;

const factCache = new WeakMap<Dataset, Map<string, ModelFacts>>();
function factsOf(ds: Dataset, t: ModelTranscript): ModelFacts {
  let m = factCache.get(ds);
  if (!m) factCache.set(ds, (m = new Map<string, ModelFacts>()));
  let f = m.get(t.id);
  if (!f) m.set(t.id, (f = modelFacts(t, ds.fetch)));
  return f;
}

const UNKNOWN = new Set(['coding_unknown', 'p.?']);
const isStartLostP = (v: string | undefined) =>
  v !== undefined && (v === 'start_lost' || /^p\.[A-Z][a-z]{2}1\?$/.test(v) || /^1[A-Z]>\?$/.test(v));

const CODON: Record<string, string> = {};
{
  const bases = 'TCAG';
  const aa = 'FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG';
  let i = 0;
  for (const a of bases) for (const b of bases) for (const c of bases) CODON[a + b + c] = aa[i++]!;
}

/** The new stop of a stop_lost SNV, counted as HGVS does (extTerN), re-derived from the sequence. */
function extensionLength(ds: Dataset, t: ModelTranscript, v: TestVariant): number | undefined {
  const i = cdsIndex(t, v.pos);
  const cds = cdsSequence(t, ds.fetch);
  if (i < cds.length - 3) return undefined;
  const alt = t.strand === '+' ? v.alt : ({ A: 'T', C: 'G', G: 'C', T: 'A' } as Record<string, string>)[v.alt]!;
  const stop = cds.slice(-3).split('');
  stop[i - (cds.length - 3)] = alt;
  if (CODON[stop.join('')] === '*') return undefined;
  const tail = threePrimeTail(t, ds.fetch);
  for (let k = 0; k + 3 <= tail.length; k += 3) if (CODON[tail.slice(k, k + 3)] === '*') return k / 3 + 1;
  return undefined;
}

/** Rules for one transcript's coding call (per-transcript metrics, and the culprit of a variant-level one). */
function explainTranscript(ds: Dataset, d: Disagreement, t: ModelTranscript, values: [string, string]): Explanation | undefined {
  const valueOf = (tool: ToolName) => (d.pair[0] === tool ? values[0] : d.pair[1] === tool ? values[1] : undefined);
  const f = factsOf(ds, t);
  const at = d.variant.kind === 'snv' ? d.variant.pos : d.variant.pos + 1;
  const idx = cdsIndex(t, at);
  const snpeffSilent = valueOf('snpeff') === 'none';
  if (t.biotype !== 'protein_coding' && snpeffSilent) return CLASSES.snpeffNmd;
  if (t.firstPhase !== 0) {
    if (d.metric === 'HGVS c.') return CLASSES.phaseNumbering;
    if (idx >= 0 && idx < t.firstPhase) return CLASSES.phasePartialCodon;
  }
  const trailing = (f.cdsLength - f.firstPhase) % 3;
  if (trailing && idx >= f.cdsLength - trailing) return CLASSES.partialLastCodon;
  if (t.firstPhase !== 0 && UNKNOWN.has(valueOf('ours') ?? '')) return CLASSES.oursIgnoresPhase;
  if (f.firstPhase === 0 && !f.startsWithAtg && idx >= 0 && idx < 3 && isStartLostP(valueOf('ours'))) return CLASSES.startNotAtg;
  if (!isCleanModel(f) && UNKNOWN.has(valueOf('ours') ?? '')) return CLASSES.incompleteUnknown;
  if (d.metric === 'HGVS p.' && d.pair.join() === 'ours,snpeff' && /ext/.test(values[0]) && /extTer\?$/.test(values[1])) {
    const n = extensionLength(ds, t, d.variant);
    const m = /extTer(\d+)$/.exec(values[0]);
    return m && n === Number(m[1]) ? CLASSES.snpeffExtUnknown : CLASSES.oursExtWrong;
  }
  return undefined;
}

const FLANK = new Set(['upstream', 'downstream', 'intergenic', 'outside']);
const NCRNA = /ncRNA/;

function explainRegion(ds: Dataset, d: Disagreement): Explanation | undefined {
  const v = d.variant;
  const [a, b] = d.values;
  const valueOf = (tool: ToolName) => (d.pair[0] === tool ? a : d.pair[1] === tool ? b : undefined);
  const here = ds.transcripts.filter((t) => distanceTo(t, v.pos) === 0);
  const flankOnly = (x: string) => x.split('+').every((c) => FLANK.has(c));
  if (d.pair.includes('snpeff')) {
    const s = valueOf('snpeff')!;
    if (!d.pair.includes('csq') && flankOnly(a) && flankOnly(b)) return CLASSES.flank5kb;
    // SnpEff's non_coding_transcript_exon_variant on an NMD transcript, which the other tool calls
    // exonic or UTR (a real non-coding exon there would make it say ncRNA too).
    const other = d.pair[0] === 'snpeff' ? b : a;
    const nmdExon = here.some((t) => isCodingModel(t) && t.biotype !== 'protein_coding' && inExon(t, v.pos));
    if (NCRNA.test(s) && !NCRNA.test(other) && nmdExon) return CLASSES.snpeffNmd;
  }
  if (d.pair.includes('csq')) {
    const c = valueOf('csq')!;
    const other = d.pair[0] === 'csq' ? b : a;
    if (c === 'outside' && here.length > 0 && here.every((t) => t.biotype === 'TEC')) return CLASSES.csqIgnoredBiotype;
    // An earlier stage's hit (CDS, UTR, splice) hid what the other tool ranks higher; a non_coding
    // entry in csq's output would mean the last stage ran after all.
    const raw = d.calls[d.pair[0] === 'csq' ? 0 : 1].raw;
    const earlyStage =
      /(^|[,&])(5_prime_utr|3_prime_utr|splice_\w+|missense|synonymous|stop_\w+|start_\w+|coding_sequence)\|/.test(raw) &&
      !/non_coding/.test(raw);
    if (earlyStage && (other.includes('ncRNA') || (other.includes('splicing') && /UTR/.test(c)))) return CLASSES.csqCascade;
  }
  return undefined;
}

/** VEP's coding terms in the unified coding vocabulary (agreement-calls.ts). */
const VEP_CODING: Record<string, Coding> = {
  stop_gained: 'stop_gained',
  frameshift_variant: 'frameshift',
  stop_lost: 'stop_lost',
  start_lost: 'start_lost',
  inframe_insertion: 'inframe_insertion',
  inframe_deletion: 'inframe_deletion',
  missense_variant: 'missense',
  protein_altering_variant: 'protein_altering',
  start_retained_variant: 'start_retained',
  stop_retained_variant: 'stop_retained',
  synonymous_variant: 'synonymous',
  coding_sequence_variant: 'coding_unknown',
};

const isNmdModel = (t: ModelTranscript | undefined) => t !== undefined && isCodingModel(t) && t.biotype !== 'protein_coding';

/**
 * The most severe VEP term (harmonised) differs. Each rule re-derives the two values from the
 * tools' own per-transcript terms with the cause taken away, and claims the disagreement only when
 * that makes them equal.
 */
function explainTerm(ds: Dataset, d: Disagreement): (Explanation & { transcript?: string }) | undefined {
  const [a, b] = d.values;
  const models = new Map(ds.transcripts.map((t) => [t.id, t]));
  // SnpEff's splice_region at a transcript end: within 3 bases of the start or end of a model at the
  // variant, and more than 3 exon bases (8 intron bases) from every intron of it.
  const snpeffValue = d.pair[0] === 'snpeff' ? a : d.pair[1] === 'snpeff' ? b : undefined;
  if (snpeffValue === 'splice_region_variant') {
    const pos = d.variant.pos;
    const atEnd = (t: ModelTranscript) =>
      (pos - t.start < 3 || t.end - pos < 3) &&
      t.exons.every(([s, e], i) => (i === 0 || pos - s >= 3 || s - pos > 8) && (i === t.exons.length - 1 || e - pos >= 3 || pos - e > 8));
    const cands = d.transcript ? [d.transcript] : ds.transcripts.filter((t) => distanceTo(t, pos) === 0);
    if (cands.some(atEnd)) return CLASSES.snpeffSpliceAtTranscriptEnd;
  }
  if (d.metric === 'most severe term per transcript') {
    const t = d.transcript;
    if (d.pair.includes('snpeff') && isNmdModel(t)) return CLASSES.snpeffNmd;
    const [ca, cb] = [VEP_CODING[a], VEP_CODING[b]];
    if (t && (ca || cb)) return explainTranscript(ds, d, t, [ca ?? 'none', cb ?? 'none']);
    return undefined;
  }
  const severeWithout = (side: 0 | 1, drop: (tx: string) => boolean) =>
    mostSevereTerm([...d.calls[side].terms].filter(([tx]) => !drop(tx)).flatMap(([, terms]) => terms));
  if (d.pair.includes('snpeff')) {
    const nmd = (tx: string) => isNmdModel(models.get(tx));
    if (severeWithout(0, nmd) === severeWithout(1, nmd)) return CLASSES.snpeffNmd;
  }
  if (d.pair.includes('csq')) {
    const csqSide = d.pair[0] === 'csq' ? 0 : 1;
    const otherSide = csqSide === 0 ? 1 : 0;
    const c = d.values[csqSide];
    const other = d.values[otherSide];
    const here = ds.transcripts.filter((t) => distanceTo(t, d.variant.pos) === 0);
    if (c === OUTSIDE && here.length > 0 && here.every((t) => t.biotype === 'TEC')) return CLASSES.csqIgnoredBiotype;
    // csq's stages: with a hit in an earlier stage it never looks at the later ones. The other
    // tool's term must be one of a later stage, or of a transcript csq did not report at all.
    const stage = (term: string): number =>
      VEP_CODING[term] ? 0 : /UTR/.test(term) ? 1 : /^splice/.test(term) ? 2 : term === OUTSIDE ? 4 : 3;
    const reported = new Set(d.calls[csqSide].terms.keys());
    const otherTerms = d.calls[otherSide].terms;
    const hidden = [...otherTerms].some(([tx, terms]) => terms.includes(other) && (stage(other) > stage(c) || !reported.has(tx)));
    if (hidden && stage(c) < stage(other)) return CLASSES.csqCascade;
  }
  const [ca, cb] = [VEP_CODING[a], VEP_CODING[b]];
  if (ca && cb && d.calls[0].severe !== d.calls[1].severe) {
    const why = explain(ds, { ...d, metric: 'consequence', values: [d.calls[0].severe ?? 'none', d.calls[1].severe ?? 'none'] });
    if (why.cause !== 'unexplained') return why;
  }
  return undefined;
}

/** The class of a disagreement, and the transcript whose calls it comes down to (when one does). */
export function explain(ds: Dataset, d: Disagreement): Explanation & { transcript?: string } {
  if (d.metric === 'region class') return explainRegion(ds, d) ?? CLASSES.unexplained;
  if (d.metric === 'most severe term' || d.metric === 'most severe term per transcript') {
    const why = explainTerm(ds, d);
    return why ? { ...why, ...(d.transcript ? { transcript: d.transcript.id } : {}) } : CLASSES.unexplained;
  }
  if (d.metric === 'consequence') {
    // The most severe consequences differ because some transcript's calls differ. Explain first a
    // transcript that decides it: one where taking either tool's call for the other would make
    // the two most severe consequences equal. Then any other that differs.
    const at = d.variant.kind === 'snv' ? d.variant.pos : d.variant.pos + 1;
    const inCds = ds.transcripts.filter((t) => isCodingModel(t) && cdsIndex(t, at) >= 0);
    const callOf = (side: 0 | 1, id: string) => d.calls[side].transcripts.get(id)?.coding;
    const severeWith = (side: 0 | 1, id: string, value: Coding | undefined) =>
      mostSevere(inCds.map((t) => (t.id === id ? value : callOf(side, t.id)))) ?? 'none';
    const differing: Array<{ t: ModelTranscript; values: [string, string] }> = [];
    for (const t of inCds) {
      const x = callOf(0, t.id) ?? 'none';
      const y = callOf(1, t.id) ?? 'none';
      if (x !== y) differing.push({ t, values: [x, y] });
    }
    const decisive = differing.filter(
      ({ t }) => severeWith(0, t.id, callOf(1, t.id)) === d.values[1] || severeWith(1, t.id, callOf(0, t.id)) === d.values[0],
    );
    for (const c of [...decisive, ...differing]) {
      const why = explainTranscript(ds, d, c.t, c.values);
      if (why) return { ...why, transcript: c.t.id };
    }
    return CLASSES.unexplained;
  }
  const why = d.transcript && explainTranscript(ds, d, d.transcript, d.values);
  return why ? { ...why, transcript: d.transcript!.id } : CLASSES.unexplained;
}
