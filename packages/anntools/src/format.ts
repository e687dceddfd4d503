// `@gas/anntools/format`: what a service needs to know about the engine's input and results without
// loading the engine itself (annotation index, reference files, worker threads): the VCF sniff, the
// result kinds, the TSV columns and the summary's shape. The gateway imports this, not the barrel.
// Only modules that import nothing of the engine belong here; test/format-entry.test.ts walks the
// imports to keep it so.
export { whyNotVcf } from './sniff.ts';
export { formatLimitBytes, formatLimitCount } from './limit-text.ts';
export { RESULT_KINDS, resultKinds, storedResult, TSV_COLUMNS } from './result-kinds.ts';
export type { ResultKind, ResultKindInfo } from './result-kinds.ts';
export type { AnnotationSummary, ChromosomeCoverage } from './annotation/summary.ts';
export { PRIMARY_LENGTHS, detectBuild, contigLines, headerLines, buildMismatchWarning } from './genome-build.ts';
export type { BuildEvidence, ContigLine, DetectedBuild, JobWarningText } from './genome-build.ts';
