// The whole engine. Services that only need the sniff, the result kinds or the TSV columns import
// the light entry, `@gas/anntools/format`, which this re-exports.
export { whyNotVcf, RESULT_KINDS, resultKinds, storedResult, TSV_COLUMNS, formatLimitBytes, formatLimitCount } from './format.ts';
export type { AnnotationSummary, ChromosomeCoverage, ResultKind, ResultKindInfo } from './format.ts';
export { PRIMARY_LENGTHS, detectBuild, contigLines, headerLines, buildMismatchWarning } from './format.ts';
export type { BuildEvidence, ContigLine, DetectedBuild, JobWarningText } from './format.ts';
export { checkCoverage, chromosomeCoverage, UNCOVERED_WARNING_SHARE } from './annotation/coverage.ts';
export { annotateVcf, ENGINE_NAME } from './engine.ts';
export type { AnnotateOptions } from './engine.ts';
export { formatCountLog } from './annotation/summary.ts';
export { VcfFormatError, InputCapError } from './vcf-error.ts';
export type { InputCap } from './vcf-error.ts';
export { readLines, defaultLimits } from './line-reader.ts';
export { BgzfWriter, bgzfBlock, bgzfSync, BGZF_BLOCK_DATA, BGZF_EOF } from './bgzf-writer.ts';
export type { BgzfWriterOptions } from './bgzf-writer.ts';
export { TabixIndexBuilder, indexedBgzfWriter } from './tabix-index.ts';
export type { LineReaderLimits } from './line-reader.ts';
export { canonicalChrom } from './chrom-alias.ts';
export type { Transcript, Strand } from './transcript.ts';
export { TranscriptIndex } from './annotation/transcript-index.ts';
export { classifyRegion, REGION_RANK } from './annotation/region.ts';
export type { RegionClass } from './annotation/region.ts';
export { reduceAllele } from './annotation/allele.ts';
export type { Reference, ReferenceCoverage, RsIdLookup } from './reference.ts';
export {
  buildReferenceFile,
  EmptySourceError,
  loadReferenceFile,
  parseReferenceFile,
  readReferenceBytes,
  REFERENCE_FORMAT_VERSION,
  sequencedSpans,
} from './reference-file.ts';
export type { LoadedReference, ReferenceManifest, SourceFile } from './reference-file.ts';
export { ensureReferenceFiles, referencePresets, referenceFileName } from './reference-presets.ts';
export type { BuildName, EnsureResult } from './reference-presets.ts';
export { loadGeneModels } from './gene-models/index.ts';
export { SnpTable, SnpTableBuilder, loadDbSnp } from './dbsnp/index.ts';
export { FastaReader } from './fasta/index.ts';
export { AnnotationPool } from './annotation-pool.ts';
export type { AnnotationPoolOptions } from './annotation-pool.ts';
