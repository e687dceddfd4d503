// Ensembl VEP's splice and transcript terms worked by hand on both strands. Coordinates in the
// drawings are 0-based (the engine's); VEP's are 1-based, an intron's first base is +1 from its
// donor side and its last base -1 at the acceptor side, in the transcript's orientation.
import t from 'tap';
import type { Transcript } from '../src/transcript.ts';
import { mostSevere, termsText, transcriptTerms, TERMS } from '../src/annotation/vep-terms.ts';

const tx = (
  id: string,
  strand: '+' | '-',
  exonStarts: number[],
  exonEnds: number[],
  cdsStart: number,
  cdsEnd: number,
  biotype = 'protein_coding',
): Transcript => ({
  id,
  gene: id,
  chrom: '1',
  strand,
  start: exonStarts[0]!,
  end: exonEnds.at(-1)!,
  cdsStart,
  cdsEnd,
  exonStarts,
  exonEnds,
  biotype,
});

// PLUS: [100 UTR5 150 ### 200) --intron 1: 200..299-- [300 ### 400) --intron 2-- [500 ### 550 UTR3 600)
const PLUS = tx('PLUS', '+', [100, 300, 500], [200, 400, 600], 150, 550);
// MINUS: the same shape on '-': exon 1 is [10500, 10600), intron 1 is 10400..10499 with its donor (+1) at 10499.
const MINUS = tx('MINUS', '-', [10100, 10300, 10500], [10200, 10400, 10600], 10150, 10550);
const NC = tx('NC', '+', [20000, 20200], [20100, 20300], 20300, 20300, 'lncRNA');

const dist = { value: 0 };
/** The terms of an SNV at 0-based p. */
const snv = (tr: Transcript, p: number): string => termsText(transcriptTerms(tr, p + 1, p + 1, false, dist));
/** An insertion between 0-based bases p - 1 and p (VEP: start p + 1, end p). */
const ins = (tr: Transcript, p: number): string => termsText(transcriptTerms(tr, p + 1, p, false, dist));
/** A deletion of 0-based [s, e). */
const del = (tr: Transcript, s: number, e: number): string => termsText(transcriptTerms(tr, s + 1, e, false, dist));

// Intron 1 of PLUS: +k is 0-based 199 + k, -k is 300 - k. Intron 1 of MINUS: +k is 10500 - k, -k is 10399 + k.
const plusDonor = (k: number) => 199 + k;
const plusAcceptor = (k: number) => 300 - k;
const minusDonor = (k: number) => 10500 - k;
const minusAcceptor = (k: number) => 10399 + k;

for (const [name, tr, donor, acceptor] of [
  ['plus', PLUS, plusDonor, plusAcceptor],
  ['minus', MINUS, minusDonor, minusAcceptor],
] as const) {
  t.test(`${name} strand: donor side of the intron, +1 to +9`, async (t) => {
    t.equal(snv(tr, donor(1)), 'splice_donor_variant', '+1');
    t.equal(snv(tr, donor(2)), 'splice_donor_variant', '+2');
    t.equal(snv(tr, donor(3)), 'splice_donor_region_variant&intron_variant', '+3');
    t.equal(snv(tr, donor(4)), 'splice_donor_region_variant&intron_variant', '+4');
    t.equal(snv(tr, donor(5)), 'splice_donor_5th_base_variant&intron_variant', '+5: the 5th base, not also the donor region');
    t.equal(snv(tr, donor(6)), 'splice_donor_region_variant&intron_variant', '+6');
    t.equal(snv(tr, donor(7)), 'splice_region_variant&intron_variant', '+7');
    t.equal(snv(tr, donor(8)), 'splice_region_variant&intron_variant', '+8');
    t.equal(snv(tr, donor(9)), 'intron_variant', '+9');
  });

  t.test(`${name} strand: acceptor side of the intron, -1 to -18`, async (t) => {
    t.equal(snv(tr, acceptor(1)), 'splice_acceptor_variant', '-1');
    t.equal(snv(tr, acceptor(2)), 'splice_acceptor_variant', '-2');
    t.equal(snv(tr, acceptor(3)), 'splice_region_variant&splice_polypyrimidine_tract_variant&intron_variant', '-3');
    t.equal(snv(tr, acceptor(8)), 'splice_region_variant&splice_polypyrimidine_tract_variant&intron_variant', '-8');
    t.equal(snv(tr, acceptor(9)), 'splice_polypyrimidine_tract_variant&intron_variant', '-9');
    t.equal(snv(tr, acceptor(17)), 'splice_polypyrimidine_tract_variant&intron_variant', '-17');
    t.equal(snv(tr, acceptor(18)), 'intron_variant', '-18');
    // The donor-side terms do not appear at the acceptor: -5 is no 5th base.
    t.notMatch(snv(tr, acceptor(5)), /5th_base|donor/);
  });

  t.test(`${name} strand: the 1-3 exon bases beside the intron are splice region`, async (t) => {
    // The exon before the donor (transcript order) ends at donor(1) ∓ 1; the one after the acceptor starts at acceptor(1) ± 1.
    const step = tr.strand === '+' ? 1 : -1;
    const lastExonBase = donor(1) - step;
    const firstExonBase = acceptor(1) + step;
    for (let k = 0; k < 3; k++) {
      t.equal(snv(tr, lastExonBase - k * step), 'splice_region_variant', `exon base ${k + 1} before the donor`);
      t.equal(snv(tr, firstExonBase + k * step), 'splice_region_variant', `exon base ${k + 1} after the acceptor`);
    }
    t.equal(snv(tr, lastExonBase - 3 * step), '', 'the 4th exon base is not (its coding term comes from the consequence)');
    t.equal(snv(tr, firstExonBase + 3 * step), '');
  });
}

t.test('indels at splice edges, by VEP overlap rules', async (t) => {
  // An insertion between +2 and +3: it touches neither donor base, and VEP names the +3 edge a splice region.
  t.equal(ins(PLUS, plusDonor(3)), 'splice_region_variant&intron_variant');
  // Between +1 and +2: both neighbours are donor bases.
  t.equal(ins(PLUS, plusDonor(2)), 'splice_donor_variant');
  // Deleting the exon's last two bases and the donor's two: donor, with the exon terms of the caller.
  t.equal(del(PLUS, 198, 202), 'splice_donor_variant');
  // Deleting -4 to the exon's second base: -4 and -3 are intron proper, but the polypyrimidine tract
  // is not called once an exon base is touched.
  t.equal(del(PLUS, plusAcceptor(4), 302), 'splice_acceptor_variant&intron_variant');
  t.equal(del(MINUS, minusDonor(6), minusDonor(2)), 'splice_donor_5th_base_variant&intron_variant', '+6..+3 on minus includes +5');
});

t.test('UTRs, non-coding transcripts, NMD, flanks with their distance', async (t) => {
  t.equal(snv(PLUS, 120), '5_prime_UTR_variant');
  t.equal(snv(PLUS, 560), '3_prime_UTR_variant');
  t.equal(snv(MINUS, 10560), '5_prime_UTR_variant');
  t.equal(snv(MINUS, 10120), '3_prime_UTR_variant');
  t.equal(snv(NC, 20050), 'non_coding_transcript_exon_variant');
  t.equal(snv(NC, 20150), 'intron_variant&non_coding_transcript_variant');
  t.equal(snv(NC, 20100), 'splice_donor_variant&non_coding_transcript_variant');
  const nmd = { ...PLUS, biotype: 'nonsense_mediated_decay' };
  t.equal(snv(nmd, 250), 'intron_variant&NMD_transcript_variant');
  t.equal(snv(PLUS, 89), 'upstream_gene_variant');
  t.equal(dist.value, 11, 'base 90 (1-based) is 11 bases before base 101, the first of the transcript');
  t.equal(snv(PLUS, 605), 'downstream_gene_variant');
  t.equal(dist.value, 6);
  t.equal(snv(MINUS, 10605), 'upstream_gene_variant', "a minus-strand transcript's upstream is on the right");
  t.equal(snv(MINUS, 10090), 'downstream_gene_variant');
  const coding = termsText(transcriptTerms(PLUS, 351, 351, true, dist));
  t.equal(coding, 'coding_sequence_variant', 'without a FASTA a CDS base is coding_sequence_variant');
});

t.test('the most severe term follows VEP: donor > missense > 5th base > splice region > synonymous > intron', async (t) => {
  const order = [
    'splice_acceptor_variant',
    'splice_donor_variant',
    'stop_gained',
    'missense_variant',
    'splice_donor_5th_base_variant',
    'splice_region_variant',
    'splice_donor_region_variant',
    'splice_polypyrimidine_tract_variant',
    'synonymous_variant',
    '5_prime_UTR_variant',
    'intron_variant',
    'upstream_gene_variant',
    'intergenic_variant',
  ];
  for (let i = 1; i < order.length; i++)
    t.ok(TERMS.indexOf(order[i - 1] as never) < TERMS.indexOf(order[i] as never), `${order[i - 1]} before ${order[i]}`);
  const bit = (s: string) => 1 << TERMS.indexOf(s as never);
  t.equal(TERMS[mostSevere(bit('synonymous_variant') | bit('splice_region_variant'))], 'splice_region_variant');
  t.equal(TERMS[mostSevere(bit('splice_donor_5th_base_variant') | bit('intron_variant'))], 'splice_donor_5th_base_variant');
  t.equal(termsText(bit('synonymous_variant') | bit('splice_region_variant')), 'splice_region_variant&synonymous_variant');
});
