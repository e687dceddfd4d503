export { annotateVcf, formatCountLog } from './count-engine.ts';
export type { AnnotateOptions, VariantCounts } from './count-engine.ts';
export { VcfFormatError } from './vcf-error.ts';
export { readLines, defaultLimits } from './line-reader.ts';
export type { LineReaderLimits } from './line-reader.ts';
export { whyNotVcf } from './sniff.ts';
