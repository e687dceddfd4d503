// The plan's caps on an input through the running stack: a gzip bomb (a small upload that inflates
// far past the free plan's decompressed-size cap) and a file with too many records fail with the
// reason, and the results area stays bounded while the job runs and empty after; a truncated gzip
// is refused at upload with its byte offset; a VCF with a byte-order mark is annotated.
import t from 'tap';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startGasStack } from '@gas/testing';
import type { GasStack } from '@gas/testing';

/** Low for the test, so the bomb passes it within a second of annotation. */
const CAP_BYTES = 8 * 1024 * 1024;
const HEADER = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n';

const stack: GasStack = await startGasStack({
  store: 'filesystem',
  userPlan: 'free',
  env: {
    gateway: {
      GATEWAY_FREE_MAX_DECOMPRESSED_BYTES: String(CAP_BYTES),
      GATEWAY_FREE_MAX_RECORDS: '100000',
      // Room for the file with too many records (the bomb fits the default 150 KB too).
      GATEWAY_FREE_MAX_UPLOAD_BYTES: String(1024 * 1024),
    },
  },
});
t.teardown(() => stack.stop());
const user = stack.users[0]!;
const resultsDir = join(stack.stateDir, 'blobs', 'results');

/** Bytes under a folder (the filesystem store's results area), 0 when it does not exist yet. */
async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return 0;
  }
  for (const e of entries) if (e.isFile()) total += (await stat(join(e.parentPath, e.name)).catch(() => ({ size: 0 }))).size;
  return total;
}

async function upload(name: string, bytes: Buffer): Promise<Response> {
  const file = join(stack.stateDir, name);
  await writeFile(file, bytes);
  return stack.submit(user, file, { genomeBuild: 'GRCh37' });
}

t.test('a gzip bomb fails at the free plan decompressed cap, naming the line; the results area stays bounded', async (t) => {
  // 48 MiB of one record repeated, gzipped: about 200 KB, under the upload limit.
  // Long lines, so the decompressed cap comes before the records cap (100,000).
  const line = `1\t1000000\t.\tA\tG\t.\tPASS\tNOTE=${'x'.repeat(200)}\n`;
  const text = Buffer.concat([Buffer.from(HEADER), Buffer.alloc(48 * 1024 * 1024 - HEADER.length, line)]);
  const bomb = gzipSync(text, { level: 9 });
  t.ok(bomb.length * 200 < text.length, `a bomb: ${bomb.length} bytes that inflate to ${text.length}`);
  const res = await upload('bomb.vcf.gz', bomb);
  t.equal(res.status, 201, await res.clone().text());
  const { id } = (await res.json()) as { id: string };
  // Watch the results area while the job runs.
  let most = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      most = Math.max(most, await bytesUnder(resultsDir));
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  const job = await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED', 60_000);
  watching = false;
  await watcher;
  t.equal(job.status, 'FAILED');
  // The line holding byte CAP_BYTES + 1.
  const lineNo = text.subarray(0, CAP_BYTES).toString('latin1').split('\n').length;
  t.equal(
    job.failure_reason,
    `the decompressed input passes the free plan's limit of 8 MiB at line ${lineNo}; premium allows 64 GiB and 500 M records`,
  );
  t.ok(most < CAP_BYTES / 2, `the results area held at most ${most} bytes while the job ran (the cap: ${CAP_BYTES} bytes of input)`);
  t.equal(await bytesUnder(resultsDir), 0, 'and nothing once it failed');
  const download = await stack.api(user, `/api/v1/jobs/${id}/result`);
  t.equal(download.status, 409);
});

t.test('more records than the free plan allows: FAILED at the first record past the cap', async (t) => {
  const records = Array.from({ length: 100_001 }, (_, i) => `1\t${1000 + i}\t.\tA\tG\t.\tPASS\t.\n`).join('');
  const res = await upload('many.vcf.gz', gzipSync(HEADER + records));
  t.equal(res.status, 201);
  const { id } = (await res.json()) as { id: string };
  const job = await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED', 60_000);
  t.equal(job.status, 'FAILED');
  t.equal(
    job.failure_reason,
    `the input has more records than the free plan's limit of 100,000 at line ${2 + 100_001}; premium allows 64 GiB and 500 M records`,
  );
  t.equal(await bytesUnder(resultsDir), 0);
});

t.test('a truncated gzip upload is refused with the byte offset; a VCF with a byte-order mark is annotated', async (t) => {
  const gz = gzipSync(HEADER + '1\t100\t.\tA\tG\t.\tPASS\t.\n'.repeat(50));
  const truncated = await upload('cut.vcf.gz', gz.subarray(0, gz.length - 5));
  t.equal(truncated.status, 400);
  t.match(
    ((await truncated.json()) as { detail: string }).detail,
    `the file cut.vcf.gz is not a VCF file: the gzip file ends early, at byte offset ${gz.length - 5} (truncated file?)`,
  );
  const bom = await upload(
    'bom.vcf',
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(HEADER + '1\t100\t.\tA\tG\t.\tPASS\t.\n')]),
  );
  t.equal(bom.status, 201, await bom.clone().text());
  const { id } = (await bom.json()) as { id: string };
  const job = await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED', 60_000);
  t.equal(job.status, 'COMPLETED', job.failure_reason ?? '');
  t.equal(job.counts.records, 1);
});
