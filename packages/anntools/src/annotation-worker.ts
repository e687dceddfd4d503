// A worker thread of an AnnotationPool: loads its own copy of the reference, then annotates the
// chunks it is sent and transfers the output bytes back.
import { parentPort, workerData } from 'node:worker_threads';
import { loadReferenceFile } from './reference-file.ts';
import { AnnotatorCache } from './chunk-runner.ts';
import type { ChunkOptions } from './chunk-runner.ts';

export interface WorkerData {
  referenceFile: string | null;
}

export type WorkerRequest = { id: number; chunk: Uint8Array; options: ChunkOptions };

const { referenceFile } = workerData as WorkerData;
const reference = referenceFile ? await loadReferenceFile(referenceFile) : undefined;
const annotators = new AnnotatorCache(reference);
const port = parentPort!;

port.on('message', ({ id, chunk, options }: WorkerRequest) => {
  const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
  const result = annotators.get(options).annotate(text);
  const transfer: ArrayBuffer[] = [result.vcf.buffer as ArrayBuffer];
  if (result.tsv) transfer.push(result.tsv.buffer as ArrayBuffer);
  port.postMessage({ type: 'result', id, result }, transfer);
});
port.postMessage({ type: 'ready', build: reference?.build ?? null, missingFasta: reference?.missingFasta ?? null });
