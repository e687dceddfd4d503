// NCBI's dbSNP VCFs name chromosomes by RefSeq accession (NC_000001.11), which no input VCF uses and
// which chrom-alias does not map. These are the accessions of the primary chromosomes of each build
// (the versions differ between GRCh37 and GRCh38, so they also tell a file's build).
import type { BuildName } from '../reference-presets.ts';

const NAMES = [...Array.from({ length: 22 }, (_, i) => String(i + 1)), 'X', 'Y'];

// Versions of NC_000001 … NC_000024 (chr1 … chr22, X, Y).
const VERSIONS: Record<BuildName, number[]> = {
  GRCh37: [10, 11, 11, 11, 9, 11, 13, 10, 11, 10, 9, 11, 10, 8, 9, 9, 10, 9, 9, 10, 8, 10, 10, 9],
  GRCh38: [11, 12, 12, 12, 10, 12, 14, 11, 12, 11, 10, 12, 11, 9, 10, 10, 11, 10, 10, 11, 9, 11, 11, 10],
};

/** The rCRS mitochondrion, the MT of both GRCh37 and GRCh38. */
const MT_ACCESSION = 'NC_012920.1';

/** accession → chromosome name (`1`…`22`, `X`, `Y`, `MT`) for one build. */
export function refSeqChromosomes(build: BuildName): Map<string, string> {
  const m = new Map<string, string>();
  VERSIONS[build].forEach((v, i) => m.set(`NC_${String(i + 1).padStart(6, '0')}.${v}`, NAMES[i]!));
  m.set(MT_ACCESSION, 'MT');
  return m;
}

/** The build whose primary-chromosome accession this is, when it belongs to the other one. */
export function otherBuildOf(accession: string, build: BuildName): BuildName | undefined {
  for (const other of Object.keys(VERSIONS) as BuildName[]) {
    if (other !== build && refSeqChromosomes(other).has(accession) && !refSeqChromosomes(build).has(accession)) return other;
  }
  return undefined;
}
