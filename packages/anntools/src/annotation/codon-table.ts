// Genetic codes and sequence helpers for consequence prediction.

/** NCBI translation table as its 64 amino acids in TCAG order (the layout NCBI publishes). */
const STANDARD = 'FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG';
// Table 2: AGA/AGG are stops, ATA is Met and TGA is Trp in vertebrate mitochondria.
const VERTEBRATE_MITOCHONDRIAL = 'FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIMMTTTTNNKKSS**VVVVAAAADDEEGGGG';

export type GeneticCode = 'standard' | 'vertebrate_mitochondrial';

const BASE_INDEX: Record<string, number> = { T: 0, C: 1, A: 2, G: 3 };

function codonIndex(seq: string, at: number): number {
  const a = BASE_INDEX[seq[at]!];
  const b = BASE_INDEX[seq[at + 1]!];
  const c = BASE_INDEX[seq[at + 2]!];
  if (a === undefined || b === undefined || c === undefined) return -1;
  return a * 16 + b * 4 + c;
}

/** The code a chromosome uses: mitochondrial for MT (canonical name), standard elsewhere. */
export function geneticCodeFor(canonicalChrom: string): GeneticCode {
  return canonicalChrom === 'MT' ? 'vertebrate_mitochondrial' : 'standard';
}

/**
 * One-letter translation of the whole codons of `seq` (uppercase), '*' for stops. A codon with
 * anything but A/C/G/T (N, IUPAC codes) is 'X' rather than a guess. With `untilStop` translation
 * ends after the first stop, as a ribosome would.
 */
export function translate(seq: string, code: GeneticCode = 'standard', untilStop = false): string {
  const table = code === 'standard' ? STANDARD : VERTEBRATE_MITOCHONDRIAL;
  let out = '';
  for (let i = 0; i + 3 <= seq.length; i += 3) {
    const k = codonIndex(seq, i);
    const aa = k < 0 ? 'X' : table[k]!;
    out += aa;
    if (untilStop && aa === '*') break;
  }
  return out;
}

const THREE: Record<string, string> = {
  A: 'Ala',
  R: 'Arg',
  N: 'Asn',
  D: 'Asp',
  C: 'Cys',
  Q: 'Gln',
  E: 'Glu',
  G: 'Gly',
  H: 'His',
  I: 'Ile',
  L: 'Leu',
  K: 'Lys',
  M: 'Met',
  F: 'Phe',
  P: 'Pro',
  S: 'Ser',
  T: 'Thr',
  W: 'Trp',
  Y: 'Tyr',
  V: 'Val',
  U: 'Sec',
  O: 'Pyl',
  '*': 'Ter',
  X: 'Xaa',
};

/** Three-letter HGVS names ("Ter" for stop) of each one-letter residue in `aa`. */
export function threeLetter(aa: string): string {
  let out = '';
  for (const c of aa) out += THREE[c] ?? 'Xaa';
  return out;
}

const COMPLEMENT: Record<string, string> = {
  A: 'T',
  C: 'G',
  G: 'C',
  T: 'A',
  N: 'N',
  // IUPAC ambiguity codes complement to their mirror so a soft-masked or ambiguous base survives.
  R: 'Y',
  Y: 'R',
  S: 'S',
  W: 'W',
  K: 'M',
  M: 'K',
  B: 'V',
  V: 'B',
  D: 'H',
  H: 'D',
};

export function reverseComplement(seq: string): string {
  let out = '';
  for (let i = seq.length - 1; i >= 0; i--) out += COMPLEMENT[seq[i]!] ?? 'N';
  return out;
}

export function isPlainDna(seq: string): boolean {
  return /^[ACGT]*$/.test(seq);
}
