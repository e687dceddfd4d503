// The MANE summary (NCBI / EMBL-EBI, GRCh38): one row per gene naming its MANE Select (and Plus
// Clinical) transcript in both RefSeq and Ensembl, with the gene's ids and HGNC id. build-db reads it
// so the CSQ field can say what VEP says of those transcripts: MANE_SELECT (the other source's
// accession), CANONICAL, Gene, HGNC_ID, and the protein accession of HGVSp.
import { createReadStream } from 'node:fs';
import { readLines } from '../line-reader.ts';
import type { Transcript, TranscriptMane } from '../transcript.ts';
import { failAt } from './errors.ts';

interface ManeRow {
  ncbiGene: string;
  ensemblGene: string;
  hgnc: string;
  refseqNuc: string;
  refseqProt: string;
  ensemblNuc: string;
  ensemblProt: string;
  plusClinical: boolean;
}

const COLUMNS = [
  '#NCBI_GeneID',
  'Ensembl_Gene',
  'HGNC_ID',
  'symbol',
  'name',
  'RefSeq_nuc',
  'RefSeq_prot',
  'Ensembl_nuc',
  'Ensembl_prot',
  'MANE_status',
];

/** An accession without its version: NM_000014.6 → NM_000014. */
export function unversioned(id: string): string {
  const dot = id.lastIndexOf('.');
  return dot > 0 && /^\d+$/.test(id.slice(dot + 1)) ? id.slice(0, dot) : id;
}

/** MANE rows by unversioned transcript accession, RefSeq and Ensembl alike. */
export async function loadManeSummary(path: string): Promise<Map<string, ManeRow>> {
  const rows = new Map<string, ManeRow>();
  let cols: number[] | undefined;
  for await (const [line, lineNo] of readLines(createReadStream(path))) {
    if (line.length === 0) continue;
    const f = line.split('\t');
    if (cols === undefined) {
      cols = COLUMNS.map((c) => f.indexOf(c));
      const missing = COLUMNS.filter((_, i) => cols![i]! < 0);
      if (missing.length > 0) failAt(path, lineNo, 'header', `not a MANE summary: no ${missing.join(', ')} column`);
      continue;
    }
    const at = (i: number): string => f[cols![i]!] ?? '';
    const status = at(9);
    if (status !== 'MANE Select' && status !== 'MANE Plus Clinical') failAt(path, lineNo, 'MANE_status', JSON.stringify(status));
    const row: ManeRow = {
      ncbiGene: at(0).replace(/^GeneID:/, ''),
      ensemblGene: unversioned(at(1)),
      hgnc: at(2),
      refseqNuc: at(5),
      refseqProt: at(6),
      ensemblNuc: at(7),
      ensemblProt: at(8),
      plusClinical: status === 'MANE Plus Clinical',
    };
    if (row.refseqNuc) rows.set(unversioned(row.refseqNuc), row);
    if (row.ensemblNuc) rows.set(unversioned(row.ensemblNuc), row);
  }
  return rows;
}

/**
 * Gives each transcript that MANE names its facts, matched by accession without the version (a
 * gene model release older or newer than MANE v1.0 carries other versions; VEP matches whole
 * versioned ids, so it may flag fewer). Returns how many transcripts matched.
 */
export function applyMane(transcripts: Transcript[], rows: Map<string, ManeRow>): number {
  let matched = 0;
  for (const t of transcripts) {
    const row = rows.get(unversioned(t.id));
    if (!row) continue;
    const ensembl = unversioned(t.id) === unversioned(row.ensemblNuc);
    // VEP's MANE columns give the matching transcript of the other source.
    const other = ensembl ? row.refseqNuc : row.ensemblNuc;
    const mane: TranscriptMane = {
      ...(row.plusClinical ? { plusClinical: other } : { select: other }),
      ...(row.hgnc ? { hgnc: row.hgnc } : {}),
      gene: ensembl ? row.ensemblGene : row.ncbiGene,
      protein: ensembl ? row.ensemblProt : row.refseqProt,
    };
    t.mane = mane;
    matched++;
  }
  return matched;
}
