// A worker thread of an AnnotationPool: parses its references from the shared bytes it is given,
// then annotates the chunks it is sent and transfers the output bytes back.
import { parentPort, workerData } from 'node:worker_threads';
import { parseReferenceFile } from './reference-file.ts';
import { AnnotatorCache } from './chunk-runner.ts';
import type { ChunkOptions } from './chunk-runner.ts';

export interface WorkerData {
  references: Array<{ path: string; bytes: Buffer }>;
}

export type WorkerRequest = {
  id: number;
  build: string | null;
  chunk: Uint8Array;
  options: ChunkOptions;
  vcf: ArrayBuffer[];
  tsv: ArrayBuffer[];
};

const { references } = workerData as WorkerData;
const byBuild = new Map<string | null, AnnotatorCache>([[null, new AnnotatorCache(undefined)]]);
for (const { path, bytes } of references) {
  const ref = parseReferenceFile(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
  byBuild.set(ref.build, new AnnotatorCache(ref));
}
const port = parentPort!;

port.on('message', ({ id, build, chunk, options, vcf, tsv }: WorkerRequest) => {
  // A failure fails this chunk only; the worker stays up for the next one.
  try {
    const annotators = byBuild.get(build);
    if (!annotators) throw new Error(`no reference for ${build} in this worker`);
    const annotator = annotators.get(options);
    annotator.recycle(vcf, tsv);
    const result = annotator.annotate(chunk, options.contigLengths);
    const transfer = result.vcf.map((p) => p.buffer as ArrayBuffer);
    if (result.tsv) for (const p of result.tsv) transfer.push(p.buffer as ArrayBuffer);
    port.postMessage({ type: 'result', id, result }, transfer);
  } catch (err) {
    port.postMessage({ type: 'failure', id, message: err instanceof Error ? err.message : String(err) });
  }
});
port.postMessage({ type: 'ready' });
