// The MANE summary: its rows matched to gene models by accession, kept through a .gasref, and a
// summary that matches nothing failing build-db by name.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDataPath } from '@gas/testing';
import type { Transcript } from '../src/transcript.ts';
import { applyMane, loadManeSummary, unversioned } from '../src/gene-models/mane.ts';
import { buildReferenceFile, EmptySourceError, loadReferenceFile } from '../src/reference-file.ts';

const MANE = sharedDataPath('gene_models/grch38/MANE.GRCh38.v1.0.summary.txt.gz');
const GFF3 = sharedDataPath('gene_models/grch38/Homo_sapiens.GRCh38.chr21.ensembl.gff3.gz');

const tx = (id: string): Transcript => ({
  id,
  gene: 'G',
  chrom: '21',
  strand: '+',
  start: 0,
  end: 10,
  cdsStart: 0,
  cdsEnd: 0,
  exonStarts: [0],
  exonEnds: [10],
  biotype: 'protein_coding',
});

t.test('rows match Ensembl and RefSeq transcripts without their versions; Plus Clinical kept apart', async (t) => {
  t.equal(unversioned('NM_000014.6'), 'NM_000014');
  t.equal(unversioned('ENST00000618007'), 'ENST00000618007');
  const rows = await loadManeSummary(MANE);
  // PROVENANCE: 19,062 MANE Select and 58 Plus Clinical rows, each naming a RefSeq and an Ensembl transcript.
  t.equal(rows.size, 2 * 19_120);
  // GeneID:7179  ENSG00000274391.5  HGNC:12023  TPTE  …  NM_199261.4  NP_954870.3  ENST00000618007.5  ENSP00000484403.1  MANE Select
  const [ensembl, refseq, braf, other] = [tx('ENST00000618007'), tx('NM_199261.3'), tx('NM_001374258.1'), tx('NM_999999')];
  t.equal(applyMane([ensembl, refseq, braf, other], rows), 3);
  t.strictSame(ensembl.mane, { select: 'NM_199261.4', hgnc: 'HGNC:12023', gene: 'ENSG00000274391', protein: 'ENSP00000484403.1' });
  t.strictSame(refseq.mane, { select: 'ENST00000618007.5', hgnc: 'HGNC:12023', gene: '7179', protein: 'NP_954870.3' });
  t.strictSame(braf.mane, { plusClinical: 'ENST00000644969.2', hgnc: 'HGNC:1097', gene: '673', protein: 'NP_001361187.1' });
  t.equal(other.mane, undefined);
});

t.test('build-db keeps the MANE facts in the reference; a summary matching no model fails, named', async (t) => {
  const dir = t.testdir();
  const out = join(dir, 'g.gasref');
  const m = await buildReferenceFile({ build: 'GRCh38', genes: [GFF3], dbsnp: [], mane: MANE, out, engine: 'test' });
  t.strictSame(
    m.sources.filter((s) => s.kind === 'mane').map((s) => s.records),
    [200],
    '200 of the chr21 GFF3 transcripts are MANE transcripts (by accession)',
  );
  const ref = await loadReferenceFile(out);
  const near: Transcript[] = [];
  const n = ref.transcripts.near('21', 10_521_711, 10_521_712, near);
  const tpte = near.slice(0, n).find((x) => x.id === 'ENST00000618007');
  t.strictSame(tpte?.mane, { select: 'NM_199261.4', hgnc: 'HGNC:12023', gene: 'ENSG00000274391', protein: 'ENSP00000484403.1' });
  const refflat = join(dir, 'one.refFlat.txt');
  writeFileSync(refflat, 'G\tNM_999999\tchr21\t+\t100\t200\t100\t100\t1\t100,\t200,\n');
  await t.rejects(
    buildReferenceFile({ build: 'GRCh38', genes: [refflat], dbsnp: [], mane: MANE, out: join(dir, 'x.gasref'), engine: 'test' }),
    new EmptySourceError(MANE, 'mane', 'none of its transcripts is among the 1 gene models'),
  );
});
