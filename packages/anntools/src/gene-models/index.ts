import { basename } from 'node:path';
import type { Transcript } from '../transcript.ts';
import { loadGff3 } from './gff3.ts';
import { loadGtf } from './gtf.ts';
import { loadRefFlat } from './refflat.ts';

export { GeneModelError } from './errors.ts';
export { parseRefFlatLine, readRefFlat, loadRefFlat } from './refflat.ts';
export { readGtf, loadGtf } from './gtf.ts';
export { readGff3, loadGff3 } from './gff3.ts';

export type GeneModelFormat = 'refflat' | 'genepred' | 'gtf' | 'gff3';

/** From the file name, ignoring a .gz/.bgz suffix; null when the name does not say. */
export function geneModelFormatOf(path: string): GeneModelFormat | null {
  let name = basename(path).toLowerCase();
  if (name.endsWith('.gz')) name = name.slice(0, -3);
  else if (name.endsWith('.bgz')) name = name.slice(0, -4);
  if (name.endsWith('.gtf')) return 'gtf';
  if (name.endsWith('.gff3') || name.endsWith('.gff')) return 'gff3';
  if (name.includes('refflat')) return 'refflat';
  if (name.includes('genepred') || name.endsWith('.genepred') || name.endsWith('.gp')) return 'genepred';
  // UCSC table dumps (refGene.txt, knownGene.txt, ncbiRefSeq.txt) are genePred with or without a bin.
  if (name.endsWith('.txt') || name.endsWith('.tsv')) return 'genepred';
  return null;
}

/** Chromosome, then start, end and id, compared as code units so the order never depends on a locale. */
export function compareTranscripts(a: Transcript, b: Transcript): number {
  if (a.chrom !== b.chrom) return a.chrom < b.chrom ? -1 : 1;
  if (a.start !== b.start) return a.start - b.start;
  if (a.end !== b.end) return a.end - b.end;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Loads any supported gene model file, sorted by (chrom, start, end, id). */
export async function loadGeneModels(path: string, format?: GeneModelFormat): Promise<Transcript[]> {
  const f = format ?? geneModelFormatOf(path);
  let out: Transcript[];
  switch (f) {
    case 'refflat':
    case 'genepred':
      // One parser: the genePred variants are told apart by their columns, not by the name.
      out = await loadRefFlat(path);
      break;
    case 'gtf':
      out = await loadGtf(path);
      break;
    case 'gff3':
      out = await loadGff3(path);
      break;
    default:
      throw new Error(
        `${path}: cannot tell the gene model format from the name; expected .gtf, .gff3/.gff, or a refFlat/genePred .txt (optionally .gz), or pass the format`,
      );
  }
  return out.sort(compareTranscripts);
}
