// One job's annotation: input from the blob store through the engine into the results area.
import { Readable, Transform } from 'node:stream';
import { annotateVcf, BgzfWriter, formatCountLog, indexedBgzfWriter, RESULT_KINDS, resultKinds } from '@gas/anntools';
import type { AnnotationPool, AnnotationSummary, Reference, ResultKind } from '@gas/anntools';
import { blobKey } from '@gas/storage';
import type { BlobStore } from '@gas/storage';
import type { Job } from '@gas/proto';
import { resultNames } from './result-names.ts';

export interface RunResult {
  /** Blob keys in the results area by kind; tsv only when the run had a reference, tbi only when the records are sorted. */
  resultKeys: Partial<Record<ResultKind, string>>;
  resultSize: bigint;
  summary: AnnotationSummary;
  /** Why the VCF has no tabix index (its records are not sorted), or null. */
  notIndexed: string | null;
}

/** The job's caps as the engine takes them; a cap of 0 (or none, for jobs from before caps) is no cap. */
function engineLimits(job: Job): { maxDecompressedBytes?: number; maxRecords?: number } {
  const l = job.inputLimits;
  return {
    ...(l?.maxDecompressedBytes ? { maxDecompressedBytes: Number(l.maxDecompressedBytes) } : {}),
    ...(l?.maxRecords ? { maxRecords: Number(l.maxRecords) } : {}),
  };
}

export async function runAnnotation(opts: {
  job: Job;
  store: BlobStore;
  signal: AbortSignal;
  reference?: Reference;
  /** Worker threads holding the same reference, when the annotator has them. */
  pool?: AnnotationPool;
  onProgress: (done: number, estimatedTotal: number) => void;
  /** The longest input line accepted (the engine's default when not given). */
  maxLineBytes?: number;
}): Promise<RunResult> {
  const { job, store } = opts;
  const names = resultNames(job.inputName);
  const keys = {} as Record<ResultKind, string>;
  for (const kind of resultKinds) keys[kind] = blobKey(job.userId, job.jobId, names[kind]);
  const put = (kind: ResultKind, body: Readable) => store.put('results', keys[kind], body, { contentType: RESULT_KINDS[kind].mediaType });

  // Bytes read so far give an estimate of the total number of records while the run goes on.
  let bytesRead = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytesRead += chunk.length;
      cb(null, chunk);
    },
  });
  const source = await store.get('inputs', job.inputKey);
  const input = source.pipe(meter);
  // Results are stored compressed: the VCF as BGZF with its tabix index built on the way, the TSV
  // as BGZF too (a gzip file whose blocks compress in parallel). The engine's output buffers are
  // copied into blocks as they are written, so it may reuse them.
  const { writer: out, indexer } = indexedBgzfWriter();
  // The store reports a failed write through `stored`; this listener keeps our own destroy(err)
  // from becoming an uncaught 'error' event once the store has stopped listening.
  out.on('error', () => undefined);
  const stored = put('vcf', out);
  const tsvOut = opts.reference ? new BgzfWriter() : undefined;
  tsvOut?.on('error', () => undefined);
  const tsvStored = tsvOut ? put('tsv', tsvOut) : undefined;
  let summary: AnnotationSummary;
  try {
    summary = await annotateVcf({
      input,
      vcfOut: out,
      tsvOut,
      reference: opts.reference,
      pool: opts.pool,
      signal: opts.signal,
      reuseOutputBuffers: true,
      limits: { ...engineLimits(job), ...(opts.maxLineBytes ? { maxLineBytes: opts.maxLineBytes } : {}) },
      onProgress: (done) => {
        const size = Number(job.inputSize);
        opts.onProgress(done, bytesRead > 0 && size > 0 ? Math.max(done, Math.round((done * size) / bytesRead)) : done);
      },
    });
  } catch (err) {
    // pipe() leaves the source open when the engine stops early (a bad line, a cap, shutdown); its
    // file handle would otherwise be closed only by the garbage collector (Node's DEP0137).
    source.destroy();
    out.destroy(err as Error);
    tsvOut?.destroy(err as Error);
    await Promise.all([stored.catch(() => undefined), tsvStored?.catch(() => undefined)]);
    // Nothing partial stays behind (a cap passed, a bad line): the results area holds only finished runs.
    await Promise.all([keys.vcf, keys.tsv].map((key) => store.delete('results', key).catch(() => undefined)));
    throw err;
  }
  out.end();
  tsvOut?.end();
  const vcf = await stored;
  const tsv = await tsvStored;
  const tbiBytes = indexer.finish();
  const tbi = tbiBytes ? await put('tbi', Readable.from([tbiBytes])) : undefined;
  const log = await put('log', Readable.from([formatCountLog(job.inputName, summary)]));
  const json = await put('summary', Readable.from([JSON.stringify(summary, null, 2) + '\n']));
  // The job keeps each result's key under its kind, the name the gateway serves it by.
  const resultKeys: Partial<Record<ResultKind, string>> = { vcf: keys.vcf, log: keys.log, summary: keys.summary };
  if (tsv) resultKeys.tsv = keys.tsv;
  if (tbi) resultKeys.tbi = keys.tbi;
  const size = vcf.size + log.size + json.size + (tsv?.size ?? 0) + (tbi?.size ?? 0);
  return { resultKeys, resultSize: BigInt(size), summary, notIndexed: indexer.unindexable };
}
