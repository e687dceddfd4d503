// One run's input handle: an input the engine stops reading early (here, a bad line near the top
// of a large file) is closed by the run, not left for the garbage collector (Node's DEP0137 warning).
import { readdir, readlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import t from 'tap';
import { create, GenomeBuild, JobSchema, JobStatus } from '@gas/proto';
import { VcfFormatError } from '@gas/anntools';
import { blobKey, FileBlobStore } from '@gas/storage';
import { runAnnotation } from '../src/annotation-run.ts';

/** The paths this process holds open, from /proc (Linux). */
async function openPaths(): Promise<string[]> {
  const fds = await readdir('/proc/self/fd');
  const paths = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return paths.filter(Boolean);
}

t.test(
  'an input the engine stops reading early is closed by the run',
  { skip: process.platform !== 'linux' && 'needs /proc' },
  async (t) => {
    const root = t.testdir();
    const store = new FileBlobStore({ root });
    const inputKey = blobKey('u', 'J1', 'big-bad.vcf');
    // Bad on line 3, then megabytes the engine never needs to read.
    const filler = 'chr21\t5097843\t.\tA\tG\t0\tPASS\t.\n'.repeat(200_000);
    const text = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr21\tnot-a-number\t.\tA\tG\t.\t.\t.\n' + filler;
    await store.put('inputs', inputKey, Readable.from([text]));
    const job = create(JobSchema, {
      jobId: 'J1',
      userId: 'u',
      status: JobStatus.RUNNING,
      genomeBuild: GenomeBuild.GRCH38,
      inputName: 'big-bad.vcf',
      inputKey,
      inputSize: BigInt(text.length),
    });
    const err = await runAnnotation({ job, store, signal: new AbortController().signal, onProgress: () => undefined }).catch(
      (e: unknown) => e,
    );
    t.type(err, VcfFormatError);
    t.match((err as Error).message, /line 3/);
    // Closing a destroyed stream's handle finishes on a later turn of the event loop.
    let held: string[] = [];
    for (let i = 0; i < 50; i++) {
      held = (await openPaths()).filter((p) => p.includes('big-bad.vcf'));
      if (held.length === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    t.strictSame(held, [], 'no handle on the input is left open');
  },
);
