// Which genome build a VCF was called against, from its header alone: the `##contig` lengths (the
// strongest evidence: every primary chromosome but the mitochondrion changed length between GRCh37
// and GRCh38), then the build names in `##reference=`, `##assembly=` and the contigs' `assembly=`.
// Pure and dependency-free: the engine, the gateway's upload check and the upload page (through
// the gateway's /upload/build-hint) all use it.

export type DetectedBuild = 'GRCh37' | 'GRCh38' | 'NCBI36';

/** The primary assembled chromosomes, by their canonical names (no `chr`, `MT`). */
export const PRIMARY_LENGTHS: Readonly<Record<'GRCh37' | 'GRCh38', Readonly<Record<string, number>>>> = {
  GRCh37: {
    '1': 249250621,
    '2': 243199373,
    '3': 198022430,
    '4': 191154276,
    '5': 180915260,
    '6': 171115067,
    '7': 159138663,
    '8': 146364022,
    '9': 141213431,
    '10': 135534747,
    '11': 135006516,
    '12': 133851895,
    '13': 115169878,
    '14': 107349540,
    '15': 102531392,
    '16': 90354753,
    '17': 81195210,
    '18': 78077248,
    '19': 59128983,
    '20': 63025520,
    '21': 48129895,
    '22': 51304566,
    X: 155270560,
    Y: 59373566,
    MT: 16569,
  },
  GRCh38: {
    '1': 248956422,
    '2': 242193529,
    '3': 198295559,
    '4': 190214555,
    '5': 181538259,
    '6': 170805979,
    '7': 159345973,
    '8': 145138636,
    '9': 138394717,
    '10': 133797422,
    '11': 135086622,
    '12': 133275309,
    '13': 114364328,
    '14': 107043718,
    '15': 101991189,
    '16': 90338345,
    '17': 83257441,
    '18': 80373285,
    '19': 58617616,
    '20': 64444167,
    '21': 46709983,
    '22': 50818468,
    X: 156040895,
    Y: 57227415,
    MT: 16569,
  },
};

/** UCSC hg19 kept the old Yoruba mitochondrion (chrM, 16,571 bp); GRCh37 and GRCh38 use rCRS (16,569). */
const HG19_CHRM_LENGTH = 16571;

/** One spelling per chromosome (as chrom-alias.ts; repeated so this module imports nothing). */
function canonical(name: string): string {
  let c = /^chr/i.test(name) ? name.slice(3) : name;
  if (/^(m|mt)$/i.test(c)) c = 'MT';
  return c;
}

/**
 * A primary chromosome's length in `build` (GRCh37 or GRCh38), by the input's spelling of its name;
 * undefined for other contigs and builds. On GRCh37 the mitochondrion spelled `MT` is b37's rCRS
 * (16,569 bp) and any other spelling (`chrM`, `M`) UCSC hg19's own (16,571 bp).
 */
export function primaryLength(build: string, name: string): number | undefined {
  if (build !== 'GRCh37' && build !== 'GRCh38') return undefined;
  const c = canonical(name);
  if (c === 'MT' && build === 'GRCh37' && name.toUpperCase() !== 'MT') return HG19_CHRM_LENGTH;
  // Own keys only: a contig named "constructor" is not a chromosome.
  return Object.hasOwn(PRIMARY_LENGTHS[build], c) ? PRIMARY_LENGTHS[build][c] : undefined;
}

// Build names as they appear in headers. Word edges are checked around them, so "b37" does not
// match inside another word. GCF_000001405.13-.25 are GRCh37 and its patches, .26 on GRCh38.
const NAME_PATTERNS: Array<[DetectedBuild, RegExp]> = [
  [
    'GRCh38',
    /(?<![a-z0-9])(grch38|hg38|b38|homo_sapiens_assembly38|hs38(dh)?|gcf_000001405\.(2[6-9]|[3-9]\d)|gca_000001405\.(1[5-9]|2\d))(?![a-z0-9])/i,
  ],
  [
    'GRCh37',
    /(?<![a-z0-9])(grch37|hg19|b37|homo_sapiens_assembly19|hs37d5|hs37|human_g1k_v37|gcf_000001405\.(1[3-9]|2[0-5]))(?![a-z0-9])/i,
  ],
  ['NCBI36', /(?<![a-z0-9])(ncbi36|ncbi_?build_?36|hg18|b36|human_b36(_both)?)(?![a-z0-9])/i],
];

export interface ContigLine {
  id: string;
  length?: number;
  assembly?: string;
}

/** `##contig=<ID=..,length=..,assembly=..>` lines of a header (other keys are ignored). */
export function contigLines(header: string): ContigLine[] {
  const out: ContigLine[] = [];
  for (const m of header.matchAll(/^##contig=<(.*)>\s*$/gim)) {
    const fields = new Map<string, string>();
    // Values may be quoted and hold commas: "ID=1,URL=\"a,b\",length=5".
    for (const f of m[1]!.matchAll(/([A-Za-z_][\w.]*)=("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
      fields.set(f[1]!.toLowerCase(), f[2]!.replace(/^"|"$/g, ''));
    }
    const id = fields.get('id');
    if (!id) continue;
    const length = Number(fields.get('length'));
    out.push({ id, length: Number.isSafeInteger(length) && length > 0 ? length : undefined, assembly: fields.get('assembly') });
  }
  return out;
}

export interface BuildEvidence {
  /** The build the header points to; null when it says nothing or contradicts itself. */
  build: DetectedBuild | null;
  /** How it was told: 'contig lengths' or the header line that named it ('##reference line', ...). */
  basis: string | null;
  /** Primary chromosomes whose `##contig` length matched each build. */
  lengthMatches: { GRCh37: number; GRCh38: number };
  /** The header's own spelling of the contigs that matched the detected build (for messages). */
  matched: string[];
}

function nameHint(text: string | undefined): DetectedBuild | null {
  if (!text) return null;
  const hits = NAME_PATTERNS.filter(([, re]) => re.test(text)).map(([b]) => b);
  return hits.length === 1 ? hits[0]! : null;
}

/**
 * The build a VCF header (its `##` lines, or the start of the file) points to. Contig lengths
 * decide when they match only one build; otherwise the first build name found in `##reference`,
 * `##assembly` or the contigs' `assembly=` (when they agree). A header with neither gives null.
 */
export function detectBuild(header: string): BuildEvidence {
  const contigs = contigLines(header);
  const lengthMatches = { GRCh37: 0, GRCh38: 0 };
  const matched: Record<'GRCh37' | 'GRCh38', string[]> = { GRCh37: [], GRCh38: [] };
  let hg19Mito: string | undefined;
  for (const c of contigs) {
    if (c.length === undefined) continue;
    const name = canonical(c.id);
    if (name === 'MT' && c.length === HG19_CHRM_LENGTH) hg19Mito = c.id;
    const in37 = PRIMARY_LENGTHS.GRCh37[name];
    const in38 = PRIMARY_LENGTHS.GRCh38[name];
    // Equal in both builds (the rCRS mitochondrion): no evidence either way.
    if (in37 === in38) continue;
    if (c.length === in37) {
      lengthMatches.GRCh37++;
      matched.GRCh37.push(c.id);
    } else if (c.length === in38) {
      lengthMatches.GRCh38++;
      matched.GRCh38.push(c.id);
    }
  }
  if (hg19Mito && lengthMatches.GRCh38 === 0) {
    lengthMatches.GRCh37++;
    matched.GRCh37.push(hg19Mito);
  }
  const byLength: DetectedBuild | null =
    lengthMatches.GRCh37 > 0 && lengthMatches.GRCh38 === 0
      ? 'GRCh37'
      : lengthMatches.GRCh38 > 0 && lengthMatches.GRCh37 === 0
        ? 'GRCh38'
        : null;
  if (byLength) return { build: byLength, basis: 'contig lengths', lengthMatches, matched: matched[byLength] };
  // Lengths of both builds in one header: it contradicts itself, and a name does not settle it.
  if (lengthMatches.GRCh37 > 0 && lengthMatches.GRCh38 > 0) return { build: null, basis: null, lengthMatches, matched: [] };

  const hints: Array<[DetectedBuild, string]> = [];
  for (const m of header.matchAll(/^##(reference|assembly)=(.*)$/gim)) {
    const b = nameHint(m[2]);
    if (b) hints.push([b, `##${m[1]!.toLowerCase()} line`]);
  }
  for (const c of contigs) {
    const b = nameHint(c.assembly);
    if (b) hints.push([b, 'contig assembly']);
  }
  // Callers record their reference in their command line (GATK: reference_sequence=, --reference, -R).
  for (const m of header.matchAll(/(?:reference_sequence=|--reference[= ]|\s-R\s+)([^\s,"]+)/g)) {
    const b = nameHint(m[1]);
    if (b) hints.push([b, 'command line reference']);
  }
  const builds = new Set(hints.map(([b]) => b));
  if (builds.size !== 1) return { build: null, basis: null, lengthMatches, matched: [] };
  return { build: hints[0]![0], basis: hints[0]![1], lengthMatches, matched: [] };
}

/** The `##` lines at the start of a VCF's text (stops at `#CHROM` or the first data line; a byte-order mark is skipped). */
export function headerLines(text: string): string {
  // The mark as UTF-8 text, or as its three bytes read as latin1.
  const body = text.replace(/^(\uFEFF|\u00EF\u00BB\u00BF)/, '');
  const end = body.search(/^(?!##)/m);
  return end < 0 ? body : body.slice(0, end);
}

export interface JobWarningText {
  code: 'build_mismatch' | 'uncovered_chromosomes' | 'no_dbsnp_chromosomes' | 'outside_chromosome';
  message: string;
}

/** The warning for a file whose header points to another build than the one it is annotated as; null when it does not. */
export function buildMismatchWarning(evidence: BuildEvidence, chosen: string): JobWarningText | null {
  if (!evidence.build || evidence.build === chosen) return null;
  const how = evidence.basis ?? 'header';
  const message =
    evidence.build === 'NCBI36'
      ? `This file looks like NCBI36/hg18 (${how}), but it was annotated as ${chosen}: GAS has no NCBI36 reference, and positions ` +
        `differ between builds, so genes and rsIDs are likely wrong.`
      : `This file looks like ${evidence.build} (${how}), but it was annotated as ${chosen}: positions differ between builds, ` +
        `so genes and rsIDs are likely wrong. Submit it again as ${evidence.build}.`;
  return { code: 'build_mismatch', message };
}
