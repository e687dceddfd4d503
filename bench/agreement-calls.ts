// Runs the three annotators on one agreement input and reads their outputs into one vocabulary:
// per variant, the region class (ANNOVAR's classes and precedence, which our engine reports) and,
// per coding transcript, the coding consequence, HGVS c. and p. and the protein change.
//
// The vocabularies and how they map:
//
// | unified            | ours (FUNCTION / p.)       | SnpEff ANN                                   | bcftools csq BCSQ        |
// |--------------------|----------------------------|----------------------------------------------|--------------------------|
// | stop_gained        | stop_gained / p.X1Ter      | stop_gained                                  | stop_gained              |
// | stop_lost          | stop_lost / p.Ter1XextTer  | stop_lost                                    | stop_lost                |
// | start_lost         | start_lost / p.Met1?       | start_lost                                   | start_lost               |
// | missense           | missense                   | missense_variant                             | missense                 |
// | start_retained     | –                          | start_retained_variant, initiator_codon_variant | start_retained        |
// | stop_retained      | stop_retained / p.Ter1=    | stop_retained_variant                        | stop_retained            |
// | synonymous         | synonymous / p.X1=         | synonymous_variant                           | synonymous               |
// | coding_unknown     | unknown / p.?              | coding_sequence_variant                      | coding_sequence          |
// | frameshift, inframe_insertion, inframe_deletion, protein_altering: the same names (indels)             |
//
// Region classes from the peers' per-transcript terms: any coding term → exonic; splice donor or
// acceptor → splicing (ncRNA_splicing on a non-coding transcript); 5′/3′ UTR → UTR5/UTR3;
// non_coding_transcript_exon_variant → ncRNA_exonic; intron → intronic or ncRNA_intronic;
// upstream/downstream/intergenic as named. csq's non_coding covers a non-coding transcript's exons
// and introns alike: it maps to ncRNA_exonic here, and comparisons with csq read all ncRNA
// classes as one (agreement-compare.ts). A splice_region term on its own (an intronic base 3-8
// from the exon) takes the class of that base in the model, which is intronic. The variant's
// class is then the strongest over its transcripts by ANNOVAR's precedence, as our engine does it.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REGION_RANK } from '@gas/anntools';
import { TERMS } from '../packages/anntools/src/annotation/vep-terms.ts';
import type { RegionClass } from '@gas/anntools';
import { REPO_ROOT, SNPEFF_JAR } from './inputs.ts';
import { run } from './measure.ts';
import type { Dataset } from './agreement-data.ts';
import { inExon, isCodingModel } from './agreement-models.ts';
import type { ModelTranscript } from './agreement-models.ts';

export type { RegionClass };

/** ANNOVAR's precedence, as the engine ranks it: lower is stronger. */
const RANK = REGION_RANK;
const REGION_ORDER = Object.keys(RANK) as RegionClass[];

/** The classes of the strongest rank; inside the ncRNA level only its strongest kind. */
export function topRegions(classes: Iterable<RegionClass>): RegionClass[] {
  const all = [...new Set(classes)];
  if (all.length === 0) return [];
  const best = Math.min(...all.map((c) => RANK[c]));
  const level = Math.floor(best);
  return REGION_ORDER.filter((c) => all.includes(c) && (level === 1 ? RANK[c] === best : Math.floor(RANK[c]) === level));
}

/** Coding consequences in VEP's order of severity: the first one present is the most severe. */
export const CODING_ORDER = [
  'stop_gained',
  'frameshift',
  'stop_lost',
  'start_lost',
  'inframe_insertion',
  'inframe_deletion',
  'missense',
  'protein_altering',
  'start_retained',
  'stop_retained',
  'synonymous',
  'coding_unknown',
] as const;
export type Coding = (typeof CODING_ORDER)[number];

export function mostSevere(terms: Iterable<Coding | undefined>): Coding | undefined {
  let best: Coding | undefined;
  for (const t of terms) if (t && (best === undefined || CODING_ORDER.indexOf(t) < CODING_ORDER.indexOf(best))) best = t;
  return best;
}

export interface TranscriptCall {
  coding?: Coding;
  hgvsC?: string;
  /** HGVS p. in one spelling: three-letter residues, `Ter`, `=` for an unchanged residue. */
  hgvsP?: string;
  /** "12K>N": position, reference and new residue of the first residue changed ("?" unknown). */
  protein?: string;
}

// VEP's terms, harmonised across the three tools. What the peers (SnpEff 5.1, csq 1.16) have no word
// for is read as they would say it: VEP 105's splice_donor_5th_base and splice_donor_region stand
// where splice_region did (intron +3..+6; VEP drops splice_region only because they say more), the
// polypyrimidine tract is dropped (at -3..-8 splice_region is there anyway, further in only
// intron_variant), and every flank or intergenic call is "outside" (VEP's 5 kb, ANNOVAR's and ours
// 1 kb, csq none). NMD_transcript_variant and non_coding_transcript_variant only ever come with
// another term and are dropped. The most severe term is then the first by VEP's rank.
export const OUTSIDE = 'outside';
const TERM_RANK = new Map<string, number>([
  ...TERMS.map((t, i) => [t, i] as [string, number]),
  [OUTSIDE, TERMS.indexOf('upstream_gene_variant')],
]);

const HARMONISED: Record<string, string | null> = {
  splice_donor_5th_base_variant: 'splice_region_variant',
  splice_donor_region_variant: 'splice_region_variant',
  splice_polypyrimidine_tract_variant: null,
  upstream_gene_variant: OUTSIDE,
  downstream_gene_variant: OUTSIDE,
  intergenic_variant: OUTSIDE,
  intergenic_region: OUTSIDE,
  NMD_transcript_variant: null,
  non_coding_transcript_variant: null,
  // SnpEff's names for VEP's.
  disruptive_inframe_insertion: 'inframe_insertion',
  conservative_inframe_insertion: 'inframe_insertion',
  disruptive_inframe_deletion: 'inframe_deletion',
  conservative_inframe_deletion: 'inframe_deletion',
  initiator_codon_variant: 'start_retained_variant',
  '5_prime_UTR_premature_start_codon_gain_variant': '5_prime_UTR_variant',
  intragenic_variant: null,
  // csq's.
  missense: 'missense_variant',
  synonymous: 'synonymous_variant',
  frameshift: 'frameshift_variant',
  inframe_altering: 'protein_altering_variant',
  start_retained: 'start_retained_variant',
  stop_retained: 'stop_retained_variant',
  coding_sequence: 'coding_sequence_variant',
  splice_donor: 'splice_donor_variant',
  splice_acceptor: 'splice_acceptor_variant',
  splice_region: 'splice_region_variant',
  '5_prime_utr': '5_prime_UTR_variant',
  '3_prime_utr': '3_prime_UTR_variant',
  intron: 'intron_variant',
};

/** One tool's terms in the shared vocabulary; terms it has no place for go to `unmapped`. */
export function harmoniseTerms(terms: readonly string[], unmapped: string[]): string[] {
  const out: string[] = [];
  for (const term of terms) {
    const h = term in HARMONISED ? HARMONISED[term]! : term;
    if (h === null) continue;
    if (!TERM_RANK.has(h)) {
      unmapped.push(term);
      continue;
    }
    if (!out.includes(h)) out.push(h);
  }
  return out;
}

/** The most severe of harmonised terms by VEP's rank; 'outside' when there are none. */
export function mostSevereTerm(terms: Iterable<string>): string {
  let best: string | undefined;
  for (const t of terms) if (best === undefined || TERM_RANK.get(t)! < TERM_RANK.get(best)!) best = t;
  return best ?? OUTSIDE;
}

export interface VariantCall {
  /** Strongest region classes (ANNOVAR precedence), in precedence order; empty: nothing reported. */
  regions: RegionClass[];
  /** Coding calls by transcript ID. */
  transcripts: Map<string, TranscriptCall>;
  severe?: Coding;
  /** The tool's own text for this allele, for the examples. */
  raw: string;
  /** Our FUNCTION column (the engine's own pick of the most severe). */
  reported?: string;
  /** Terms with no place in the unified vocabulary. */
  unmapped: string[];
  /** Harmonised VEP terms per transcript (csq: only the transcripts it names). */
  terms: Map<string, string[]>;
  /** The most severe harmonised term over every transcript ('outside' when none is near). */
  severeTerm: string;
}

export type ToolName = 'ours' | 'snpeff' | 'csq';
export const TOOL_LABELS: Record<ToolName, string> = { ours: 'GAS anntools', snpeff: 'SnpEff 5.1', csq: 'bcftools csq' };

const AA3: Record<string, string> = {
  Ala: 'A',
  Arg: 'R',
  Asn: 'N',
  Asp: 'D',
  Cys: 'C',
  Gln: 'Q',
  Glu: 'E',
  Gly: 'G',
  His: 'H',
  Ile: 'I',
  Leu: 'L',
  Lys: 'K',
  Met: 'M',
  Phe: 'F',
  Pro: 'P',
  Ser: 'S',
  Thr: 'T',
  Trp: 'W',
  Tyr: 'Y',
  Val: 'V',
  Ter: '*',
  Sec: 'U',
  Xaa: 'X',
};

/** One spelling of HGVS p.: `*` → `Ter`, "p.Val1Val" → "p.Val1=". */
export function normaliseHgvsP(p: string): string {
  const s = p.replace(/\*/g, 'Ter');
  const m = /^p\.([A-Z][a-z]{2})(\d+)([A-Z][a-z]{2})$/.exec(s);
  return m && m[1] === m[3] ? `p.${m[1]}${m[2]}=` : s;
}

/** "12K>N" from an HGVS p. of a substitution-like change; undefined for anything else. */
export function proteinFromHgvsP(p: string): string | undefined {
  const m = /^p\.([A-Z][a-z]{2})(\d+)(.*)$/.exec(normaliseHgvsP(p));
  if (!m) return undefined;
  const ref = AA3[m[1]!];
  if (!ref) return undefined;
  const rest = m[3]!;
  let alt: string | undefined;
  if (rest === '=') alt = ref;
  else if (rest === '?') alt = '?';
  else alt = AA3[rest.slice(0, 3)];
  return alt ? `${m[2]}${ref}>${alt}` : undefined;
}

/** Our per-transcript consequence from its p. (the TSV gives FUNCTION only for the most severe). */
function codingFromOurP(p: string): Coding {
  if (p === 'p.?') return 'coding_unknown';
  if (/^p\.[A-Z][a-z]{2}1\?$/.test(p)) return 'start_lost';
  if (/^p\.Ter\d+=$/.test(p)) return 'stop_retained';
  if (p.endsWith('=')) return 'synonymous';
  if (/^p\.Ter\d+/.test(p)) return 'stop_lost';
  if (/fs/.test(p)) return 'frameshift';
  if (/Ter$/.test(p) && !/(del|ins|dup)/.test(p)) return 'stop_gained';
  if (/dup|ins/.test(p) && !/del/.test(p)) return 'inframe_insertion';
  if (/del/.test(p) && !/ins/.test(p)) return 'inframe_deletion';
  if (/delins/.test(p)) return 'protein_altering';
  return 'missense';
}

const OUR_FUNCTION: Record<string, Coding> = {
  stop_gained: 'stop_gained',
  frameshift: 'frameshift',
  stop_lost: 'stop_lost',
  start_lost: 'start_lost',
  inframe_insertion: 'inframe_insertion',
  inframe_deletion: 'inframe_deletion',
  inframe_delins: 'protein_altering',
  missense: 'missense',
  stop_retained: 'stop_retained',
  synonymous: 'synonymous',
  unknown: 'coding_unknown',
};

const SNPEFF_CODING: Record<string, Coding> = {
  stop_gained: 'stop_gained',
  frameshift_variant: 'frameshift',
  stop_lost: 'stop_lost',
  start_lost: 'start_lost',
  inframe_insertion: 'inframe_insertion',
  disruptive_inframe_insertion: 'inframe_insertion',
  inframe_deletion: 'inframe_deletion',
  disruptive_inframe_deletion: 'inframe_deletion',
  missense_variant: 'missense',
  protein_altering_variant: 'protein_altering',
  start_retained_variant: 'start_retained',
  initiator_codon_variant: 'start_retained',
  stop_retained_variant: 'stop_retained',
  synonymous_variant: 'synonymous',
  coding_sequence_variant: 'coding_unknown',
};

const CSQ_CODING: Record<string, Coding> = {
  stop_gained: 'stop_gained',
  frameshift: 'frameshift',
  stop_lost: 'stop_lost',
  start_lost: 'start_lost',
  inframe_insertion: 'inframe_insertion',
  inframe_deletion: 'inframe_deletion',
  inframe_altering: 'protein_altering',
  missense: 'missense',
  start_retained: 'start_retained',
  stop_retained: 'stop_retained',
  synonymous: 'synonymous',
  coding_sequence: 'coding_unknown',
};

/** Region words of the peers (after dropping SnpEff's `_variant`); splice and intron depend on the transcript being coding. */
const REGION_WORDS: Record<string, RegionClass | 'splice' | 'intron' | 'region'> = {
  splice_donor: 'splice',
  splice_acceptor: 'splice',
  splice_region: 'region',
  '5_prime_UTR': 'UTR5',
  '5_prime_utr': 'UTR5',
  '5_prime_UTR_premature_start_codon_gain': 'UTR5',
  '3_prime_UTR': 'UTR3',
  '3_prime_utr': 'UTR3',
  non_coding_transcript_exon: 'ncRNA_exonic',
  non_coding: 'ncRNA_exonic',
  intron: 'intron',
  upstream_gene: 'upstream',
  downstream_gene: 'downstream',
  intergenic_region: 'intergenic',
  intergenic: 'intergenic',
};

/** The classes one peer entry (one transcript) gives, from its terms. */
function entryRegions(
  terms: string[],
  coding: Record<string, Coding>,
  isCoding: boolean,
  where: RegionClass,
  unmapped: string[],
): RegionClass[] {
  const out: RegionClass[] = [];
  let region = false;
  for (const term of terms) {
    if (coding[term]) {
      out.push('exonic');
      continue;
    }
    const w = REGION_WORDS[term.replace(/_variant$/, '')];
    if (w === undefined) {
      if (term !== 'non_coding_transcript' && term !== 'NMD_transcript') unmapped.push(term);
      continue;
    }
    if (w === 'splice') out.push(isCoding ? 'splicing' : 'ncRNA_splicing');
    else if (w === 'intron') out.push(isCoding ? 'intronic' : 'ncRNA_intronic');
    else if (w === 'region') region = true;
    else out.push(w);
  }
  // A splice_region term alone: where the base is in that transcript decides (csq writes exonic
  // splice-region bases as a separate entry next to the coding one).
  if (out.length === 0 && region) out.push(where);
  return out;
}

/** ANNOVAR class of position `pos` in model `t` (for a splice_region term standing alone). */
function positionClass(t: ModelTranscript | undefined, pos: number): RegionClass {
  if (!t) return 'intronic';
  const coding = isCodingModel(t);
  if (!inExon(t, pos)) return coding ? 'intronic' : 'ncRNA_intronic';
  if (!coding) return 'ncRNA_exonic';
  const cdsStart = t.cds[0]![0];
  const cdsEnd = t.cds[t.cds.length - 1]![1];
  if (pos >= cdsStart && pos <= cdsEnd) return 'exonic';
  return pos < cdsStart === (t.strand === '+') ? 'UTR5' : 'UTR3';
}

export interface ToolRun {
  calls: Map<string, VariantCall>;
  command: string;
  seconds: number;
  /** stderr lines worth keeping: csq's and SnpEff's warnings. */
  notes: string[];
}

type Say = (msg: string) => void;

/** bench/measure.ts `run`, failing loudly with the command's stderr. */
async function must(
  cmd: string,
  args: string[],
  opts: { stdoutFile?: string; stderrFile?: string } = {},
): Promise<{ stdout: string; seconds: number }> {
  const t0 = performance.now();
  const r = await run(cmd, args, { cwd: REPO_ROOT, ...opts });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.code}:\n${r.stderrTail}`);
  return { stdout: r.stdout, seconds: (performance.now() - t0) / 1000 };
}

const CLI = join(REPO_ROOT, 'packages/anntools/src/cli.ts');

/**
 * Our CLI: build-db with the FASTA, then annotate in this thread. The CLI spelled "this thread"
 * `--threads 0` and now spells it `--threads 1`; whichever this checkout accepts is used.
 */
export async function runOurs(say: Say, ds: Dataset, vcf: string, outDir: string): Promise<ToolRun> {
  const ref = join(ds.workDir, `${ds.name}.gasref`);
  await must(
    process.execPath,
    ['--import', 'tsx', CLI, 'build-db', '--build', ds.build, '--genes', ds.ourGenes, '--fasta', ds.ourFasta, '--out', ref],
    {
      stderrFile: join(outDir, 'ours-build-db.stderr'),
    },
  );
  const annotate = (threads: string) => [
    '--import',
    'tsx',
    CLI,
    'annotate',
    vcf,
    '--reference',
    ref,
    '--out-dir',
    outDir,
    '--threads',
    threads,
  ];
  const t0 = performance.now();
  let threads = '0';
  let r = await run(process.execPath, annotate(threads), { cwd: REPO_ROOT, stderrFile: join(outDir, 'ours.stderr') });
  if (r.code !== 0 && /--threads must be a whole number ≥ 1/.test(r.stderrTail)) {
    say('ours: this CLI rejects --threads 0; using --threads 1 (no worker threads)');
    threads = '1';
    r = await run(process.execPath, annotate(threads), { cwd: REPO_ROOT, stderrFile: join(outDir, 'ours.stderr') });
  }
  if (r.code !== 0) throw new Error(`our CLI failed (exit ${r.code}) on ${vcf}:\n${r.stderrTail}`);
  const seconds = (performance.now() - t0) / 1000;
  const tsv = join(
    outDir,
    vcf
      .split('/')
      .pop()!
      .replace(/\.vcf$/, '.annot.tsv'),
  );
  if (!existsSync(tsv)) throw new Error(`our CLI wrote no ${tsv}`);
  const calls = new Map<string, VariantCall>();
  const lines = (await readFile(tsv, 'utf8')).split('\n').filter(Boolean);
  const head = lines[0]!.split('\t');
  const col = (name: string) => {
    const i = head.indexOf(name);
    if (i < 0) throw new Error(`${tsv}: no ${name} column (columns: ${head.join(' ')})`);
    return i;
  };
  const [cId, cRegion, cFunction, cAa, cSkip] = ['ID', 'REGION', 'FUNCTION', 'AA_CHANGE', 'SKIP_REASON'].map(col) as [
    number,
    number,
    number,
    number,
    number,
  ];
  // VEP's terms per transcript, from the CSQ field of our VCF (one ALT per record here).
  const csqById = await infoById(tsv.replace(/\.annot\.tsv$/, '.annot.vcf'), 'CSQ');
  for (const line of lines.slice(1)) {
    const f = line.split('\t');
    const id = f[cId]!;
    const unmapped: string[] = [];
    const regions: RegionClass[] = [];
    for (const r of (f[cRegion] ?? '').split(/[;&]/).filter((x) => x && x !== '.')) {
      if (r in RANK) regions.push(r as RegionClass);
      else unmapped.push(r);
    }
    const transcripts = new Map<string, TranscriptCall>();
    for (const entry of (f[cAa] ?? '').split('&').filter((x) => x && x !== '.')) {
      // GENE:TRANSCRIPT:c.…:p.… — read from the right, a gene symbol could hold a colon.
      const parts = entry.split(':');
      const p = parts.pop()!;
      const c = parts.pop()!;
      const tx = parts.pop()!;
      transcripts.set(tx, { coding: codingFromOurP(p), hgvsC: c, hgvsP: normaliseHgvsP(p), protein: proteinFromHgvsP(p) });
    }
    const fn = f[cFunction] ?? '';
    const terms = new Map<string, string[]>();
    for (const entry of (csqById.get(id) ?? '').split(',').filter(Boolean)) {
      const e = entry.split('|');
      terms.set(e[6] || OUTSIDE, harmoniseTerms(e[1]!.split('&'), unmapped));
    }
    calls.set(id, {
      terms,
      severeTerm: mostSevereTerm([...terms.values()].flat()),
      regions: topRegions(regions),
      transcripts,
      severe: mostSevere([...transcripts.values()].map((t) => t.coding)),
      raw: `${f[cRegion]} ${fn || '.'} ${f[cAa] || '.'}${f[cSkip] && f[cSkip] !== '.' ? ` skip:${f[cSkip]}` : ''}`,
      reported: fn && fn !== '.' ? (OUR_FUNCTION[fn] ?? fn) : undefined,
      unmapped,
    });
  }
  return {
    calls,
    command: `node --import tsx packages/anntools/src/cli.ts annotate ${vcf} --reference ${ref} --out-dir ${outDir} --threads ${threads}`,
    seconds,
    notes: [],
  };
}

/** Every data line's ID and INFO value of `tag`. */
async function infoById(vcf: string, tag: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const line of (await readFile(vcf, 'utf8')).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.split('\t');
    const info = f[7] ?? '';
    const at = info.split(';').find((kv) => kv.startsWith(`${tag}=`));
    out.set(f[2]!, at ? at.slice(tag.length + 1) : '');
  }
  return out;
}

function modelIndex(ds: Dataset): Map<string, ModelTranscript> {
  return new Map(ds.transcripts.map((t) => [t.id, t]));
}

export async function runSnpEff(
  ds: Dataset,
  vcf: string,
  outDir: string,
  byId: Map<string, { pos: number; alt: string }>,
): Promise<ToolRun> {
  const out = join(outDir, 'snpeff.vcf');
  const args = ['-Xmx2g', '-jar', SNPEFF_JAR, 'ann', '-c', ds.snpeff.config, '-noStats', '-noLog', ds.snpeff.genome, vcf];
  const { seconds } = await must('java', args, { stdoutFile: out, stderrFile: join(outDir, 'snpeff.stderr') });
  const models = modelIndex(ds);
  const calls = new Map<string, VariantCall>();
  for (const [id, ann] of await infoById(out, 'ANN')) {
    const v = byId.get(id)!;
    const classes: RegionClass[] = [];
    const transcripts = new Map<string, TranscriptCall>();
    const unmapped: string[] = [];
    const termsByTx = new Map<string, string[]>();
    for (const entry of ann.split(',').filter(Boolean)) {
      const f = entry.split('|');
      if (f[0] !== v.alt) continue;
      const terms = f[1]!.split('&');
      const tx = f[6] ?? '';
      const h = harmoniseTerms(terms, unmapped);
      const key = f[5] === 'transcript' && tx ? tx : OUTSIDE;
      termsByTx.set(key, [...(termsByTx.get(key) ?? []), ...h]);
      const model = models.get(tx);
      const isCoding = model ? isCodingModel(model) : false;
      classes.push(...entryRegions(terms, SNPEFF_CODING, isCoding, positionClass(model, v.pos), unmapped));
      const coding = mostSevere(terms.map((t) => SNPEFF_CODING[t]));
      if (coding && f[5] === 'transcript') {
        const p = f[10] ?? '';
        transcripts.set(tx, {
          coding,
          hgvsC: f[9] || undefined,
          hgvsP: p ? normaliseHgvsP(p) : undefined,
          protein: p ? proteinFromHgvsP(p) : undefined,
        });
      }
    }
    calls.set(id, {
      regions: topRegions(classes),
      transcripts,
      severe: mostSevere([...transcripts.values()].map((t) => t.coding)),
      raw: ann,
      unmapped,
      terms: termsByTx,
      severeTerm: mostSevereTerm([...termsByTx.values()].flat()),
    });
  }
  return {
    calls,
    command: `java -Xmx2g -jar ${SNPEFF_JAR} ann -c ${ds.snpeff.config} -noStats -noLog ${ds.snpeff.genome} ${vcf} > ${out}`,
    seconds,
    notes: [],
  };
}

/** "12K>12N" / "12K" / "156*>156YLRS…" → "12K>N" (first residue of each side). */
function proteinFromCsq(aa: string): string | undefined {
  const m = /^(\d+)([A-Z*]+)(?:>(\d+)([A-Z*]+))?/.exec(aa);
  if (!m) return undefined;
  return `${m[1]}${m[2]![0]}>${(m[4] ?? m[2]!)[0]}`;
}

export async function runCsq(ds: Dataset, vcf: string, outDir: string, byId: Map<string, { pos: number; alt: string }>): Promise<ToolRun> {
  const out = join(outDir, 'csq.vcf');
  const stderr = join(outDir, 'csq.stderr');
  const args = ['csq', '--local-csq', '-f', ds.peerFasta, '-g', ds.gff3, '-Ov', '-o', out, vcf];
  const { seconds } = await must('bcftools', args, { stderrFile: stderr });
  const models = modelIndex(ds);
  // csq merges the intron (and other non-coding) entries of one gene's transcripts and leaves out
  // the transcript ID; the biotype then says whether those transcripts are coding.
  const codingBiotypes = new Set(ds.transcripts.filter(isCodingModel).map((t) => t.biotype));
  if (codingBiotypes.has('nonsense_mediated_decay')) codingBiotypes.add('NMD');
  const calls = new Map<string, VariantCall>();
  for (const [id, bcsq] of await infoById(out, 'BCSQ')) {
    const v = byId.get(id)!;
    const classes: RegionClass[] = [];
    const transcripts = new Map<string, TranscriptCall>();
    const unmapped: string[] = [];
    const termsByTx = new Map<string, string[]>();
    for (const entry of bcsq.split(',').filter(Boolean)) {
      const f = entry.split('|');
      const terms = f[0]!.replace(/^\*/, '').split('&');
      const tx = f[2] ?? '';
      const model = models.get(tx);
      const isCoding = model ? isCodingModel(model) : codingBiotypes.has(f[3] ?? '');
      // Without a transcript ID the base's place is read from any model of that gene.
      const where = model ?? ds.transcripts.find((t) => t.gene === f[1] && v.pos >= t.start && v.pos <= t.end);
      classes.push(...entryRegions(terms, CSQ_CODING, isCoding, positionClass(where, v.pos), unmapped));
      // csq's non_coding covers a non-coding transcript's exons, splice sites and introns alike:
      // compared at that resolution (agreement-compare.ts), it stands as the exon term.
      const vep = terms.map((t) => (t === 'non_coding' ? 'non_coding_transcript_exon_variant' : t));
      const key = tx || `${f[1]}:${f[3]}`;
      termsByTx.set(key, [...(termsByTx.get(key) ?? []), ...harmoniseTerms(vep, unmapped)]);
      const coding = mostSevere(terms.map((t) => CSQ_CODING[t]));
      if (coding && tx) transcripts.set(tx, { coding, protein: f[5] ? proteinFromCsq(f[5]) : undefined });
    }
    calls.set(id, {
      regions: topRegions(classes),
      transcripts,
      severe: mostSevere([...transcripts.values()].map((t) => t.coding)),
      raw: bcsq || '(no BCSQ)',
      unmapped,
      terms: termsByTx,
      severeTerm: mostSevereTerm([...termsByTx.values()].flat()),
    });
  }
  const notes = (await readFile(stderr, 'utf8')).split('\n').filter((l) => l.trim() && !/^(Parsing|Calling)/.test(l));
  return { calls, command: `bcftools ${args.join(' ')}`, seconds, notes };
}
