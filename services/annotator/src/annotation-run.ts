// One job's annotation: input from the blob store through the engine into the results area.
import { PassThrough, Readable, Transform } from 'node:stream';
import { annotateVcf, formatCountLog } from '@gas/anntools';
import type { AnnotationPool, AnnotationSummary, Reference } from '@gas/anntools';
import { blobKey } from '@gas/storage';
import type { BlobStore } from '@gas/storage';
import type { Job } from '@gas/proto';
import { resultNames } from './result-names.ts';

export interface RunResult {
  resultKeys: Record<string, string>;
  resultSize: bigint;
  summary: AnnotationSummary;
}

export async function runAnnotation(opts: {
  job: Job;
  store: BlobStore;
  signal: AbortSignal;
  reference?: Reference;
  /** Worker threads holding the same reference, when the annotator has them. */
  pool?: AnnotationPool;
  onProgress: (done: number, estimatedTotal: number) => void;
}): Promise<RunResult> {
  const { job, store } = opts;
  const names = resultNames(job.inputName);
  const vcfKey = blobKey(job.userId, job.jobId, names.vcf);
  const logKey = blobKey(job.userId, job.jobId, names.log);
  const tsvKey = blobKey(job.userId, job.jobId, names.tsv);
  const summaryKey = blobKey(job.userId, job.jobId, names.summary);

  // Bytes read so far give an estimate of the total number of records while the run goes on.
  let bytesRead = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytesRead += chunk.length;
      cb(null, chunk);
    },
  });
  const input = (await store.get('inputs', job.inputKey)).pipe(meter);
  const out = new PassThrough();
  // The store reports a failed write through `stored`; this listener keeps our own destroy(err)
  // from becoming an uncaught 'error' event once the store has stopped listening.
  out.on('error', () => undefined);
  const stored = store.put('results', vcfKey, out, { contentType: 'text/x-vcf' });
  const tsvOut = opts.reference ? new PassThrough() : undefined;
  tsvOut?.on('error', () => undefined);
  const tsvStored = tsvOut ? store.put('results', tsvKey, tsvOut, { contentType: 'text/tab-separated-values' }) : undefined;
  let summary: AnnotationSummary;
  try {
    summary = await annotateVcf({
      input,
      vcfOut: out,
      tsvOut,
      reference: opts.reference,
      pool: opts.pool,
      signal: opts.signal,
      onProgress: (done) => {
        const size = Number(job.inputSize);
        opts.onProgress(done, bytesRead > 0 && size > 0 ? Math.max(done, Math.round((done * size) / bytesRead)) : done);
      },
    });
  } catch (err) {
    out.destroy(err as Error);
    tsvOut?.destroy(err as Error);
    await Promise.all([stored.catch(() => undefined), tsvStored?.catch(() => undefined)]);
    await Promise.all([store.delete('results', vcfKey).catch(() => undefined), store.delete('results', tsvKey).catch(() => undefined)]);
    throw err;
  }
  out.end();
  tsvOut?.end();
  const vcf = await stored;
  const tsv = await tsvStored;
  const putText = (key: string, text: string, contentType: string) =>
    store.put('results', key, Readable.from([text]), { contentType });
  const log = await putText(logKey, formatCountLog(job.inputName, summary), 'text/plain');
  const json = await putText(summaryKey, JSON.stringify(summary, null, 2) + '\n', 'application/json');
  const resultKeys: Record<string, string> = { vcf: vcfKey, log: logKey, summary: summaryKey };
  if (tsv) resultKeys['tsv'] = tsvKey;
  return { resultKeys, resultSize: BigInt(vcf.size + log.size + json.size + (tsv?.size ?? 0)), summary };
}
