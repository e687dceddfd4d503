export { FastaReader } from './fasta-reader.ts';
export type { FastaOpenOptions } from './fasta-reader.ts';
export { parseFai, FaiBuilder } from './fai.ts';
export type { FaiEntry } from './fai.ts';
