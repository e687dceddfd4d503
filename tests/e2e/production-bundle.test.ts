// The production build, as a container image runs it: `scripts/build.mjs` (what `pnpm build` and the
// Dockerfile run) writes the bundle to a folder outside the repository, where nothing can fall back on
// the repository's node_modules or on tsx; all five services start from it against real NATS and the
// S3 server and report ready, one job goes through them, and the built gas-annotate annotates a VCF.
// A service that ran through tsx, or a bundle that missed a file it reads, fails here.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { PassThrough } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { makeTempDir, repoRoot, sharedDataPath, startGasStack, testReferenceDir } from '@gas/testing';
import type { GasStack, ServiceName } from '@gas/testing';
import { annotateVcf, loadReferenceFile } from '@gas/anntools';

const SERVICES: ServiceName[] = ['gateway', 'job', 'annotator', 'notification', 'archive'];
const FREE_1 = sharedDataPath('vcf/gas_anntools/free_1.vcf');
// GIAB NA12878, hg19 chr20 10.0-10.1 Mb: BGZF, 221 records.
const TINY_GZ = sharedDataPath('vcf/grch37/GIAB_NA12878_hg19_chr20_10.0-10.1Mb.vcf.gz');

const bundleDir = await makeTempDir('gas-bundle-');
t.teardown(() => bundleDir.cleanup());
const bundle = bundleDir.path;

/** The annotated VCF the engine makes in this process (from the sources), to compare with the bundle's. */
async function expectedVcf(input: string): Promise<string> {
  const reference = await loadReferenceFile(join(await testReferenceDir(), 'GRCh37.gasref'));
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await annotateVcf({ input: createReadStream(input), vcfOut: out, reference });
  return Buffer.concat(chunks).toString();
}

/** Every file of the bundle with its size and time: a service that writes into its own folder changes it. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const path = join(e.parentPath, e.name);
      const s = statSync(path);
      return `${relative(dir, path)} ${s.size} ${s.mtimeMs}`;
    })
    .sort();
}

/** A process's arguments and NODE_OPTIONS, as Linux shows them. */
async function launch(pid: number): Promise<{ argv: string[]; nodeOptions: string }> {
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  const env = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
  return { argv, nodeOptions: env.find((v) => v.startsWith('NODE_OPTIONS='))?.slice('NODE_OPTIONS='.length) ?? '' };
}

t.test('scripts/build.mjs writes one self-contained folder per service and one for the CLI', async (t) => {
  const built = spawnSync(process.execPath, ['scripts/build.mjs', '--out', bundle], { cwd: repoRoot(), encoding: 'utf8' });
  t.equal(built.status, 0, built.stderr);
  for (const name of [...SERVICES, 'gas-annotate']) {
    const manifest = JSON.parse(await readFile(join(bundle, name, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    t.notOk('tsx' in manifest.dependencies, `${name} ships no tsx`);
  }
  t.ok(statSync(join(bundle, 'annotator', 'lib', 'annotation-worker.mjs')).isFile(), "the annotator's worker entry");
  t.ok(statSync(join(bundle, 'annotator', 'bin', 'gas-annotate')).mode & 0o111, 'the CLI in the annotator folder, executable');
  t.ok(statSync(join(bundle, 'gateway', 'static', 'app.css')).isFile(), "the gateway's static files");
});

t.test('the built gas-annotate annotates a tiny VCF (one worker thread) like the engine from the sources', async (t) => {
  const out = join(bundle, 'cli-out');
  const reference = join(await testReferenceDir(), 'GRCh37.gasref');
  const run = spawnSync(
    join(bundle, 'gas-annotate', 'bin', 'gas-annotate'),
    ['annotate', TINY_GZ, '--reference', reference, '--out-dir', out, '--threads', '2'],
    {
      encoding: 'utf8',
    },
  );
  t.equal(run.status, 0, run.stderr);
  t.match(run.stdout, /^221 records, 222 alleles, /);
  const name = 'GIAB_NA12878_hg19_chr20_10.0-10.1Mb';
  t.equal(await readFile(join(out, `${name}.annot.vcf`), 'utf8'), await expectedVcf(TINY_GZ), 'the same annotated VCF');
  t.match(JSON.parse(await readFile(join(out, `${name}.summary.json`), 'utf8')), { records: 221, alleles: 222 });
  t.match(await readFile(join(out, `${name}.annot.tsv`), 'utf8'), /^#?\S+\t/);
});

t.test('all five services from the bundle, with the S3 store', async (t) => {
  const before = snapshot(bundle);
  const stack: GasStack = await startGasStack({
    store: 's3',
    fromBundle: bundle,
    // The worker thread's entry is a file of its own in the bundle: run one.
    env: { annotator: { ANNOTATOR_WORKER_THREADS: '1' } },
  });
  t.teardown(() => stack.stop());

  t.test('each runs lib/main.mjs with plain node (no tsx in its arguments or NODE_OPTIONS) and is ready', async (t) => {
    for (const name of SERVICES) {
      const handle = stack.services[name]!;
      const { argv, nodeOptions } = await launch(handle.pid);
      t.strictSame(argv, [process.execPath, join(bundle, name, 'lib', 'main.mjs')], `${name}: arguments`);
      t.notMatch(nodeOptions, /tsx/, `${name}: NODE_OPTIONS`);
      const ready = await fetch(`http://127.0.0.1:${handle.opsPort}/readyz`);
      t.equal(ready.status, 200, `${name}: /readyz`);
      await ready.body?.cancel();
    }
  });

  t.test('the gateway serves its static files and the API docs (files the bundle reads at run time)', async (t) => {
    const css = await fetch(`${stack.url}/static/app.css`);
    t.equal(css.status, 200);
    t.match(css.headers.get('content-type') ?? '', /^text\/css/);
    await css.body?.cancel();
    const docs = await fetch(`${stack.url}/api/docs`);
    t.equal(docs.status, 200);
    const scripts = [...(await docs.text()).matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]!);
    t.ok(scripts.length > 0, 'Swagger UI lists its scripts');
    for (const src of scripts) {
      const file = await fetch(new URL(src, `${stack.url}/api/docs`));
      t.equal(file.status, 200, src);
      await file.body?.cancel();
    }
  });

  t.test('free_1.vcf completes and its result is the VCF the engine makes from the sources', async (t) => {
    const user = stack.users[0]!;
    const res = await stack.submit(user, FREE_1, { genomeBuild: 'GRCh37' });
    t.equal(res.status, 201, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    const job = await stack.waitForJob(user, id, (j) => j.status === 'COMPLETED' || j.status === 'FAILED');
    t.equal(job.status, 'COMPLETED', JSON.stringify(job));
    const result = await stack.api(user, `/api/v1/jobs/${id}/result`);
    t.equal(result.status, 200);
    const text = gunzipSync(Buffer.from(await result.arrayBuffer())).toString('utf8');
    t.equal(text, await expectedVcf(FREE_1));
  });

  t.test('the services wrote nothing into their own folders (a read-only root filesystem holds)', async (t) => {
    t.strictSame(
      snapshot(bundle).filter((f) => !f.startsWith('cli-out/')),
      before.filter((f) => !f.startsWith('cli-out/')),
    );
  });
});
