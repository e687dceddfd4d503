// One job's annotation: input from the blob store through the engine into the results area.
import { PassThrough, Transform } from 'node:stream';
import { annotateVcf, formatCountLog } from '@gas/anntools';
import type { VariantCounts } from '@gas/anntools';
import { blobKey } from '@gas/storage';
import type { BlobStore } from '@gas/storage';
import type { Job } from '@gas/proto';
import { resultNames } from './result-names.ts';

export interface RunResult {
  resultKeys: Record<string, string>;
  resultSize: bigint;
  counts: VariantCounts;
}

export async function runAnnotation(opts: {
  job: Job;
  store: BlobStore;
  signal: AbortSignal;
  onProgress: (done: number, estimatedTotal: number) => void;
}): Promise<RunResult> {
  const { job, store } = opts;
  const names = resultNames(job.inputName);
  const vcfKey = blobKey(job.userId, job.jobId, names.vcf);
  const logKey = blobKey(job.userId, job.jobId, names.log);
  const started = performance.now();

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
  let counts: VariantCounts;
  try {
    counts = await annotateVcf({
      input,
      vcfOut: out,
      signal: opts.signal,
      engineName: 'gas-count-0.1',
      onProgress: (done) => {
        const size = Number(job.inputSize);
        opts.onProgress(done, bytesRead > 0 && size > 0 ? Math.max(done, Math.round((done * size) / bytesRead)) : done);
      },
    });
  } catch (err) {
    out.destroy(err as Error);
    await stored.catch(() => undefined);
    await store.delete('results', vcfKey).catch(() => undefined);
    throw err;
  }
  out.end();
  const vcf = await stored;
  const logText = formatCountLog(job.inputName, counts, (performance.now() - started) / 1000);
  const log = await store.put('results', logKey, PassThrough.from([logText]) as unknown as PassThrough, { contentType: 'text/plain' });
  return { resultKeys: { vcf: vcfKey, log: logKey }, resultSize: BigInt(vcf.size + log.size), counts };
}
