// Real VCFs from ../shared/data for the benchmark, beside the generated input:
// - Platinum Genomes NA12878 GRCh38 chr21 for all three tools, with `chr21` renamed to `21` so it
//   matches the FASTA and gene models the peers are given (our engine takes either spelling);
// - the NIST v2.19 and GIAB HG001 chr20 GRCh37 VCFs for our engine with the whole-genome hg19
//   reference (refFlat, every shared dbSNP file, the chr20 FASTA window): the memory figure the
//   issue asks for. The peers are not run on them: the shared hg19 FASTA holds 1.1 Mb of chr20,
//   and csq and SnpEff need the sequence of every transcript they touch.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ensureReferenceFiles, loadReferenceFile } from '@gas/anntools';
import { BENCH_DIR, DATA_DIR, bgzip, paths } from './inputs.ts';
import { run } from './measure.ts';

type Say = (msg: string) => void;

export interface RealInput {
  name: string;
  description: string;
  path: string;
  records: number;
}

function countRecords(vcfGz: string): number {
  const text = gunzipSync(readFileSync(vcfGz)).toString('latin1');
  let n = 0;
  for (let at = 0; at < text.length;) {
    const nl = text.indexOf('\n', at);
    const end = nl < 0 ? text.length : nl;
    if (end > at && text.charCodeAt(at) !== 35) n++;
    at = end + 1;
  }
  return n;
}

function shared(relative: string): string {
  const path = join(DATA_DIR, relative);
  if (!existsSync(path))
    throw new Error(`${path} is missing (the benchmark's real inputs come from ../shared/data; set GAS_SHARED_DATA to use another copy)`);
  return path;
}

/** Platinum Genomes NA12878 chr21 (GRCh38), chromosome renamed to the peers' `21`. */
export async function realGrch38Input(say: Say): Promise<RealInput> {
  const source = shared('vcf/grch38/PlatinumGenomes_NA12878_hg38_chr21.vcf.gz');
  const out = join(paths.inputs, 'real-platinum-NA12878-GRCh38-21.vcf.gz');
  if (!existsSync(out)) {
    say(`renaming chr21 to 21 in ${source}`);
    await mkdir(paths.inputs, { recursive: true });
    const map = join(paths.inputs, 'chr21-to-21.txt');
    await writeFile(map, 'chr21 21\n');
    const plain = out.replace(/\.gz$/, '');
    const r = await run('bcftools', ['annotate', '--rename-chrs', map, '-Ov', '-o', plain, source]);
    if (r.code !== 0) throw new Error(`bcftools annotate --rename-chrs failed: ${r.stderrTail}`);
    await bgzip(plain, out);
  }
  return {
    name: 'platinum-grch38-chr21',
    description: 'Platinum Genomes NA12878 GRCh38 chr21 (real calls)',
    path: out,
    records: countRecords(out),
  };
}

export function realGrch37Inputs(): RealInput[] {
  return [
    {
      name: 'nist-v2.19',
      description: 'NIST NA12878 v2.19 complex/indel calls, whole genome GRCh37',
      rel: 'vcf/grch37/NIST_NA12878_v2.19_complex_1ormoreindels.vcf.gz',
    },
    {
      name: 'giab-hg001-chr20',
      description: 'GIAB HG001 v3.3.2 high-confidence calls, chr20 GRCh37',
      rel: 'vcf/grch37/GIAB_HG001_GRCh37_v3.3.2_highconf_chr20.vcf.gz',
    },
  ].map(({ rel, ...r }) => {
    const path = shared(rel);
    return { ...r, path, records: countRecords(path) };
  });
}

/** The whole-genome GRCh37 reference the local stack uses, built once into .gas-bench/ref/presets. */
export async function wholeGenomeGrch37Reference(say: Say): Promise<{ path: string; transcripts: number; rsids: number }> {
  const [result] = await ensureReferenceFiles({
    dataDir: DATA_DIR,
    outDir: join(BENCH_DIR, 'ref', 'presets'),
    builds: ['GRCh37'],
    onProgress: say,
  });
  if (!result?.file) throw new Error(`no GRCh37 reference could be built from ${DATA_DIR}: missing ${result?.missing.join(', ')}`);
  const { manifest } = await loadReferenceFile(result.file);
  return { path: result.file, transcripts: manifest.counts.transcripts, rsids: manifest.counts.rsids };
}
