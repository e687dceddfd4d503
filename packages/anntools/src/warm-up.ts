// Records made up from a reference's own transcripts and dbSNP entries, annotated once per thread
// before the real input and thrown away.
//
// Why: V8 optimizes a hot function with the type feedback gathered so far. A branch the input has
// not taken yet (the first multi-allelic record, indel, exonic SNV, rsID hit, sample column) has
// none, and the first time it is taken the optimized code is thrown away and the function compiled
// again. Each thread compiles its own copy of the hot code, and these recompilations were a quarter
// of the CPU time of a 1 M-record run. A few hundred varied records up front, run by the
// interpreter, give every branch its feedback before anything is optimized.
import { ChunkAnnotator } from './chunk-annotator.ts';
import type { Reference } from './reference.ts';
import type { Transcript } from './transcript.ts';

/**
 * References this thread has warmed up on, with or without the TSV: the type feedback is per
 * thread, not per annotator.
 */
const warmedUp = new WeakMap<Reference, Set<string>>();

/**
 * Annotates the made-up records over `reference` once per thread, before the
 * annotators that do the real work are made: objects made before the warm-up would carry the
 * object shapes of before it, and V8's optimized code would meet them as new shapes.
 */
export function warmUp(reference: Reference | undefined, tsv: boolean, csq: boolean): void {
  if (!reference) return;
  const done = warmedUp.get(reference) ?? new Set<string>();
  warmedUp.set(reference, done);
  const key = `${tsv}:${csq}`;
  if (done.has(key)) return;
  done.add(key);
  // Chunks and results move between threads by transfer, which detaches their memory. The first
  // detach in a thread makes V8 throw away every optimized function that reads a typed array (it
  // had assumed none ever would be); detaching a buffer of nothing now gets that done before
  // anything is optimized.
  const nothing = new ArrayBuffer(0);
  structuredClone(nothing, { transfer: [nothing] });
  // With the TSV only when the real work writes it, or V8 would spend time optimizing TSV code;
  // small output buffers and pieces, so that growing them and cutting pieces are warmed up too.
  const annotator = new ChunkAnnotator({ reference, tsv, csq, maxLineBytes: 1 << 20, vcf33: false, outputBytes: 1024, pieceBytes: 4096 });
  // Twice: V8 gives a function somewhere to keep type feedback only after its first few calls,
  // so what only the first records do (a new chromosome, the first growth) is seen the second time.
  const records = warmUpRecords(reference);
  for (let pass = 0; pass < 2; pass++) annotator.annotate(records);
}

/** Transcripts looked at, and taken of each kind (coding or not, strand, one exon or more). */
const CANDIDATES = 2000;
const PER_KIND = 1;
const RSIDS = 24;

/** A few transcripts of every kind, so every region class and both strands come up. */
function varied(transcripts: Transcript[]): Transcript[] {
  const taken = new Map<string, number>();
  return transcripts.filter((t) => {
    const kind = `${t.cdsEnd > t.cdsStart}${t.strand}${t.exonStarts.length > 2}`;
    const n = taken.get(kind) ?? 0;
    taken.set(kind, n + 1);
    return n < PER_KIND;
  });
}

/** The data lines (no header) of a made-up VCF over `reference`'s first chromosome. */
export function warmUpRecords(reference: Reference): Buffer {
  const lines: string[] = [];
  const add = (chrom: string, pos: number, ref: string, alt: string, info = 'AF=0.1', samples = ''): void => {
    if (pos < 1) return;
    lines.push(`${chrom}\t${pos}\t.\t${ref}\t${alt}\t50\tPASS\t${info}${samples}`);
  };
  for (const t of varied(reference.transcripts.examples(CANDIDATES))) addTranscript(t, add);
  for (const s of reference.snps?.examples?.(RSIDS) ?? []) {
    add(s.chrom, s.pos, s.ref, s.alt);
    add(s.chrom, s.pos, s.ref, `${s.alt},${s.ref === 'A' ? 'C' : 'A'}`);
  }
  // V8 optimizes a function after a few dozen calls, with the feedback it has by then: striding
  // through the list puts every kind of record among the first few dozen.
  const STRIDE = 17;
  const ordered: string[] = [];
  for (let from = 0; from < STRIDE; from++) for (let i = from; i < lines.length; i += STRIDE) ordered.push(lines[i]!);
  // First of all, records that change chromosome every time (to one the reference does not have,
  // and to the first one under two spellings): V8 starts keeping feedback only after a function's
  // first few calls, and a change of chromosome must be in it.
  const changes: string[] = [];
  const first = lines[0]?.split('\t', 1)[0];
  for (let k = 0; k < 12; k++) {
    for (const chrom of ['warm_up_unplaced', first ? `chr${first}` : 'chrM', first ?? 'MT']) {
      changes.push(`${chrom}\t${100 + k * 50}\t.\t${k % 2 ? 'AT\tA' : 'A\tG'}\t50\tPASS\tAF=0.1`);
    }
  }
  return Buffer.from([...changes, ...ordered].join('\n') + '\n', 'latin1');
}

type Add = (chrom: string, pos: number, ref: string, alt: string, info?: string, samples?: string) => void;

/** SNVs at every kind of place in and around `t`, and the other allele kinds at a few of them. */
function addTranscript(t: Transcript, add: Add): void {
  const c = t.chrom;
  const n = t.exonStarts.length;
  const mid = (a: number, b: number): number => Math.floor((a + b) / 2) + 1;
  // Flanks and intergenic gaps on both sides (1-based positions from here on).
  for (const pos of [t.start - 500, t.end + 500, t.start - 20_000, t.end + 20_000, 1]) add(c, pos, 'A', 'G');
  // Deletions across each end of the transcript: their HGVSc counts on beyond it.
  for (const pos of [t.start - 1, t.end - 2]) add(c, pos, 'ACGTA', 'A');
  for (let i = 0; i < n; i++) {
    const xs = t.exonStarts[i]!;
    const xe = t.exonEnds[i]!;
    add(c, mid(xs, xe), 'C', 'T');
    add(c, xs + 1, 'G', 'A');
    if (i < n - 1) {
      const ns = t.exonStarts[i + 1]!;
      add(c, xe + 1, 'G', 'T'); // splice donor (or acceptor on the minus strand)
      add(c, ns, 'A', 'C');
      add(c, mid(xe, ns), 'T', 'C');
      // Insertions at each edge of the intron, and the bases of each splice term.
      for (const pos of [xe, xe + 2, ns - 2, ns]) add(c, pos, 'A', 'AG');
      for (const pos of [xe + 3, xe + 5, xe + 6, ns - 4, ns - 10]) add(c, pos, 'C', 'G');
    }
    if (i >= 2) break;
  }
  if (t.cdsEnd > t.cdsStart) {
    add(c, t.cdsStart + 1, 'A', 'G'); // start codon
    add(c, t.cdsEnd, 'A', 'T'); // stop codon
    add(c, t.cdsStart, 'C', 'A'); // UTR
    add(c, t.cdsEnd + 1, 'C', 'A');
  }
  // Every kind of ALT, in an exon, in an intron and between genes.
  const inExon = mid(t.exonStarts[0]!, t.exonEnds[0]!);
  const inIntron = n > 1 ? mid(t.exonEnds[0]!, t.exonStarts[1]!) : t.end + 300;
  for (const pos of [inExon, inIntron, t.end + 20_000]) {
    add(c, pos, 'A', 'AT');
    add(c, pos, 'ATG', 'A');
    add(c, pos, 'AT', 'ATT'); // an indel that could slide: dbSNP tries each place
    add(c, pos, 'ACGTACGTACGTACGT', 'A'); // long alleles are another kind of string to V8
    add(c, pos, 'A', 'AGGTACCTACGGACGA,AC');
    add(c, pos, 'ATT', 'AT');
    add(c, pos, 'AT', 'GC');
    add(c, pos, 'ATG', 'GT');
    add(c, pos, 'A', 'C,G');
    add(c, pos, 'A', 'G,*');
    add(c, pos, 'A', '<DEL>');
    add(c, pos, 'A', '.');
    add(c, pos, 'a', 'g', '.');
    add(c, pos, 'A', 'A');
    add(c, pos, 'N', 'T', '', '\tGT:DP\t0/1:12');
    add(c, pos, 'G', 'C', 'DP=3', '\tGT\t1/1');
  }
}
