// Coding consequences, worked by hand on a synthetic gene laid on both strands, then checked on
// real refFlat models against the hg19 chr20 FASTA window.
import t from 'tap';
import type { Test } from 'tap';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Transcript } from '../src/transcript.ts';
import { isCoding } from '../src/transcript.ts';
import { reduceAllele } from '../src/annotation/allele.ts';
import { codingConsequence, codingSequence } from '../src/annotation/consequence.ts';
import type { CodingConsequence, SequenceSource } from '../src/annotation/consequence.ts';
import { translate, threeLetter } from '../src/annotation/codon-table.ts';
import { FastaReader } from '../src/fasta/index.ts';
import { loadGeneModels } from '../src/gene-models/index.ts';

/*
 * The gene, in transcript orientation (c. numbers above the bases):
 *
 *   CDS  c.1                                                                   c.30
 *        ATG GCA TGG G | GA AAA AAG CTC GAC CCT TAA        protein M A W G K K L D P *
 *        M1  A2  W3  G4 (split)  K5  K6  L7  D8  P9  Ter10
 *                      ^ exon 1 ends after c.10; codon 4 is G (exon 1) + GA (exon 2)
 *   3'UTR GCA TGA CTA GCT AAC  read in frame 0 (stop lost): Ala, Ter
 *         frame -1 after a 1-base deletion: ..AA|G CAT GAC TAG  (Lys His Asp Ter)
 *         frame +1 after a 1-base insertion: ..A|GC ATG ACT AGC TAA (Ser Met Thr Ser Ter)
 *
 * PLUS genome (0-based):
 *    0-9   GGGGGGGGGG            upstream
 *   10-19  CCGCCACCGC            exon 1, 5'UTR
 *   20-29  ATGGCATGGG            exon 1, c.1-c.10          (c.n at 19+n)
 *   30-49  GTAAGTCCCCCCCCCTTCAG  intron 1
 *   50-69  GAAAAAAGCTCGACCCTTAA  exon 2, c.11-c.30         (c.n at 39+n)
 *   70-84  GCATGACTAGCTAAC       exon 2, 3'UTR
 *   85-94  TTTTTTTTTT            downstream
 *
 * MINUS genome: the reverse complement of PLUS, so genomic m = 94 - g. The same gene then sits on
 * the minus strand with exons [10,45) and [65,85), CDS [25,75): c.n at 75-n for n <= 10 and at 55-n
 * for n >= 11. Every c./p. description must come out the same; VCF records differ (complemented
 * bases, and indels left-aligned on this genome, which is the transcript's 3' side).
 */
const PLUS_GENOME =
  'GGGGGGGGGG' + 'CCGCCACCGC' + 'ATGGCATGGG' + 'GTAAGTCCCCCCCCCTTCAG' + 'GAAAAAAGCTCGACCCTTAA' + 'GCATGACTAGCTAAC' + 'TTTTTTTTTT';
// Written out rather than computed, so the test does not lean on the code's own reverse complement.
const MINUS_GENOME =
  'AAAAAAAAAA' +
  'GTTAGCTAGT' +
  'CATGCTTAAG' +
  'GGTCGAGCTT' +
  'TTTTCCTGAA' +
  'GGGGGGGGGA' +
  'CTTACCCCAT' +
  'GCCATGCGGT' +
  'GGCGGCCCCC' +
  'CCCCC';

function source(genome: string): SequenceSource {
  return {
    fetch(chrom: string, start: number, end: number): string {
      if (chrom !== 'syn') throw new Error(`no ${chrom}`);
      return genome.slice(Math.max(0, start), Math.min(genome.length, end));
    },
  };
}

function tx(id: string, strand: '+' | '-', exonStarts: number[], exonEnds: number[], cdsStart: number, cdsEnd: number): Transcript {
  return {
    id,
    gene: 'SYN',
    chrom: 'syn',
    strand,
    start: exonStarts[0]!,
    end: exonEnds.at(-1)!,
    cdsStart,
    cdsEnd,
    exonStarts,
    exonEnds,
    biotype: 'protein_coding',
  };
}

const PLUS = tx('NM_PLUS', '+', [10, 50], [30, 85], 20, 70);
const MINUS = tx('NM_MINUS', '-', [10, 65], [45, 85], 25, 75);
const plusSeq = source(PLUS_GENOME);
const minusSeq = source(MINUS_GENOME);

const onPlus = (pos: number, ref: string, alt: string) => codingConsequence(PLUS, reduceAllele(pos, ref, alt), plusSeq);
const onMinus = (pos: number, ref: string, alt: string) => codingConsequence(MINUS, reduceAllele(pos, ref, alt), minusSeq);

type Expect = Partial<CodingConsequence>;
function check(t: Test, got: CodingConsequence | null, want: Expect): void {
  if (!t.ok(got, 'expected a coding consequence') || !got) return;
  const picked: Record<string, unknown> = {};
  for (const k of Object.keys(want)) picked[k] = got[k as keyof CodingConsequence];
  t.strictSame(picked, want);
}

t.test('the synthetic genomes are what the drawing says', async (t) => {
  t.equal(PLUS_GENOME.length, 95);
  t.equal(MINUS_GENOME.length, 95);
  const comp: Record<string, string> = { A: 'T', C: 'G', G: 'C', T: 'A' };
  for (let g = 0; g < 95; g++) t.equal(MINUS_GENOME[94 - g], comp[PLUS_GENOME[g]!]);
  t.equal(codingSequence(PLUS, plusSeq), 'ATGGCATGGGGAAAAAAGCTCGACCCTTAA');
  t.equal(codingSequence(MINUS, minusSeq), 'ATGGCATGGGGAAAAAAGCTCGACCCTTAA');
  t.equal(translate(codingSequence(PLUS, plusSeq)), 'MAWGKKLDP*');
});

t.test('genetic code: stops, Met, Trp, and the mitochondrial differences', async (t) => {
  t.equal(translate('TAATAGTGAATGTGGAAAGGA'), '***MWKG');
  t.equal(translate('AGAAGGATATGA', 'vertebrate_mitochondrial'), '**MW');
  t.equal(translate('AGAAGGATATGA'), 'RRI*');
  t.equal(translate('ATGNNNTAAGGG', 'standard', true), 'MX*');
  t.equal(threeLetter('K*'), 'LysTer');
});

// Each case: the VCF record on PLUS and on MINUS, and what both must give on the transcript.
interface Case {
  name: string;
  plus: [number, string, string];
  minus: [number, string, string];
  want: Expect;
  /** Fields that differ because the VCF places an indel differently on each genome. */
  plusOnly?: Expect;
  minusOnly?: Expect;
}

const CASES: Case[] = [
  {
    // c.6 is the A of GCA (Ala2): GCG is Ala too. PLUS g=25 A>G; MINUS m=69 T>C.
    name: 'synonymous c.6A>G',
    plus: [26, 'A', 'G'],
    minus: [70, 'T', 'C'],
    want: {
      exonicFunction: 'synonymous',
      hgvsC: 'c.6A>G',
      hgvsP: 'p.Ala2=',
      codonChange: 'gcA/gcG',
      aminoAcidChange: 'A',
      cdsPosition: 6,
      proteinPosition: 2,
      soTerm: 'synonymous_variant',
      impact: 'LOW',
    },
  },
  {
    // GCA → GAA: Ala2Glu. PLUS g=24 C>A; MINUS m=70 G>T.
    name: 'missense c.5C>A',
    plus: [25, 'C', 'A'],
    minus: [71, 'G', 'T'],
    want: {
      exonicFunction: 'missense',
      hgvsC: 'c.5C>A',
      hgvsP: 'p.Ala2Glu',
      codonChange: 'gCa/gAa',
      aminoAcidChange: 'A/E',
      proteinPosition: 2,
      soTerm: 'missense_variant',
      impact: 'MODERATE',
    },
  },
  {
    // The split codon's exon-1 base: G|GA → C|GA = Arg. PLUS g=29 G>C; MINUS m=65 C>G.
    name: 'missense on the split codon, exon 1 side (c.10G>C)',
    plus: [30, 'G', 'C'],
    minus: [66, 'C', 'G'],
    want: {
      exonicFunction: 'missense',
      hgvsC: 'c.10G>C',
      hgvsP: 'p.Gly4Arg',
      codonChange: 'Gga/Cga',
      aminoAcidChange: 'G/R',
      cdsPosition: 10,
      proteinPosition: 4,
    },
  },
  {
    // The split codon's first exon-2 base: G|GA → G|TA = Val. PLUS g=50 G>T; MINUS m=44 C>A.
    name: 'missense on the split codon, exon 2 side (c.11G>T)',
    plus: [51, 'G', 'T'],
    minus: [45, 'C', 'A'],
    want: {
      exonicFunction: 'missense',
      hgvsC: 'c.11G>T',
      hgvsP: 'p.Gly4Val',
      codonChange: 'gGa/gTa',
      aminoAcidChange: 'G/V',
      cdsPosition: 11,
      proteinPosition: 4,
    },
  },
  {
    // TGG → TGA. PLUS g=28 G>A; MINUS m=66 C>T.
    name: 'stop gained c.9G>A',
    plus: [29, 'G', 'A'],
    minus: [67, 'C', 'T'],
    want: {
      exonicFunction: 'stop_gained',
      hgvsC: 'c.9G>A',
      hgvsP: 'p.Trp3Ter',
      codonChange: 'tgG/tgA',
      aminoAcidChange: 'W/*',
      soTerm: 'stop_gained',
      impact: 'HIGH',
    },
  },
  {
    // TAA → CAA (Gln); reading on into the 3'UTR: GCA (Ala) TGA (Ter), two codons past the old stop.
    // PLUS g=67 T>C; MINUS m=27 A>G.
    name: 'stop lost c.28T>C',
    plus: [68, 'T', 'C'],
    minus: [28, 'A', 'G'],
    want: {
      exonicFunction: 'stop_lost',
      hgvsC: 'c.28T>C',
      hgvsP: 'p.Ter10GlnextTer2',
      codonChange: 'Taa/Caa',
      aminoAcidChange: '*/Q',
      proteinPosition: 10,
      soTerm: 'stop_lost',
      impact: 'HIGH',
    },
  },
  {
    // ATG → ACG. PLUS g=21 T>C; MINUS m=73 A>G.
    name: 'start lost c.2T>C',
    plus: [22, 'T', 'C'],
    minus: [74, 'A', 'G'],
    want: {
      exonicFunction: 'start_lost',
      hgvsC: 'c.2T>C',
      hgvsP: 'p.Met1?',
      codonChange: 'aTg/aCg',
      aminoAcidChange: 'M/T',
      proteinPosition: 1,
      soTerm: 'start_lost',
      impact: 'HIGH',
    },
  },
  {
    // TAA → TAG. PLUS g=69 A>G; MINUS m=25 T>C.
    name: 'stop retained c.30A>G',
    plus: [70, 'A', 'G'],
    minus: [26, 'T', 'C'],
    want: {
      exonicFunction: 'stop_retained',
      hgvsC: 'c.30A>G',
      hgvsP: 'p.Ter10=',
      codonChange: 'taA/taG',
      aminoAcidChange: '*',
      soTerm: 'stop_retained_variant',
      impact: 'LOW',
    },
  },
  {
    // One A of the run c.12-c.17 deleted. PLUS left-aligns it to c.12 (anchor c.11 G at g=50:
    // POS 51 GA>G); MINUS left-aligns it to m=38, which is c.17 (anchor m=37 C: POS 38 CT>C).
    // HGVS takes the 3'-most A: c.17del. New frame: ..K5 AGC TCG ACC CTT AAG CAT GAC TAG →
    // Ser6 Ser Thr Leu Lys His Asp Ter: Ter is the 8th codon counting Ser6 as 1.
    name: "1-base deletion in a run: frameshift, shifted 3' on the transcript",
    plus: [51, 'GA', 'G'],
    minus: [38, 'CT', 'C'],
    want: { exonicFunction: 'frameshift', hgvsC: 'c.17del', hgvsP: 'p.Lys6SerfsTer8', soTerm: 'frameshift_variant', impact: 'HIGH' },
    // Where the VCF puts it: c.12 (codon 4, GGA) on PLUS, c.17 (codon 6, AAG) on MINUS.
    plusOnly: { cdsPosition: 12, proteinPosition: 4, codonChange: 'ggA/gg', aminoAcidChange: 'G/X' },
    minusOnly: { cdsPosition: 17, proteinPosition: 6, codonChange: 'aAg/ag', aminoAcidChange: 'K/X' },
  },
  {
    // CTC (Leu7) deleted, nothing to shift (C before, G after). PLUS anchor g=57 (c.18 G): POS 58
    // GCTC>G. MINUS: c.19-21 are m=36..34 = GAG (genomic order), anchor m=33 C: POS 34 CGAG>C.
    name: '3-base deletion: in-frame, one residue',
    plus: [58, 'GCTC', 'G'],
    minus: [34, 'CGAG', 'C'],
    want: {
      exonicFunction: 'inframe_deletion',
      hgvsC: 'c.19_21del',
      hgvsP: 'p.Leu7del',
      codonChange: 'CTC/-',
      aminoAcidChange: 'L/-',
      cdsPosition: 19,
      proteinPosition: 7,
      soTerm: 'inframe_deletion',
      impact: 'MODERATE',
    },
  },
  {
    // AAA out of the A run: PLUS left-aligns to c.12-14 (POS 51 GAAA>G); MINUS to m=38..40 =
    // c.17..15 (POS 38 CTTT>C). HGVS: c.15_17del; the protein loses one of Lys5 Lys6, the 3'-most.
    name: '3-base deletion in a run: shifted on both levels',
    plus: [51, 'GAAA', 'G'],
    minus: [38, 'CTTT', 'C'],
    want: { exonicFunction: 'inframe_deletion', hgvsC: 'c.15_17del', hgvsP: 'p.Lys6del' },
    plusOnly: { cdsPosition: 12, proteinPosition: 4, codonChange: 'ggAAAa/gga', aminoAcidChange: 'GK/G' },
    minusOnly: { cdsPosition: 15, proteinPosition: 5, codonChange: 'aaAAAg/aag', aminoAcidChange: 'KK/K' },
  },
  {
    // TTT (Phe) between c.21 and c.22, i.e. between Leu7 and Asp8; C before, G after: no shift.
    // PLUS anchor g=60 C: POS 61 C>CTTT. MINUS: between m=34 (c.21) and m=33 (c.22), genomic AAA,
    // anchor m=33 C: POS 34 C>CAAA.
    name: '3-base insertion between codons: in-frame',
    plus: [61, 'C', 'CTTT'],
    minus: [34, 'C', 'CAAA'],
    want: {
      exonicFunction: 'inframe_insertion',
      hgvsC: 'c.21_22insTTT',
      hgvsP: 'p.Leu7_Asp8insPhe',
      codonChange: '-/TTT',
      aminoAcidChange: '-/F',
      cdsPosition: 21,
      proteinPosition: 7,
      soTerm: 'inframe_insertion',
      impact: 'MODERATE',
    },
  },
  {
    // AAA into the A run: 3'-most it follows c.17 and repeats c.15-17, a dup; one more Lys after Lys6.
    // PLUS POS 51 G>GAAA (after c.11); MINUS POS 38 C>CTTT (between m=37 c.18 and m=38 c.17).
    name: '3-base insertion in a run: dup on both levels',
    plus: [51, 'G', 'GAAA'],
    minus: [38, 'C', 'CTTT'],
    want: { exonicFunction: 'inframe_insertion', hgvsC: 'c.15_17dup', hgvsP: 'p.Lys6dup' },
  },
  {
    // A C after c.5 (GC|A): it repeats c.5. PLUS left-aligns it before c.5 (anchor c.4 G, g=23:
    // POS 24 G>GC); MINUS after m=69 T (c.6), before m=70 G (c.5): POS 70 T>TG, already 3'-most.
    // New frame: ATG GCC ATG GGG AAA AAA GCT CGA CCC TTA A|GC ATG ACT AGC TAA →
    // M A M G K K A R P L S M T S Ter: Trp3 becomes Met, Ter is the 13th codon from there.
    name: '1-base insertion repeating the base before: c.5dup',
    plus: [24, 'G', 'GC'],
    minus: [70, 'T', 'TG'],
    want: { exonicFunction: 'frameshift', hgvsC: 'c.5dup', hgvsP: 'p.Trp3MetfsTer13' },
    plusOnly: { cdsPosition: 4, codonChange: 'gca/gCca' },
    minusOnly: { cdsPosition: 5, codonChange: 'gca/gcCa' },
  },
  {
    // GC → TT in GCA: TTA = Leu. PLUS g=23,24 GC>TT; MINUS m=70,71 are G,C (c.5, c.4), ALT AA.
    name: 'MNV within a codon: c.4_5delinsTT',
    plus: [24, 'GC', 'TT'],
    minus: [71, 'GC', 'AA'],
    want: {
      exonicFunction: 'missense',
      hgvsC: 'c.4_5delinsTT',
      hgvsP: 'p.Ala2Leu',
      codonChange: 'GCa/TTa',
      aminoAcidChange: 'A/L',
      cdsPosition: 4,
      proteinPosition: 2,
    },
  },
  {
    // GAC (Asp8) → TGGAAA (Trp Lys). PLUS POS 62 GAC>TGGAAA; MINUS m=31..33 GTC, ALT TTTCCA.
    name: 'in-frame delins: protein_altering_variant',
    plus: [62, 'GAC', 'TGGAAA'],
    minus: [32, 'GTC', 'TTTCCA'],
    want: {
      exonicFunction: 'inframe_delins',
      hgvsC: 'c.22_24delinsTGGAAA',
      hgvsP: 'p.Asp8delinsTrpLys',
      soTerm: 'protein_altering_variant',
      impact: 'MODERATE',
    },
  },
  {
    // TAA between Leu7 and Asp8: translation ends after Leu7, which HGVS writes as a nonsense at 8.
    // PLUS POS 61 C>CTAA; MINUS: TTA between m=34 and m=33, anchor m=33 C: POS 34 C>CTTA.
    name: 'in-frame insertion of a stop: stop gained',
    plus: [61, 'C', 'CTAA'],
    minus: [34, 'C', 'CTTA'],
    want: {
      exonicFunction: 'stop_gained',
      hgvsC: 'c.21_22insTAA',
      hgvsP: 'p.Asp8Ter',
      codonChange: '-/TAA',
      aminoAcidChange: '-/*',
      impact: 'HIGH',
    },
  },
  {
    // C inside the stop: TA C A|GC ATG ACT AGC TAA → Tyr10 Ser Met Thr Ser Ter, the new stop 5
    // codons past the old one. A frameshift, written as an extension. PLUS POS 69 A>AC (after
    // c.29); MINUS: G between m=26 (c.29) and m=25 (c.30), anchor m=25 T: POS 26 T>TG.
    name: '1-base insertion in the stop codon: frameshift written as an extension',
    plus: [69, 'A', 'AC'],
    minus: [26, 'T', 'TG'],
    want: {
      exonicFunction: 'frameshift',
      hgvsC: 'c.29_30insC',
      hgvsP: 'p.Ter10TyrextTer5',
      codonChange: 'taa/taCa',
      aminoAcidChange: '*/X',
    },
  },
  {
    // c.10 and the first two intron bases (GGT at g=29..31; anchor g=28 G: POS 29 GGGT>G). On MINUS
    // m=63..65 = ACC (anchor m=62 T: POS 63 TACC>T). Judged by its coding part, c.10del:
    // ATG GCA TGG GAA AAA AGC TCG ACC CTT AAG CAT GAC TAG → Gly4Glu, Ter the 10th from there.
    name: 'deletion across the exon 1 / intron 1 boundary: the coding part decides',
    plus: [29, 'GGGT', 'G'],
    minus: [63, 'TACC', 'T'],
    want: { exonicFunction: 'frameshift', hgvsC: 'c.10_10+2del', hgvsP: 'p.Gly4GlufsTer10', cdsPosition: 10, proteinPosition: 4 },
  },
];

for (const c of CASES) {
  t.test(`plus strand: ${c.name}`, async (t) => check(t, onPlus(...c.plus), { ...c.want, ...c.plusOnly }));
  t.test(`minus strand: ${c.name}`, async (t) => check(t, onMinus(...c.minus), { ...c.want, ...c.minusOnly }));
}

t.test('alleles that touch no coding base give null', async (t) => {
  // PLUS: 5'UTR g=15, intron g=40, splice site g=31, 3'UTR g=75, upstream g=3.
  for (const g of [15, 40, 31, 75, 3]) t.equal(onPlus(g + 1, PLUS_GENOME[g]!, 'A' === PLUS_GENOME[g] ? 'C' : 'A'), null, `g=${g}`);
  // MINUS mirrors: m = 94 - g.
  for (const g of [15, 40, 31, 75, 3]) {
    const m = 94 - g;
    t.equal(onMinus(m + 1, MINUS_GENOME[m]!, 'A' === MINUS_GENOME[m] ? 'C' : 'A'), null, `m=${m}`);
  }
  // Insertions next to a UTR base: just before c.1 (between g=19 and g=20) and just after the stop
  // (between g=69 and g=70); on MINUS m=75|74 and m=25|24.
  t.equal(onPlus(20, 'C', 'CT'), null);
  t.equal(onPlus(70, 'A', 'AC'), null);
  t.equal(onMinus(75, 'T', 'TA'), null);
  t.equal(onMinus(25, 'C', 'CG'), null);
  // A non-coding transcript and a non-sequence allele.
  t.equal(codingConsequence({ ...PLUS, cdsStart: 85, cdsEnd: 85, biotype: 'lncRNA' }, reduceAllele(26, 'A', 'G'), plusSeq), null);
  t.equal(codingConsequence(PLUS, reduceAllele(26, 'A', '<DEL>'), plusSeq), null);
});

t.test('an insertion between a coding base and the intron joins the exon', async (t) => {
  // T between c.10 (g=29) and c.10+1 (g=30): ATG GCA TGG GTG AAA AAA GCT CGA CCC TTA A|GC ATG ACT
  // AGC TAA → M A W V K K A R P L S M T S Ter: Gly4Val, Ter the 12th from there. MINUS: A between
  // m=64 and m=65, anchor m=64 C: POS 65 C>CA.
  const exonEnd: Expect = {
    exonicFunction: 'frameshift',
    hgvsC: 'c.10_10+1insT',
    hgvsP: 'p.Gly4ValfsTer12',
    codonChange: 'gga/gTga',
    cdsPosition: 10,
  };
  check(t, onPlus(30, 'G', 'GT'), exonEnd);
  check(t, onMinus(65, 'C', 'CA'), exonEnd);
  // C between c.11-1 (g=49) and c.11 (g=50): GGA becomes GCG GA..: Gly4Ala, same new frame.
  // MINUS: G between m=44 (c.11) and m=45 (c.11-1), anchor m=44 C: POS 45 C>CG.
  const exonStart: Expect = {
    exonicFunction: 'frameshift',
    hgvsC: 'c.11-1_11insC',
    hgvsP: 'p.Gly4AlafsTer12',
    codonChange: 'gga/gCga',
    cdsPosition: 10,
  };
  check(t, onPlus(50, 'G', 'GC'), exonStart);
  check(t, onMinus(45, 'C', 'CG'), exonStart);
});

t.test('the reference wins over a wrong VCF REF, and says so', async (t) => {
  // VCF claims c.6 is C; the FASTA has A. Annotated as A>T (GCA → GCT, still Ala).
  check(t, onPlus(26, 'C', 'T'), { exonicFunction: 'synonymous', hgvsC: 'c.6A>T', hgvsP: 'p.Ala2=', referenceMismatch: 'A' });
  // MINUS: m=69 is T (c.6 A); VCF claims G. ALT A is T on the transcript.
  check(t, onMinus(70, 'G', 'A'), { exonicFunction: 'synonymous', hgvsC: 'c.6A>T', referenceMismatch: 'T' });
  // The reference already holds the ALT: nothing to predict.
  check(t, onPlus(26, 'C', 'A'), {
    exonicFunction: 'unknown',
    soTerm: 'coding_sequence_variant',
    impact: 'MODIFIER',
    hgvsP: 'p.?',
    referenceMismatch: 'A',
  });
  // A matching REF carries no mismatch field.
  t.equal(onPlus(26, 'A', 'G')!.referenceMismatch, undefined);
});

t.test('no bases to judge: unknown, with the c. description from the VCF alone', async (t) => {
  const failing: SequenceSource = {
    fetch() {
      throw new Error('outside the FASTA window');
    },
  };
  check(t, codingConsequence(PLUS, reduceAllele(26, 'A', 'G'), failing), {
    exonicFunction: 'unknown',
    soTerm: 'coding_sequence_variant',
    impact: 'MODIFIER',
    hgvsC: 'c.6A>G',
    hgvsP: 'p.?',
    cdsPosition: 6,
    proteinPosition: 2,
  });
  check(t, codingConsequence(MINUS, reduceAllele(70, 'T', 'C'), failing), { exonicFunction: 'unknown', hgvsC: 'c.6A>G' });
  // A clipped answer (the sequence is shorter than the model) counts as missing too.
  check(t, codingConsequence(PLUS, reduceAllele(26, 'A', 'G'), source(PLUS_GENOME.slice(0, 60))), { exonicFunction: 'unknown' });
  // Ns in the codon touched (as outside the real window of the unittest FASTA).
  const masked = PLUS_GENOME.slice(0, 23) + 'NNN' + PLUS_GENOME.slice(26);
  check(t, codingConsequence(PLUS, reduceAllele(25, 'N', 'A'), source(masked)), { exonicFunction: 'unknown' });
  // Ns elsewhere in the CDS do not stop a codon that is all there.
  check(t, codingConsequence(PLUS, reduceAllele(68, 'T', 'C'), source(masked)), {
    exonicFunction: 'stop_lost',
    hgvsP: 'p.Ter10GlnextTer2',
  });
});

t.test('a delins that crosses a coding edge is not placed base by base', async (t) => {
  // g=29..30: c.10 and c.10+1 replaced by two bases.
  check(t, onPlus(30, 'GG', 'TT'), { exonicFunction: 'unknown', hgvsC: 'c.10_10+1delinsTT' });
  // The 5'UTR/CDS edge: c.-1 and c.1 (g=19,20, anchor g=18 G) deleted; the start codon goes.
  check(t, onPlus(19, 'GCA', 'G'), { exonicFunction: 'start_lost', hgvsC: 'c.-1_1del', hgvsP: 'p.Met1?' });
});

t.test("deleting the stop codon reads on into the 3'UTR", async (t) => {
  // TAA (c.28-30, g=67..69) deleted, anchor g=66 T: POS 67 TTAA>T. The new CDS ends ..CCT and reads
  // on GCA TGA: Ter10 becomes Ala, the new stop 1 further... ref[9]='*' vs alt Ala, Ter at index 10.
  check(t, onPlus(67, 'TTAA', 'T'), { exonicFunction: 'stop_lost', hgvsC: 'c.28_30del', hgvsP: 'p.Ter10AlaextTer1' });
  // Deleting the stop and the first 3'UTR bases (g=67..72, TAAGCA): GCA goes too, TGA follows at once.
  check(t, onPlus(67, 'TTAAGCA', 'T'), { exonicFunction: 'stop_retained', hgvsC: 'c.28_*3del', hgvsP: 'p.Ter10=' });
});

// --- real models on the real hg19 chr20 window --------------------------------------------------

/*
 * Same rule as fasta.test.ts: GAS_SHARED_DATA, else ../shared/data beside the repository, without
 * importing @gas/testing (which pulls in the whole engine).
 */
function sharedDataPath(relative: string): string {
  const repo = process.env['GAS_REPO_ROOT'] ?? resolve(fileURLToPath(import.meta.url), '../../../..');
  const dir = process.env['GAS_SHARED_DATA'] ?? resolve(repo, '..', 'shared', 'data');
  const path = join(dir, relative);
  if (!existsSync(path)) throw new Error(`shared test data not found: ${path} (see ${join(dir, 'PROVENANCE.md')})`);
  return path;
}

const WINDOW: [number, number] = [9_995_000, 11_095_000];
let real: { fasta: FastaReader; inWindow: Transcript[] } | undefined;
async function realData() {
  if (!real) {
    const models = await loadGeneModels(sharedDataPath('gene_models/grch37/refFlat_hg19.txt.gz'));
    const fasta = FastaReader.open(sharedDataPath('reference/grch37/ucsc.hg19.chr20.unittest.fasta.gz'));
    const inWindow = models.filter((t) => t.chrom === '20' && isCoding(t) && t.start >= WINDOW[0] && t.end <= WINDOW[1]);
    real = { fasta, inWindow };
  }
  return real;
}

t.test('hg19 chr20 window: every coding refFlat transcript translates to M…* with no internal stop', async (t) => {
  const { fasta, inWindow } = await realData();
  // PROVENANCE.md: 8 coding transcripts lie wholly inside the window (JAG1, SNAP25, MKKS, ANKRD5, C20orf94).
  t.equal(inWindow.length, 8);
  t.ok(inWindow.some((t) => t.strand === '+') && inWindow.some((t) => t.strand === '-'), 'both strands are represented');
  for (const model of inWindow) {
    const cds = codingSequence(model, fasta);
    t.equal(cds.length % 3, 0, `${model.id} CDS length ${cds.length}`);
    const protein = translate(cds);
    t.equal(protein[0], 'M', `${model.id} starts with ${protein[0]}`);
    t.equal(protein.indexOf('*'), protein.length - 1, `${model.id}: stop at ${protein.indexOf('*')} of ${protein.length}`);
  }
});

t.test('hg19 chr20 window: variants worked from the FASTA by hand on a minus- and a plus-strand gene', async (t) => {
  const { fasta, inWindow } = await realData();
  const minus = inWindow.find((t) => t.strand === '-')!;
  const plus = inWindow.find((t) => t.strand === '+')!;
  // Minus strand: the start codon reads CAT on the genome at [cdsEnd-3, cdsEnd); c.2 (the T of ATG)
  // is the genome's A at cdsEnd-2. A>G there is c.2T>C, ACG: start lost.
  t.equal(fasta.fetch('chr20', minus.cdsEnd - 3, minus.cdsEnd), 'CAT');
  const sl = codingConsequence(minus, reduceAllele(minus.cdsEnd - 1, 'A', 'G'), fasta);
  check(t, sl, { exonicFunction: 'start_lost', hgvsC: 'c.2T>C', hgvsP: 'p.Met1?', codonChange: 'aTg/aCg' });
  // Minus strand: the stop codon is the reverse complement of [cdsStart, cdsStart+3). Changing the
  // stop's first base (genomic cdsStart+2) to G makes it C on the transcript: CAA/CAG Gln or CGA Arg.
  const stop = fasta.fetch('chr20', minus.cdsStart, minus.cdsStart + 3);
  t.ok(['TTA', 'CTA', 'TCA'].includes(stop), `stop on the genome: ${stop}`);
  const lost = codingConsequence(minus, reduceAllele(minus.cdsStart + 3, stop[2]!, 'G'), fasta)!;
  t.equal(lost.exonicFunction, 'stop_lost');
  t.match(lost.hgvsP, /^p\.Ter\d+(Gln|Arg)ext(Ter\d+|Ter\?)$/);
  // Plus strand: c.4-6, the second codon, lies on the genome as it reads when the first coding exon
  // holds at least 6 coding bases. Change c.4 (T, or C when it is already T) and hold the result
  // against a translation of the two codons done here.
  const cds = codingSequence(plus, fasta);
  const codon2 = cds.slice(3, 6);
  const g4 = plus.cdsStart + 3;
  t.ok(
    plus.exonEnds.some((e, i) => plus.exonStarts[i]! <= plus.cdsStart && e >= plus.cdsStart + 6),
    `${plus.id}: first coding exon too short`,
  );
  const altBase = codon2[0] === 'T' ? 'C' : 'T';
  const altCodon = altBase + codon2.slice(1);
  const before = translate(codon2);
  const after = translate(altCodon);
  const got = codingConsequence(plus, reduceAllele(g4 + 1, codon2[0]!, altBase), fasta)!;
  t.equal(got.hgvsC, `c.4${codon2[0]}>${altBase}`);
  t.equal(got.exonicFunction, after === '*' ? 'stop_gained' : after === before ? 'synonymous' : 'missense');
  t.equal(got.codonChange, `${codon2[0]}${codon2.slice(1).toLowerCase()}/${altBase}${codon2.slice(1).toLowerCase()}`);
});

const byId = (ts: Transcript[], id: string) => ts.find((t) => t.id === id)!;

t.test('hg19 chr20 window: GIAB HG001 coding SNVs agree with bcftools csq', async (t) => {
  const { fasta, inWindow } = await realData();
  // The six coding SNVs of GIAB HG001 v3.3.2 in the window. bcftools csq (run on these refFlat
  // models turned into GFF3, with this FASTA) gives the residue and its number; c. follows from it.
  const cases: Array<[number, string, string, string, Expect]> = [
    [
      10019093,
      'A',
      'G',
      'NM_022096',
      { exonicFunction: 'synonymous', hgvsC: 'c.144A>G', hgvsP: 'p.Gly48=', aminoAcidChange: 'G', proteinPosition: 48 },
    ],
    [
      10030188,
      'T',
      'A',
      'NM_022096',
      { exonicFunction: 'missense', hgvsC: 'c.971T>A', hgvsP: 'p.Leu324Gln', aminoAcidChange: 'L/Q', proteinPosition: 324 },
    ],
    [
      10032413,
      'T',
      'G',
      'NM_022096',
      { exonicFunction: 'synonymous', hgvsC: 'c.1746T>G', hgvsP: 'p.Ala582=', aminoAcidChange: 'A', proteinPosition: 582 },
    ],
    [
      10603326,
      'A',
      'G',
      'NM_001009608',
      { exonicFunction: 'missense', hgvsC: 'c.526A>G', hgvsP: 'p.Lys176Glu', aminoAcidChange: 'K/E', proteinPosition: 176 },
    ],
    // JAG1 is on the minus strand: genomic A>G is T>C on the transcript.
    [
      10620386,
      'A',
      'G',
      'NM_000214',
      { exonicFunction: 'synonymous', hgvsC: 'c.3417T>C', hgvsP: 'p.Tyr1139=', codonChange: 'taT/taC', proteinPosition: 1139 },
    ],
    [
      10633237,
      'G',
      'A',
      'NM_000214',
      { exonicFunction: 'synonymous', hgvsC: 'c.765C>T', hgvsP: 'p.Tyr255=', codonChange: 'taC/taT', proteinPosition: 255 },
    ],
  ];
  for (const [pos, ref, alt, id, want] of cases) check(t, codingConsequence(byId(inWindow, id), reduceAllele(pos, ref, alt), fasta), want);
});

t.test('hg19 chr20 window: insertions at an exon/intron junction, as bcftools csq reads them', async (t) => {
  const { fasta, inWindow } = await realData();
  // SNAP25 NM_130811 has an exon starting at 10273808 (0-based); the VCF anchor is the intron's last
  // base before it, so the insertion lies between the intron and the exon's first coding base.
  // bcftools: 55E..>55EKNNWNALRKGWTKSIRT*: Gln56 becomes Lys and the stop is the 18th from there.
  const snap = byId(inWindow, 'NM_130811');
  t.ok(snap.exonStarts.includes(10273808), 'SNAP25 exon start');
  check(t, codingConsequence(snap, reduceAllele(10273808, 'G', 'GAAAAA'), fasta), {
    exonicFunction: 'frameshift',
    hgvsP: 'p.Gln56LysfsTer18',
  });
  // JAG1 (minus) exon starting at 10622430: on the transcript the insertion follows the exon's last
  // base. bcftools: 894K..>894KFLSGVALDLACSTKGTASAPAGRAASPSWTTSASSTPALVWASVGLPVSSR*: Val895Phe and
  // 51 residues then the stop.
  const jag1 = byId(inWindow, 'NM_000214');
  t.ok(jag1.exonStarts.includes(10622430), 'JAG1 exon start');
  check(t, codingConsequence(jag1, reduceAllele(10622430, 'C', 'CAAAAA'), fasta), {
    exonicFunction: 'frameshift',
    hgvsC: 'c.2682_2682+1insTTTTT',
    hgvsP: 'p.Val895PhefsTer52',
  });
});

t.test('hg19 chr20 window: deletions across a CDS/UTR edge, worked from the FASTA', async (t) => {
  const { fasta, inWindow } = await realData();
  // MKKS NM_018848 (minus), cdsEnd 10394162: genome 10394159.. reads C A T | C T T, CAT being the
  // start codon. Deleting TCT (10394161-3) leaves C A + T: CAT again, the same ATG with the UTR
  // shortened. The deletion equally removes CTT (10394162-4), all UTR: no coding consequence.
  const mkks = byId(inWindow, 'NM_018848');
  t.equal(fasta.fetch('chr20', 10394159, 10394165), 'CATCTT');
  t.equal(mkks.cdsEnd, 10394162);
  t.equal(codingConsequence(mkks, reduceAllele(10394161, 'ATCT', 'A'), fasta), null);
  // JAG1 NM_000214 (minus), cdsEnd 10654178: genome C A T | C G C T G. Deleting TCGCT leaves C A G:
  // on the transcript CTG where ATG was: start lost. No other placement is equivalent (T≠G, A≠T).
  const jag1 = byId(inWindow, 'NM_000214');
  t.equal(fasta.fetch('chr20', 10654175, 10654183), 'CATCGCTG');
  check(t, codingConsequence(jag1, reduceAllele(10654177, 'ATCGCT', 'A'), fasta), {
    exonicFunction: 'start_lost',
    hgvsC: 'c.-4_1del',
    hgvsP: 'p.Met1?',
  });
  // ANKRD5 NM_022096 (plus), cdsEnd 10036308: ..ACC TAA | GTC ATA GCA G.. Deleting TAAGT leaves
  // ACC CAT AGC AGT ..: five mRNA bases gone, a frameshift that starts at the stop, which becomes
  // His and reads on into the 3'UTR (HGVS writes such a shift as an extension).
  const ankrd5 = byId(inWindow, 'NM_022096');
  t.equal(fasta.fetch('chr20', 10036302, 10036320), 'ACCTAAGTCATAGCAGTT');
  const lost = codingConsequence(ankrd5, reduceAllele(10036305, 'CTAAGT', 'C'), fasta)!;
  check(t, lost, { exonicFunction: 'frameshift', hgvsC: 'c.2329_*2del', aminoAcidChange: '*/X' });
  t.match(lost.hgvsP, /^p\.Ter777Hisext(Ter\d+|Ter\?)$/);
});

t.test("hg19 chr20 window: every c. description of random coding indels rebuilds the same CDS and is 3'-most", async (t) => {
  const { fasta, inWindow } = await realData();
  // A small LCG: the same variants every run. Its high bits, since the low ones cycle quickly.
  let seed = 2024;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return Math.floor((seed / 2147483648) * n);
  };
  const comp: Record<string, string> = { A: 'T', C: 'G', G: 'C', T: 'A' };
  const rc = (s: string) =>
    [...s]
      .reverse()
      .map((c) => comp[c] ?? 'N')
      .join('');
  let checked = 0;
  let minus = 0;
  let moved = 0;
  for (let k = 0; k < 400; k++) {
    const model = inWindow[rnd(inWindow.length)]!;
    // Coding parts of the exons, in transcript order, worked out here independently of the code.
    const parts = model.exonStarts
      .map((s, i) => [Math.max(s, model.cdsStart), Math.min(model.exonEnds[i]!, model.cdsEnd)] as [number, number])
      .filter(([s, e]) => e > s);
    if (model.strand === '-') parts.reverse();
    const [ps, pe] = parts[rnd(parts.length)]!;
    if (pe - ps < 20) continue;
    const g = ps + 8 + rnd(pe - ps - 16);
    const n = 1 + rnd(6);
    const deletion = rnd(2) === 0;
    let s = g;
    let e = deletion ? g + n : g;
    let ins = '';
    if (!deletion) for (let j = 0; j < n; j++) ins += 'ACGT'[rnd(4)];
    const base = (x: number) => fasta.fetch('chr20', x, x + 1);
    // Left-align as a VCF would.
    if (deletion) {
      while (base(s - 1) === base(e - 1)) {
        s--;
        e--;
      }
    } else {
      while (base(s - 1) === ins.at(-1)) {
        ins = ins.at(-1)! + ins.slice(0, -1);
        s--;
        e--;
      }
    }
    if (s - 1 < ps || e > pe) continue; // slid out of this exon's coding part: not this test's case
    const anchor = base(s - 1);
    const vcf = deletion ? reduceAllele(s, anchor + fasta.fetch('chr20', s, e), anchor) : reduceAllele(s, anchor, anchor + ins);
    const got = codingConsequence(model, vcf, fasta);
    if (!t.ok(got, `${model.id} ${s} ${deletion ? 'del' : 'ins'}`) || !got) continue;
    // The expected CDS: splice the edited genome of this exon into the CDS, by hand.
    let cdsFwd = '';
    let altFwd = '';
    for (const [a, b] of [...parts].sort((x, y) => x[0] - y[0])) {
      const bases = fasta.fetch('chr20', a, b);
      cdsFwd += bases;
      altFwd += a === ps ? bases.slice(0, s - a) + ins + bases.slice(e - a) : bases;
    }
    const cds = model.strand === '+' ? cdsFwd : rc(cdsFwd);
    const expected = model.strand === '+' ? altFwd : rc(altFwd);
    // Apply the c. description to the CDS.
    const m = /^c\.(\d+)(?:_(\d+))?(del|dup|ins([ACGT]+))$/.exec(got.hgvsC);
    if (!t.ok(m, `${model.id}: ${got.hgvsC}`) || !m) continue;
    const from = Number(m[1]);
    const to = Number(m[2] ?? m[1]);
    let rebuilt: string;
    if (m[3] === 'del') rebuilt = cds.slice(0, from - 1) + cds.slice(to);
    else if (m[3] === 'dup') rebuilt = cds.slice(0, to) + cds.slice(from - 1, to) + cds.slice(to);
    else rebuilt = cds.slice(0, from) + m[4] + cds.slice(from);
    t.equal(rebuilt, expected, `${model.id} ${got.hgvsC}`);
    // 3'-most inside the exon: what follows the change could not take its place. The exon's coding
    // part ends at partEnd (CDS coordinates, transcript order).
    const partIndex = parts.findIndex(([a]) => a === ps);
    const partEnd = parts.slice(0, partIndex + 1).reduce((x, [a, b]) => x + b - a, 0);
    if (to < partEnd) {
      if (m[3] === 'del' || m[3] === 'dup') t.not(cds[from - 1], cds[to], `${model.id} ${got.hgvsC} could move 3'`);
      else t.not(m[4]![0], cds[from], `${model.id} ${got.hgvsC} could move 3'`);
    }
    checked++;
    if (model.strand === '-') minus++;
    // The VCF left-aligns on the genome; on the transcript HGVS goes 3': the two often differ.
    if ((m[3] === 'dup' ? to : from) !== got.cdsPosition) moved++;
  }
  t.ok(checked > 200 && minus > 50 && moved > 20, `checked ${checked}, minus strand ${minus}, shifted ${moved}`);
});

t.test('only an ATG start can be lost: a model whose codon 1 is GTG reads it like any other codon', async (t) => {
  // PLUS with its first coding base A→G in the genome: codon 1 is GTG (Val).
  const gtgGenome = PLUS_GENOME.slice(0, 20) + 'G' + PLUS_GENOME.slice(21);
  const seq = source(gtgGenome);
  const at = (pos: number, ref: string, alt: string) => codingConsequence(PLUS, reduceAllele(pos, ref, alt), seq)!;
  t.equal(at(21, 'G', 'A').exonicFunction, 'missense'); // GTG → ATG: p.Val1Met
  t.equal(at(21, 'G', 'A').hgvsP, 'p.Val1Met');
  t.equal(at(23, 'G', 'A').exonicFunction, 'synonymous'); // GTG → GTA: Val
  // The ATG model still loses its start.
  t.equal(onPlus(21, 'A', 'G')!.exonicFunction, 'start_lost');
});

t.test('a 3′-incomplete model (no stop, 28 coding bases) is read in frame; its partial last codon gives unknown', async (t) => {
  // PLUS without the last two bases of its stop codon: c.1-c.27 are nine whole codons, c.28 is a partial one.
  const cut = tx('NM_CUT', '+', [10, 50], [30, 85], 20, 68);
  const at = (pos: number, ref: string, alt: string) => codingConsequence(cut, reduceAllele(pos, ref, alt), plusSeq)!;
  // c.14 A>T in codon 5 (AAA, Lys → ATA, Ile), as on the complete model.
  t.equal(at(54, 'A', 'T').exonicFunction, 'missense');
  t.equal(at(54, 'A', 'T').hgvsP, onPlus(54, 'A', 'T')!.hgvsP);
  // c.28 (genomic 67, the T of TAA) belongs to no whole codon of this model.
  t.equal(at(68, 'T', 'C').exonicFunction, 'unknown');
});
