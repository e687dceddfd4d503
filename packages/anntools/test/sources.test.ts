// fetch-sources against a real HTTP server on 127.0.0.1 that mirrors the public layout
// (<host>/<path>, see mirror.ts) with small files cut from ../shared/data: the real catalogue URLs,
// checksum lists, downloads, retries, resumption, preparation and the .gasref build all run as they
// would against UCSC, NCBI and Ensembl.
import t from 'tap';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { repoRoot, sharedDataPath } from '@gas/testing';
import { FastaReader } from '../src/fasta/index.ts';
import { loadReferenceFile } from '../src/reference-file.ts';
import { BsdSum, bsdSumFile, formatBsdSum } from '../src/sources/bsd-sum.ts';
import { selectSources, sourceCatalogue } from '../src/sources/catalogue.ts';
import { parseBsdSumList, parseMd5List } from '../src/sources/checksum-lists.ts';
import { downloadVerified } from '../src/sources/download.ts';
import { fetchSources } from '../src/sources/fetch-sources.ts';
import { mirrorUrl } from '../src/sources/mirror.ts';
import { isCommon, prepareDbSnp } from '../src/sources/prepare-dbsnp.ts';
import type { SourcesManifest } from '../src/sources/sources-manifest.ts';
import { sameBytes } from './mismatches.ts';

const run = promisify(execFile);
/** Retries without the real back-off, so a test of them takes milliseconds. */
const fastRetry = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 };

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

/** Serves a folder with Range/If-Range support, logs every request and injects failures per path. */
class MirrorServer {
  readonly requests: { path: string; range?: string }[] = [];
  /** Per path, what the next requests get instead of the file: a status, or the file cut off halfway. */
  readonly faults = new Map<string, ('truncate' | number)[]>();
  private server: Server | undefined;
  url = '';

  constructor(private readonly root: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://mirror').pathname);
      this.requests.push({ path, range: req.headers.range });
      const fault = this.faults.get(path)?.shift();
      if (typeof fault === 'number') {
        res.writeHead(fault, { 'retry-after': '0' }).end();
        return;
      }
      const file = join(this.root, path);
      if (!file.startsWith(this.root + '/') || !existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404).end();
        return;
      }
      const data = readFileSync(file);
      const etag = `"${md5(data)}"`;
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const ifRange = req.headers['if-range'];
      let start = 0;
      if (range && (ifRange === undefined || ifRange === etag)) {
        start = Number(range[1]);
        if (start >= data.length) {
          res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
          return;
        }
        res.writeHead(206, {
          'content-length': data.length - start,
          'content-range': `bytes ${start}-${data.length - 1}/${data.length}`,
          etag,
        });
      } else {
        res.writeHead(200, { 'content-length': data.length, etag, 'accept-ranges': 'bytes' });
      }
      const body = data.subarray(start);
      // The connection drops a moment after half the body: long enough for the client to have read it
      // (bytes a client has not read when its stream errors are lost, as over a real network).
      if (fault === 'truncate') res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.destroy(), 100));
      else res.end(body);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    this.url = `http://127.0.0.1:${addr.port}`;
  }

  count(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

// The folder for the mirror and every test's downloads; tap removes it when the file ends.
const tmp = t.testdir();
const mirror = join(tmp, 'mirror');
/** The mirror path of a catalogue URL, e.g. /hgdownload.soe.ucsc.edu/goldenPath/hg19/bigZips/hg19.fa.gz */
const pathOf = (url: string): string => new URL(mirrorUrl(url, 'http://m')).pathname;
const put = (url: string, data: Buffer | string): void => {
  const file = join(mirror, pathOf(url));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, data);
};
const entry = (build: 'GRCh37' | 'GRCh38', id: string) => sourceCatalogue[build].find((e) => e.id === id)!;

// Fixtures, all cut from ../shared/data (see PROVENANCE.md there).
const REFFLAT_LINES = 300;
let fastaRecords: { name: string; seq: string }[];
let dbsnpFixture: Buffer;
let dbsnpCommonRecords: number;

function fastaText(records: { name: string; seq: string }[], width: number): string {
  return records.map((r) => `>${r.name} cut from hg19 chr20\n${r.seq.match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n')}\n`).join('');
}

/** Writes the mirror's files and sets the fixtures above. */
function fillMirror(): void {
  // Gene models: the first 300 transcripts of the hg19 refFlat, plain gzip as UCSC publishes it.
  const refFlat = gunzipSync(readFileSync(sharedDataPath('gene_models/grch37/refFlat_hg19.txt.gz')))
    .toString('latin1')
    .split('\n');
  put(entry('GRCh37', 'refflat').url, gzipSync(refFlat.slice(0, REFFLAT_LINES).join('\n') + '\n'));
  put(entry('GRCh38', 'refflat').url, gzipSync(refFlat.slice(REFFLAT_LINES, 2 * REFFLAT_LINES).join('\n') + '\n'));

  // Sequence: two windows of real hg19 chr20 bases, as a plain-gzip FASTA with UCSC's md5sum.txt.
  const hg19 = FastaReader.open(sharedDataPath('reference/grch37/ucsc.hg19.chr20.unittest.fasta.gz'));
  fastaRecords = [
    { name: 'chr20_10000001', seq: hg19.fetch('chr20', 10_000_000, 10_060_000) },
    { name: 'chr20_10100001', seq: hg19.fetch('chr20', 10_100_000, 10_112_345) },
  ];
  hg19.close();
  const fa = gzipSync(fastaText(fastaRecords, 60));
  put(entry('GRCh37', 'fasta-ucsc').url, fa);
  put(
    new URL('md5sum.txt', entry('GRCh37', 'fasta-ucsc').url).href,
    `0123456789abcdef0123456789abcdef  hg19.2bit\n${md5(fa)}  hg19.fa.gz\n`,
  );
  // hg38's list names a different md5 than the file served: the corrupted download.
  put(entry('GRCh38', 'fasta-ucsc').url, fa);
  put(new URL('md5sum.txt', entry('GRCh38', 'fasta-ucsc').url).href, `${md5(Buffer.from('not the file'))}  hg38.fa.gz\n`);

  // dbSNP: the dbSNP 147 head with chromosome 1 spelled as NCBI's GRCh37 VCFs spell it, three of its
  // records moved to an unplaced contig, in two gzip members (NCBI's file is BGZF, many members).
  const vcf = gunzipSync(readFileSync(sharedDataPath('dbsnp/grch37/dbSNP147.GRCh37.head.vcf.gz')))
    .toString('latin1')
    .trimEnd()
    .split('\n');
  const header = vcf.filter((l) => l.startsWith('#'));
  const records = vcf.filter((l) => !l.startsWith('#'));
  dbsnpCommonRecords = records.filter((l) => /;COMMON=1(;|$)/.test(l)).length;
  const lines = [
    ...header,
    ...records.map((l) => l.replace(/^1\t/, 'NC_000001.10\t')),
    ...records.slice(0, 3).map((l) => l.replace(/^1\t/, 'NT_113878.1\t')),
  ];
  const half = Math.floor(lines.length / 2);
  dbsnpFixture = Buffer.concat([gzipSync(lines.slice(0, half).join('\n') + '\n'), gzipSync(lines.slice(half).join('\n') + '\n')]);
  put(entry('GRCh37', 'dbsnp').url, dbsnpFixture);
  put(entry('GRCh37', 'dbsnp').url + '.md5', `${md5(dbsnpFixture)}  GCF_000001405.25.gz\n`);

  // Ensembl: the chr21 GTF subset (BGZF), with a CHECKSUMS in `sum` format.
  const gtf = readFileSync(sharedDataPath('gene_models/grch38/Homo_sapiens.GRCh38.chr21_subset.ensembl.gtf.gz'));
  const s = new BsdSum();
  s.update(gtf);
  put(entry('GRCh38', 'ensembl-gtf').url, gtf);
  put(
    new URL('CHECKSUMS', entry('GRCh38', 'ensembl-gtf').url).href,
    `12345 1 Homo_sapiens.GRCh38.113.abinitio.gtf.gz\n${formatBsdSum(s.value())} Homo_sapiens.GRCh38.113.gtf.gz\n`,
  );
}

fillMirror();
const server = new MirrorServer(mirror);
await server.start();
t.teardown(() => server.stop());

t.test('BSD sum matches coreutils `sum -r`', async (t) => {
  // Expected values from GNU coreutils 9.1, `sum -r FILE` (and `printf … | sum -r`), on this
  // machine: the checksum, then the size in 1 KiB blocks rounded up.
  const of = (b: Buffer) => {
    const s = new BsdSum();
    s.update(b);
    return s.value();
  };
  t.strictSame(of(Buffer.alloc(0)), { checksum: 0, blocks: 0 }); // printf '' | sum -r → 00000 0
  t.strictSame(of(Buffer.from('hello\n')), { checksum: 36979, blocks: 1 }); // printf 'hello\n' | sum -r
  const refFlat = readFileSync(sharedDataPath('gene_models/grch37/refFlat_hg19.txt.gz'));
  t.strictSame(of(refFlat.subarray(0, 1024)), { checksum: 33078, blocks: 1 }); // head -c 1024 … | sum -r
  t.strictSame(of(refFlat.subarray(0, 1025)), { checksum: 16716, blocks: 2 }); // head -c 1025 … | sum -r
  // sum -r gene_models/grch37/refFlat_hg19.txt.gz → 61522  3647
  t.strictSame(await bsdSumFile(sharedDataPath('gene_models/grch37/refFlat_hg19.txt.gz')), { checksum: 61522, blocks: 3647 });
  // sum -r dbsnp/grch37/dbSNP147.GRCh37.head.vcf.gz → 27043     6
  t.strictSame(await bsdSumFile(sharedDataPath('dbsnp/grch37/dbSNP147.GRCh37.head.vcf.gz')), { checksum: 27043, blocks: 6 });
  // Fed in odd pieces, the rotation carries across chunk boundaries.
  const pieces = new BsdSum();
  for (let i = 0; i < refFlat.length; i += 4093) pieces.update(refFlat.subarray(i, i + 4093));
  t.strictSame(pieces.value(), { checksum: 61522, blocks: 3647 });
  t.equal(formatBsdSum({ checksum: 181, blocks: 1 }), '00181 1');
});

t.test('checksum lists: md5sum, BSD md5 and Ensembl CHECKSUMS lines', async (t) => {
  const md5s = parseMd5List(
    'd41d8cd98f00b204e9800998ecf8427e  hg38.fa.gz\nD41D8CD98F00B204E9800998ECF8427F *sub/x.gz\nMD5 (y.gz) = 0123456789abcdef0123456789abcdef\njunk\n',
  );
  t.equal(md5s.get('hg38.fa.gz'), 'd41d8cd98f00b204e9800998ecf8427e');
  t.equal(md5s.get('x.gz'), 'd41d8cd98f00b204e9800998ecf8427f');
  t.equal(md5s.get('y.gz'), '0123456789abcdef0123456789abcdef');
  t.equal(md5s.size, 3);
  const sums = parseBsdSumList('61522  3647 refFlat_hg19.txt.gz\n00181     1 /nfs/release/x.fai\nREADME\n');
  t.strictSame(sums.get('refFlat_hg19.txt.gz'), { checksum: 61522, blocks: 3647 });
  t.strictSame(sums.get('x.fai'), { checksum: 181, blocks: 1 });
});

t.test('catalogue: selection by kind or id, mirror URLs keep the host', async (t) => {
  t.strictSame(
    selectSources('GRCh38').map((e) => e.id),
    ['refflat', 'fasta-ucsc', 'dbsnp'],
  );
  t.strictSame(
    selectSources('GRCh37', ['dbsnp', 'genes']).map((e) => e.id),
    ['refflat', 'dbsnp'],
  );
  t.strictSame(
    selectSources('GRCh38', ['ensembl-gtf', 'fasta-ensembl']).map((e) => e.id),
    ['ensembl-gtf', 'fasta-ensembl'],
  );
  t.throws(() => selectSources('GRCh37', ['clinvar']), /no source "clinvar" for GRCh37.*refflat, ensembl-gtf/);
  t.equal(
    mirrorUrl('https://ftp.ncbi.nih.gov/snp/latest_release/VCF/GCF_000001405.40.gz', 'http://mirror.example/ref/'),
    'http://mirror.example/ref/ftp.ncbi.nih.gov/snp/latest_release/VCF/GCF_000001405.40.gz',
  );
  t.equal(mirrorUrl('https://a.example/x', undefined), 'https://a.example/x');
  for (const build of ['GRCh37', 'GRCh38'] as const) {
    const files = sourceCatalogue[build].map((e) => e.file);
    t.equal(new Set(files).size, files.length, `${build}: local file names are unique`);
  }
});

t.test('GRCh37 genes + FASTA + dbSNP: verified, prepared, recorded, and built into a .gasref that loads', async (t) => {
  const dir = join(tmp, 'grch37');
  const out = join(tmp, 'out', 'GRCh37.gasref');
  const said: string[] = [];
  const r = await fetchSources({ build: 'GRCh37', dir, baseUrl: server.url, buildDb: out, retry: fastRetry, say: (m) => said.push(m) });
  t.strictSame(
    r.sources.map((s) => s.id),
    ['refflat', 'fasta-ucsc', 'dbsnp'],
  );

  const manifest = JSON.parse(await readFile(join(dir, 'SOURCES.json'), 'utf8')) as SourcesManifest;
  const byId = new Map(manifest.sources.map((s) => [s.id, s]));
  const dbsnp = byId.get('dbsnp')!;
  t.equal(dbsnp.url, 'https://ftp.ncbi.nih.gov/snp/latest_release/VCF/GCF_000001405.25.gz');
  t.equal(dbsnp.fetchedFrom, `${server.url}/ftp.ncbi.nih.gov/snp/latest_release/VCF/GCF_000001405.25.gz`);
  t.equal(dbsnp.bytes, dbsnpFixture.length);
  t.equal(dbsnp.sha256, createHash('sha256').update(dbsnpFixture).digest('hex'));
  t.strictSame(dbsnp.checksum, {
    algorithm: 'md5',
    expected: md5(dbsnpFixture),
    listedIn: `${server.url}${pathOf(entry('GRCh37', 'dbsnp').url)}.md5`,
    verified: true,
  });
  t.ok(Date.now() - Date.parse(dbsnp.retrievedAt) < 60_000);
  t.equal(dbsnp.prepared?.file, 'dbsnp.GRCh37.common.vcf.gz');
  t.equal(dbsnp.prepared?.details['records'], dbsnpCommonRecords);
  t.equal(dbsnp.prepared?.details['droppedContigs'], 1);
  const refflat = byId.get('refflat')!;
  t.equal(refflat.checksum.algorithm, 'none');
  t.ok(refflat.checksum.algorithm === 'none' && refflat.checksum.gzipChecked && /no checksums/.test(refflat.checksum.why));
  t.equal(byId.get('fasta-ucsc')!.prepared?.file, 'hg19.fa');
  // Nothing half-done is left behind.
  t.strictSame(
    readdirSync(dir).filter((f) => f.includes('.partial')),
    [],
  );

  const ref = await loadReferenceFile(out);
  t.equal(ref.build, 'GRCh37');
  t.equal(ref.manifest.counts.transcripts, REFFLAT_LINES);
  t.ok(ref.manifest.counts.rsids >= dbsnpCommonRecords);
  // rs367896724 is COMMON=1 in dbSNP 147 and is found under the VCF's own spelling of chromosome 1;
  // rs775809821 (no COMMON) was left out by the default subset.
  t.strictSame(ref.snps!.find('chr1', 10177, 'A', 'AC'), [367896724]);
  t.strictSame(ref.snps!.find('1', 10019, 'TA', 'T'), []);
  // The FASTA was decompressed and indexed here; its bases are the hg19 ones.
  t.equal(ref.sequence!.fetch('chr20_10000001', 1000, 1060), fastaRecords[0]!.seq.slice(1000, 1060).toUpperCase());
  t.equal(ref.sequence!.fetch('chr20_10100001', 12_300, 12_345), fastaRecords[1]!.seq.slice(12_300).toUpperCase());
  t.match(readFileSync(join(dir, 'hg19.fa.fai'), 'utf8'), /^chr20_10000001\t60000\t\d+\t60\t61\nchr20_10100001\t12345\t\d+\t60\t61\n$/);
  t.ok(said.some((m) => /refFlat.txt.gz/.test(m) && /downloading/.test(m)));

  // A second run fetches the checksum lists again but none of the files, and reuses the preparations.
  const before = server.requests.length;
  const again = await fetchSources({ build: 'GRCh37', dir, baseUrl: server.url, retry: fastRetry });
  const fetched = server.requests.slice(before).map((q) => q.path);
  t.strictSame(
    fetched.sort(),
    [`${pathOf(entry('GRCh37', 'dbsnp').url)}.md5`, pathOf(new URL('md5sum.txt', entry('GRCh37', 'fasta-ucsc').url).href)].sort(),
  );
  t.strictSame(
    again.sources.map((s) => s.retrievedAt),
    r.sources.map((s) => s.retrievedAt),
  );
  t.strictSame(
    again.sources.map((s) => s.prepared?.preparedAt),
    r.sources.map((s) => s.prepared?.preparedAt),
  );
});

t.test('a corrupted download fails naming the URL and both checksums, and leaves no file', async (t) => {
  const dir = join(tmp, 'corrupt');
  const url = `${server.url}${pathOf(entry('GRCh38', 'fasta-ucsc').url)}`;
  const served = readFileSync(join(mirror, pathOf(entry('GRCh38', 'fasta-ucsc').url)));
  const err = await t.rejects(fetchSources({ build: 'GRCh38', dir, only: ['fasta'], baseUrl: server.url, retry: fastRetry }), Error);
  if (err instanceof Error) {
    t.equal(err.name, 'ChecksumMismatchError');
    t.ok(err.message.includes(url), err.message);
    t.ok(err.message.includes(`expected md5 ${md5(Buffer.from('not the file'))}`), err.message);
    t.ok(err.message.includes(`got md5 ${md5(served)}`), err.message);
  }
  t.strictSame(
    readdirSync(dir).filter((f) => f.startsWith('hg38')),
    [],
  );
  t.equal(existsSync(join(dir, 'SOURCES.json')), false);
});

t.test('503s are retried until the file comes', async (t) => {
  const path = pathOf(entry('GRCh38', 'refflat').url);
  server.faults.set(path, [503, 503]);
  const said: string[] = [];
  const r = await fetchSources({
    build: 'GRCh38',
    dir: join(tmp, 'retry'),
    only: ['genes'],
    baseUrl: server.url,
    retry: fastRetry,
    say: (m) => said.push(m),
  });
  t.equal(server.count(path), 3);
  t.equal(r.sources[0]!.bytes, readFileSync(join(mirror, path)).length);
  t.equal(said.filter((m) => /HTTP 503; try \d of 4/.test(m)).length, 2);
});

t.test('a 404 is not retried', async (t) => {
  const url = `${server.url}/nowhere.example/missing.gz`;
  await t.rejects(downloadVerified({ url, dest: join(tmp, 'missing.gz'), retry: fastRetry }), /missing\.gz: HTTP 404/);
  t.equal(server.count('/nowhere.example/missing.gz'), 1);
});

t.test('a connection dropped halfway is resumed with a Range request and verified by the BSD sum', async (t) => {
  const path = pathOf(entry('GRCh38', 'ensembl-gtf').url);
  server.faults.set(path, ['truncate']);
  const dir = join(tmp, 'resume');
  const r = await fetchSources({ build: 'GRCh38', dir, only: ['ensembl-gtf'], baseUrl: server.url, retry: fastRetry });
  const served = readFileSync(join(mirror, path));
  const tries = server.requests.filter((q) => q.path === path);
  t.equal(tries.length, 2);
  t.equal(tries[0]!.range, undefined);
  const resumedAt = Number(/^bytes=(\d+)-$/.exec(tries[1]!.range ?? '')?.[1]);
  t.ok(resumedAt > 0 && resumedAt <= served.length >> 1, `resumed at ${tries[1]!.range}`);
  sameBytes(t, readFileSync(join(dir, 'Homo_sapiens.GRCh38.113.gtf.gz')), served, 'the resumed file is the served one');
  t.equal(r.sources[0]!.checksum.algorithm, 'bsd-sum');
});

t.test('an existing file that does not match is downloaded again; a .partial is resumed only when it is the same file', async (t) => {
  const dir = join(tmp, 'stale');
  mkdirSync(dir, { recursive: true });
  const path = pathOf(entry('GRCh37', 'fasta-ucsc').url);
  writeFileSync(join(dir, 'hg19.fa.gz'), 'an old, different file');
  const url = `${server.url}${path}`;
  const served = readFileSync(join(mirror, path));
  const expected = { algorithm: 'md5' as const, hex: md5(served), from: 'test' };
  writeFileSync(join(dir, 'x.gz.partial'), served.subarray(0, 100));
  writeFileSync(join(dir, 'x.gz.partial.json'), JSON.stringify({ url: `${url}?other`, validator: '"x"' }));
  const n = server.count(path);
  const a = await downloadVerified({ url, dest: join(dir, 'hg19.fa.gz'), expected, retry: fastRetry });
  t.equal(a.action, 'downloaded');
  const b = await downloadVerified({ url, dest: join(dir, 'x.gz'), expected, retry: fastRetry });
  t.equal(b.action, 'downloaded');
  const tries = server.requests.filter((q) => q.path === path).slice(n);
  t.strictSame(
    tries.map((q) => q.range),
    [undefined, undefined],
  );
  sameBytes(t, readFileSync(join(dir, 'x.gz')), served, 'x.gz is the served file');
  const c = await downloadVerified({ url, dest: join(dir, 'x.gz'), expected, retry: fastRetry });
  t.equal(c.action, 'present');

  // A .partial of the right URL and version whose bytes are wrong: resumed, found wrong by the md5,
  // then downloaded once more from the first byte.
  writeFileSync(join(dir, 'y.gz.partial'), Buffer.alloc(100, 0x41));
  writeFileSync(join(dir, 'y.gz.partial.json'), JSON.stringify({ url, validator: `"${md5(served)}"` }));
  const said: string[] = [];
  const m = server.count(path);
  const d = await downloadVerified({
    url,
    dest: join(dir, 'y.gz'),
    expected,
    retry: fastRetry,
    say: (x) => said.push(x),
    progressIntervalMs: 0,
  });
  t.equal(d.action, 'downloaded');
  t.strictSame(
    server.requests
      .filter((q) => q.path === path)
      .slice(m)
      .map((q) => q.range),
    ['bytes=100-', undefined],
  );
  sameBytes(t, readFileSync(join(dir, 'y.gz')), served, 'y.gz is the served file');
  t.ok(
    said.some((x) => /checksum mismatch after resuming/.test(x)),
    said.join('\n'),
  );
  t.ok(
    said.some((x) => /^y\.gz: [\d.]+ KiB of [\d.]+ KiB \(\d+%\), /.test(x)),
    said.join('\n'),
  );
});

t.test('dbSNP preparation: subsets, COMMON in both spellings, and a file of the other build refused', async (t) => {
  const src = join(tmp, 'dbsnp-src.gz');
  writeFileSync(src, dbsnpFixture);
  const all = await prepareDbSnp({ src, dest: join(tmp, 'all.vcf.gz'), build: 'GRCh37', subset: 'all' });
  t.equal(all.records, 142);
  t.equal(all.dropped, 3);
  const text = gunzipSync(readFileSync(join(tmp, 'all.vcf.gz'))).toString('latin1');
  t.match(text, /^##fileformat=VCFv4\.0\n/);
  t.match(text, /\n1\t10019\trs775809821\tTA\tT\t\.\t\.\t\.\n/);
  t.notMatch(text, /NC_000001|NT_113878/);
  await t.rejects(prepareDbSnp({ src, dest: join(tmp, 'x.vcf.gz'), build: 'GRCh38', subset: 'all' }), /NC_000001\.10 belongs to GRCh37/);
  t.equal(existsSync(join(tmp, 'x.vcf.gz.partial')), false);
  const info = (s: string) => isCommon(Buffer.from(s), 0, s.length);
  t.equal(info('RS=1;COMMON'), true);
  t.equal(info('COMMON;RS=1'), true);
  t.equal(info('RS=1;COMMON=1'), true);
  t.equal(info('RS=1;COMMON=0'), false);
  t.equal(info('RS=1;COMMON=0;VC=SNV'), false);
  t.equal(info('RS=1;NOTCOMMON;XCOMMON=1'), false);
});

t.test('the CLI: fetch-sources --list, and a fetch with --build-db through --base-url', async (t) => {
  const cli = resolve(repoRoot(), 'packages/anntools/src/cli.ts');
  const list = await run(process.execPath, ['--import', 'tsx', cli, 'fetch-sources', '--list', '--build', 'GRCh38']);
  t.match(
    list.stdout,
    /GRCh38 dbsnp \(default for dbsnp\).*\n\s+url:\s+https:\/\/ftp\.ncbi\.nih\.gov\/snp\/latest_release\/VCF\/GCF_000001405\.40\.gz/,
  );
  t.match(
    list.stdout,
    /ensembl-gtf.*\n\s+url:\s+https:\/\/ftp\.ensembl\.org\/pub\/release-113\/gtf\/homo_sapiens\/Homo_sapiens\.GRCh38\.113\.gtf\.gz/,
  );
  const dir = join(tmp, 'cli');
  const out = join(tmp, 'cli', 'GRCh37.gasref');
  const r = await run(process.execPath, [
    '--import',
    'tsx',
    cli,
    'fetch-sources',
    '--build',
    'GRCh37',
    '--dir',
    dir,
    '--only',
    'genes',
    '--build-db',
    out,
    '--base-url',
    server.url,
  ]);
  t.match(r.stdout, /hg19\.refFlat\.txt\.gz: .*no published checksum/);
  t.match(r.stdout, new RegExp(`GRCh37, ${REFFLAT_LINES} transcripts`));
  t.match(r.stderr, /gas-annotate: refflat: UCSC refFlat for hg19/);
  const bad = await run(process.execPath, ['--import', 'tsx', cli, 'fetch-sources', '--build', 'hg19', '--dir', dir]).catch(
    (e: { code: number; stderr: string }) => e,
  );
  t.equal((bad as { code: number }).code, 2);
  t.match((bad as { stderr: string }).stderr, /--build must be GRCh37 or GRCh38/);
});
