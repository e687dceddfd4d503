// The reference sources GAS uses for each genome build, as files under a data folder laid out like
// ../shared/data (see its PROVENANCE.md). ensureReferenceFiles() builds `<build>.gasref` from them
// once and reuses it while the sources are unchanged.
import { existsSync } from 'node:fs';
import { sha256File } from './file-digest.ts';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildReferenceFile, REFERENCE_FORMAT_VERSION } from './reference-file.ts';
import type { ReferenceManifest } from './reference-file.ts';
import { ENGINE_NAME } from './engine.ts';

export type BuildName = 'GRCh37' | 'GRCh38';

export const referencePresets: Record<BuildName, { genes: string[]; dbsnp: string[]; fasta: string; mane?: string }> = {
  GRCh37: {
    genes: ['gene_models/grch37/refFlat_hg19.txt.gz'],
    // Real sequence only in chr20:9.995-11.095 Mb; consequences elsewhere come out "unknown".
    fasta: 'reference/grch37/ucsc.hg19.chr20.unittest.fasta.gz',
    dbsnp: ['dbsnp/grch37/ucsc_snp_hg19_chr1_chr21.bed.gz', 'dbsnp/grch37/dbSNP147.GRCh37.head.vcf.gz'],
  },
  GRCh38: {
    genes: ['gene_models/grch38/Homo_sapiens.GRCh38.chr21.ensembl.gff3.gz'],
    fasta: 'reference/grch38/grch38.chr20_and_21_10M.fa.gz',
    // MANE is defined on GRCh38: the CSQ field's MANE_SELECT, CANONICAL, Gene and HGNC_ID.
    mane: 'gene_models/grch38/MANE.GRCh38.v1.0.summary.txt.gz',
    dbsnp: ['dbsnp/grch38/ensembl_vep84_variation_chr21.tsv.gz', 'dbsnp/grch38/clinvar_GRCh38_hereditary_cancer_genes.vcf.gz'],
  },
};

export function referenceFileName(build: string): string {
  return `${build}.gasref`;
}

async function upToDate(out: string, sources: string[]): Promise<boolean> {
  try {
    const m = JSON.parse(await readFile(`${out}.manifest.json`, 'utf8')) as ReferenceManifest;
    // A file from another engine version may hold models read by older loader rules: rebuild it.
    if (m.format !== REFERENCE_FORMAT_VERSION || m.engine !== ENGINE_NAME || !existsSync(out) || m.sources.length !== sources.length)
      return false;
    for (const [i, s] of sources.entries()) if (m.sources[i]?.sha256 !== (await sha256File(s))) return false;
    return true;
  } catch {
    return false;
  }
}

export interface EnsureResult {
  build: BuildName;
  file?: string;
  action: 'built' | 'reused' | 'missing';
  /** Source files that were not found (for "missing"). */
  missing: string[];
}

/**
 * Makes sure `<outDir>/<build>.gasref` exists for each build whose sources are present under
 * dataDir; says which source files are missing for the others instead of failing.
 */
export async function ensureReferenceFiles(opts: {
  dataDir: string;
  outDir: string;
  builds?: BuildName[];
  onProgress?: (message: string) => void;
}): Promise<EnsureResult[]> {
  await mkdir(opts.outDir, { recursive: true });
  const results: EnsureResult[] = [];
  for (const build of opts.builds ?? (Object.keys(referencePresets) as BuildName[])) {
    const preset = referencePresets[build];
    const genes = preset.genes.map((p) => join(opts.dataDir, p));
    const dbsnp = preset.dbsnp.map((p) => join(opts.dataDir, p));
    const fasta = join(opts.dataDir, preset.fasta);
    const missing = [...genes, ...dbsnp].filter((p) => !existsSync(p));
    if (missing.length > 0) {
      results.push({ build, action: 'missing', missing });
      continue;
    }
    const out = join(opts.outDir, referenceFileName(build));
    // The FASTA is optional: without it the reference has no consequences, and says so. So is MANE.
    const withFasta = existsSync(fasta) ? [fasta] : [];
    const mane = preset.mane && existsSync(join(opts.dataDir, preset.mane)) ? join(opts.dataDir, preset.mane) : undefined;
    // In the manifest's order of sources: genes, MANE, dbSNP, FASTA.
    if (await upToDate(out, [...genes, ...(mane ? [mane] : []), ...dbsnp, ...withFasta])) {
      results.push({ build, file: out, action: 'reused', missing: [] });
      continue;
    }
    await buildReferenceFile({ build, genes, dbsnp, fasta: withFasta[0], mane, out, engine: ENGINE_NAME, onProgress: opts.onProgress });
    results.push({ build, file: out, action: 'built', missing: [] });
  }
  return results;
}
